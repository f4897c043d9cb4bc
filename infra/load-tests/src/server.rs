//! The servers under test as child processes: Flagent on a fresh SQLite database in a temporary folder
//! (or on an empty database the caller names), or the baseline (this binary's hidden `baseline-server` command), and their memory as the kernel
//! reports it (`VmRSS`, `VmHWM` in `/proc/<pid>/status`).
//!
//! Invariant: a child is killed when its `Server` is dropped, so no run leaves a server behind.

use crate::http::{Call, Conn};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The management key the first start creates (chosen, so it need not be read from the console).
pub(crate) const MANAGEMENT_KEY: &str = "flg_mgmt_loadtest_0123456789abcdef";
/// The evaluation key (production) the first start creates.
pub(crate) const EVALUATION_KEY: &str = "flg_eval_loadtest_0123456789abcdef";
/// The owner account's email and password.
pub(crate) const OWNER: (&str, &str) = ("admin@localhost", "load-test owner passphrase");

/// A server's resident memory, in MiB.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Rss {
    /// `VmRSS`: resident now.
    pub(crate) rss_mib: f64,
    /// `VmHWM`: the most it was resident.
    pub(crate) hwm_mib: f64,
}

/// A running server.
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    log: PathBuf,
}

/// A free local port (bound and released; nothing else on this machine is expected to take it).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    /// Starts Flagent (`bin`) with its database and log in `dir` and waits until it answers.
    pub(crate) async fn flagent(bin: &Path, dir: &Path, workers: usize) -> Result<Server> {
        Server::flagent_with(bin, dir, workers, None, &[]).await
    }

    /// Starts Flagent (`bin`) with its log in `dir`, on `database_url` (an empty database; a fresh
    /// SQLite file in `dir` when `None`) and with the settings `env` (`FLAGENT_SECTION__KEY`, value).
    pub(crate) async fn flagent_with(
        bin: &Path,
        dir: &Path,
        workers: usize,
        database_url: Option<&str>,
        env: &[(&str, String)],
    ) -> Result<Server> {
        let port = free_port()?;
        let database_url = database_url.map_or_else(
            || format!("sqlite://{}?mode=rwc", dir.join("flagent.db").display()),
            str::to_owned,
        );
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .current_dir(dir)
            .env("DATABASE_URL", database_url)
            .env("FLAGENT_SERVER__HOST", "127.0.0.1")
            .env("FLAGENT_SERVER__PORT", port.to_string())
            .env("FLAGENT_SERVER__WORKERS", workers.to_string())
            .env("FLAGENT_BOOTSTRAP__MANAGEMENT_KEY", MANAGEMENT_KEY)
            .env("FLAGENT_BOOTSTRAP__EVALUATION_KEY", EVALUATION_KEY)
            .env("FLAGENT_BOOTSTRAP__ADMIN_EMAIL", OWNER.0)
            .env("FLAGENT_ADMIN_PASSWORD", OWNER.1)
            .env("FLAGENT_AUTH__SIGNUP_ENABLED", "false")
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(name, value)| (name, value)));
        Server::start(command, port, &dir.join("flagent.log"), "/api/v1/health").await
    }

    /// Starts the baseline endpoint (this binary) with its log in `dir` and waits until it answers.
    pub(crate) async fn baseline(dir: &Path, workers: usize) -> Result<Server> {
        let port = free_port()?;
        let mut command = Command::new(std::env::current_exe()?);
        command.args([
            "baseline-server",
            "--port",
            &port.to_string(),
            "--workers",
            &workers.to_string(),
        ]);
        Server::start(command, port, &dir.join("baseline.log"), "/health").await
    }

    async fn start(mut command: Command, port: u16, log: &Path, ready: &str) -> Result<Server> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("start {command:?}"))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log: log.to_owned(),
        };
        server.wait_ready(ready).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, path: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}); its log:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(mut conn) = Conn::open(self.addr).await
                && conn.ok(&Call::get(path)).await.is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the server did not answer in 120 s; its log:\n{}",
            self.log_tail()
        )
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().rev().take(30).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Its resident memory now and at most.
    pub(crate) fn rss(&self) -> Result<Rss> {
        rss_of(self.child.id())
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its soft limit of open files.
    pub(crate) fn open_files_limit(&self) -> Option<u64> {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }

    /// Stops it: `SIGTERM`, then `SIGKILL` after 10 s.
    pub(crate) fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The resident memory of process `pid`, now and at most.
pub(crate) fn rss_of(pid: u32) -> Result<Rss> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    Ok(Rss {
        rss_mib: field("VmRSS:"),
        hwm_mib: field("VmHWM:"),
    })
}

/// A fresh temporary folder for one server's database and log.
pub(crate) fn scratch_dir(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("flagent-load-{}-{name}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
