//! Durability of event ingestion across a killed process: the real `flagent` binary takes concurrent
//! batches of events, is killed with `SIGKILL` while more are in flight, and is started again on the
//! same database (SQLite by default; PostgreSQL or MariaDB when `DATABASE_URL` names one, a fresh
//! database per test). Every batch answered `202` must be stored whole, and no batch partly.
//!
//! Invariant: each event carries a value unique to its batch and position, so the stored rows are
//! matched to the requests one by one rather than only counted.

use flagent_storage::Db;
use flagent_testkit::{TestDb, system};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The evaluation key (production) the first start creates.
const EVALUATION_KEY: &str = "flg_eval_durability_0123456789abcdef";
/// Events per request.
const BATCH: u64 = 100;
/// Requests sent together before the kill, all of which must be acknowledged.
const FIRST_WAVE: u64 = 12;
/// Senders that keep posting batches until the process is killed under them.
const SENDERS: u64 = 8;
/// Batches acknowledged in the second wave before the kill.
const ACKS_BEFORE_KILL: u64 = 40;
/// How long a start may take before the test fails.
const START_PATIENCE: Duration = Duration::from_secs(120);

/// A `flagent serve` child process and where it listens.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Server {
    /// Starts the binary on `database_url` with its log in `dir`, and waits until `/health` answers.
    async fn start(database_url: &str, dir: &Path, client: &reqwest::Client) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join(format!("flagent-{port}.log"));
        let out = std::fs::File::create(&log).expect("create the log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_flagent"));
        for (name, _) in std::env::vars() {
            if name.starts_with("FLAGENT_") {
                command.env_remove(name);
            }
        }
        let child = command
            .arg("serve")
            .current_dir(dir)
            .env("DATABASE_URL", database_url)
            .env("FLAGENT_SERVER__HOST", "127.0.0.1")
            .env("FLAGENT_SERVER__PORT", port.to_string())
            .env("FLAGENT_SERVER__WORKERS", "2")
            .env("FLAGENT_BOOTSTRAP__EVALUATION_KEY", EVALUATION_KEY)
            .env("FLAGENT_ADMIN_PASSWORD", "durability test owner passphrase")
            .env("FLAGENT_AUTH__SIGNUP_ENABLED", "false")
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("start flagent");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready(client).await;
        server
    }

    /// Polls `/health` until it answers 200 with the database up, within the patience; a failure,
    /// never a pause.
    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                panic!("flagent exited ({status}); its log:\n{}", self.log_text());
            }
            let health = client.get(format!("{}/health", self.base)).send().await;
            if let Ok(answer) = health
                && answer.status() == 200
                && answer
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|b| b["database"] == "up")
                    == Some(true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "flagent did not answer /health within {START_PATIENCE:?}; its log:\n{}",
                self.log_text()
            );
            tokio::task::yield_now().await;
        }
    }

    /// Kills the process with `SIGKILL` (no shutdown runs) and reaps it.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL flagent");
        self.child.wait().expect("reap flagent");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// The value of event `i` of batch `batch`: unique across the test, exact as a float.
fn value_of(batch: u64, i: u64) -> f64 {
    (batch * BATCH + i) as f64
}

/// The body of batch `batch`.
fn batch_body(batch: u64) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    let events: Vec<Value> = (0..BATCH)
        .map(|i| {
            json!({
                "key": "durability",
                "entityID": format!("user-{}", (batch * BATCH + i) % 5_000),
                "timestamp": now,
                "value": value_of(batch, i),
            })
        })
        .collect();
    json!({ "events": events })
}

/// What the senders saw: every batch sent and the ones answered `202` with all events accepted.
#[derive(Default)]
struct Ledger {
    sent: BTreeSet<u64>,
    acknowledged: BTreeSet<u64>,
}

/// Posts batch `batch`; `Some(status)` when an answer came, `None` when the connection failed.
async fn post_batch(
    client: &reqwest::Client,
    base: &str,
    batch: u64,
    ledger: &Mutex<Ledger>,
) -> Option<u16> {
    ledger.lock().unwrap().sent.insert(batch);
    let answer = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(EVALUATION_KEY)
        .json(&batch_body(batch))
        .send()
        .await
        .ok()?;
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.ok()?;
    if status == 202 {
        assert_eq!(body["accepted"], BATCH, "batch {batch}: {body}");
        assert_eq!(body["rejected"], json!([]), "batch {batch}: {body}");
        ledger.lock().unwrap().acknowledged.insert(batch);
    }
    Some(status)
}

/// Every stored event's value, with how many rows hold it.
async fn stored_values(database_url: &str) -> BTreeMap<u64, u32> {
    let db = Db::connect(database_url, 1).await.expect("connect");
    let group = db
        .begin_system_group(&system("durability test reads the events"))
        .await
        .expect("begin");
    let mut values = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = group.events_after(after, 5_000).await.expect("read events");
        let Some(last) = page.last() else { break };
        after = last.id;
        for event in &page {
            assert_eq!(event.event_key, "durability");
            let value = event.value.expect("every event has a value");
            assert_eq!(value.fract(), 0.0, "value {value}");
            *values.entry(value as u64).or_default() += 1;
        }
    }
    drop(group);
    db.close().await.expect("close");
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_acknowledged_before_a_sigkill_are_stored_after_the_restart() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a folder for the logs");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut server = Server::start(db.url(), dir.path(), &client).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    // First wave: concurrent batches, each answered 202 once committed.
    let mut wave = tokio::task::JoinSet::new();
    for batch in 0..FIRST_WAVE {
        let (client, base, ledger) = (client.clone(), server.base.clone(), ledger.clone());
        wave.spawn(async move { post_batch(&client, &base, batch, &ledger).await });
    }
    for status in wave.join_all().await {
        assert_eq!(status, Some(202));
    }

    // Second wave: senders post back to back; the process is killed while they do.
    let next = Arc::new(AtomicU64::new(FIRST_WAVE));
    let acks = Arc::new(AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (client, base, ledger) = (client.clone(), server.base.clone(), ledger.clone());
        let (next, acks) = (next.clone(), acks.clone());
        senders.spawn(async move {
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed);
                match post_batch(&client, &base, batch, &ledger).await {
                    Some(202) => acks.fetch_add(1, Ordering::Relaxed),
                    Some(status) => panic!("batch {batch} answered {status} before the kill"),
                    None => return,
                };
            }
        });
    }
    let deadline = Instant::now() + START_PATIENCE;
    while acks.load(Ordering::Relaxed) < ACKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "the second wave was not acknowledged"
        );
        tokio::task::yield_now().await;
    }
    server.kill();
    senders.join_all().await;
    let (sent, acknowledged) = {
        let ledger = ledger.lock().unwrap();
        (ledger.sent.clone(), ledger.acknowledged.clone())
    };
    let in_flight: Vec<u64> = sent.difference(&acknowledged).copied().collect();
    assert!(
        !in_flight.is_empty(),
        "the kill left no request unanswered, so it tested nothing"
    );

    // The restarted server recovers on the same database and takes events again.
    let server = Server::start(db.url(), dir.path(), &client).await;
    let after_restart = next.fetch_add(1, Ordering::Relaxed);
    let status = post_batch(&client, &server.base, after_restart, &ledger).await;
    assert_eq!(status, Some(202), "after the restart");

    let stored = stored_values(db.url()).await;
    let batches = sent.iter().copied().chain([after_restart]);
    let mut stored_batches = 0;
    for batch in batches {
        let held: Vec<u32> = (0..BATCH)
            .map(|i| {
                stored
                    .get(&(value_of(batch, 0) as u64 + i))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        assert!(held.iter().all(|&n| n <= 1), "batch {batch} stored twice");
        let rows: u32 = held.iter().sum();
        let must = acknowledged.contains(&batch) || batch == after_restart;
        if must {
            assert_eq!(rows as u64, BATCH, "acknowledged batch {batch} lost events");
        } else {
            assert!(
                rows == 0 || rows as u64 == BATCH,
                "unacknowledged batch {batch} stored in part ({rows} of {BATCH})"
            );
        }
        stored_batches += u64::from(rows > 0);
    }
    let stored_rows: u64 = stored.values().map(|&n| u64::from(n)).sum();
    assert_eq!(
        stored_rows,
        stored_batches * BATCH,
        "rows stored that no batch sent"
    );
    eprintln!(
        "durability: {} batches sent, {} acknowledged before the kill, {} unanswered at the kill \
         ({} of them stored anyway), {stored_batches} stored",
        sent.len(),
        acknowledged.len(),
        in_flight.len(),
        stored_batches - acknowledged.len() as u64 - 1,
    );
    drop(server);
}
