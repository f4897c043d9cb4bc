//! Runs the chosen scenarios in order (baseline first, then Flagent on one seeded server, then the
//! tenants at scale on a fresh one; the ingestion and results scenarios each on a server of their
//! own) and checks the targets of `docs/benchmarks.md`.

use crate::http::Conn;
use crate::load::Load;
use crate::report::{self, Report, Row};
use crate::scenarios::Bench;
use crate::server::{MANAGEMENT_KEY, Server, scratch_dir};
use crate::{Command, Options, seed, sse, tenants};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::time::Duration;

/// 512 MiB, the memory targets.
const MEMORY_TARGET_MIB: f64 = 512.0;

/// The flagent binary: `--server-bin`, else `flagent` next to this program.
pub(crate) fn server_bin(options: &Options) -> Result<PathBuf> {
    let bin = match &options.server_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program's folder")?
            .join("flagent"),
    };
    if !bin.exists() {
        bail!(
            "{} does not exist: build it (cargo build --release -p flagent-server) or pass --server-bin",
            bin.display()
        );
    }
    Ok(bin)
}

/// Runs `command`'s scenarios.
pub(crate) async fn run(command: Command, o: Options, workers: usize) -> Result<Report> {
    let mut report = Report {
        machine: report::machine(),
        ..Report::default()
    };
    report
        .machine
        .insert("server workers".into(), workers.to_string());
    let bench = Bench {
        load: Load {
            connections: o.connections,
            warmup: Duration::from_secs(o.warmup),
            duration: Duration::from_secs(o.duration),
        },
        open_connections: o.open_connections,
        flags: o.flags.max(1),
    };
    let all = command == Command::All;
    let mut baseline_max = None;
    if all || command == Command::Baseline {
        baseline_max = Some(baseline(&mut report, &bench, &o, workers).await?);
    }
    match command {
        Command::Ingest => crate::ingest::ingest(&mut report, &bench, &o, workers).await?,
        Command::IngestOverload => {
            crate::ingest::overload(&mut report, &bench, &o, workers).await?
        }
        Command::ResultsScale => crate::results::scale(&mut report, &o, workers).await?,
        _ => {}
    }
    let uses_flagent = !matches!(
        command,
        Command::Baseline
            | Command::TenantsScale
            | Command::UiPages
            | Command::Ingest
            | Command::IngestOverload
            | Command::ResultsScale
    );
    if uses_flagent {
        flagent(&mut report, &bench, &o, command, workers, baseline_max).await?;
    }
    if all || command == Command::UiPages {
        let bin = server_bin(&o)?;
        crate::pages::pages(&mut report, &bin, workers, o.ui_flags).await?;
    }
    if all || command == Command::TenantsScale {
        let bin = server_bin(&o)?;
        tenants::scale(&mut report, &bin, workers, o.tenants, o.flags_per_tenant).await?;
        let peak = report
            .rows
            .iter()
            .filter(|r| r.scenario == "tenants-scale")
            .filter_map(|r| r.rss.map(|m| m.rss_mib))
            .fold(0.0, f64::max);
        let target = format!(
            "{} tenants x {} flags under 512 MiB RSS",
            o.tenants, o.flags_per_tenant
        );
        report.check(&target, format!("{peak:.1} MiB"), peak < MEMORY_TARGET_MIB);
    }
    report.machine.insert(
        "load average at end".into(),
        format!("{:.2}", report::load_average()),
    );
    Ok(report)
}

/// The baseline's maximum throughput and its latency at half of it; returns the maximum.
async fn baseline(report: &mut Report, bench: &Bench, o: &Options, workers: usize) -> Result<f64> {
    let dir = scratch_dir("baseline")?;
    let server = Server::baseline(&dir, workers).await?;
    let max = bench
        .closed(report, &server, "baseline", "baseline")
        .await?;
    let rate = o.rate.unwrap_or(max / 2.0);
    let sample = bench.open(&server, "baseline", rate).await?;
    let label = format!("open, {rate:.0}/s, {} conn", bench.open_connections);
    report.push(Row::of("baseline", "baseline", label, &sample).with_rss(server.rss().ok()));
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(max)
}

/// Every Flagent scenario `command` asks for, on one seeded server.
async fn flagent(
    report: &mut Report,
    bench: &Bench,
    o: &Options,
    command: Command,
    workers: usize,
    baseline_max: Option<f64>,
) -> Result<()> {
    let all = command == Command::All;
    let dir = scratch_dir("flagent")?;
    let server = Server::flagent(&server_bin(o)?, &dir, workers).await?;
    seed::import_flags(
        &mut Conn::open(server.addr).await?,
        MANAGEMENT_KEY,
        bench.flags,
    )
    .await?;
    let mut max = None;
    if all || matches!(command, Command::EvalSingle | Command::Mixed) && o.rate.is_none() {
        max = Some(
            bench
                .closed(report, &server, "eval-single", "flagent")
                .await?,
        );
    }
    if let (Some(max), Some(base)) = (max, baseline_max) {
        let ratio = max / base;
        let measured = format!("{max:.0} / {base:.0} req/s = {:.0}%", ratio * 100.0);
        report.check(
            "single evaluation >= 70% of the baseline's throughput",
            measured,
            ratio >= 0.7,
        );
    }
    let rate = o.rate.or(max.map(|m| m / 2.0)).unwrap_or(1000.0);
    if all || command == Command::EvalSingle {
        let sample = bench.open(&server, "eval-single", rate).await?;
        let label = format!("open, {rate:.0}/s, {} conn", bench.open_connections);
        let row = Row::of("eval-single", "flagent", label, &sample).with_rss(server.rss().ok());
        let measured = format!("p99 {:.3} ms at {rate:.0}/s", row.p99_ms);
        report.check(
            "p99 <= 2 ms at half of the maximum rate",
            measured,
            row.p99_ms <= 2.0,
        );
        report.push(row);
    }
    if all {
        bench.closed(report, &server, "info", "flagent").await?;
    }
    for (scenario, name) in [
        (Command::EvalBatch, "eval-batch"),
        (Command::OfrepSingle, "ofrep-single"),
        (Command::OfrepBulk, "ofrep-bulk"),
    ] {
        if all || command == scenario {
            bench.closed(report, &server, name, "flagent").await?;
        }
    }
    if all || command == Command::Mixed {
        bench.mixed(report, &server, rate, o.write_rate).await?;
    }
    if command == Command::SigninBurst {
        let rate = o.rate.unwrap_or(2000.0);
        crate::signin::burst(report, bench, &server, rate, o.signin_rate).await?;
    }
    if all || command == Command::SseFanout {
        fanout(report, &server, o.streams).await?;
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The fan-out, and its memory target when every stream opened.
async fn fanout(report: &mut Report, server: &Server, streams: usize) -> Result<()> {
    let ids = seed::flag_ids(&mut Conn::open(server.addr).await?, MANAGEMENT_KEY).await?;
    let id = *ids
        .get(&seed::flag_key(0))
        .context("the first seeded flag")?;
    sse::fanout(report, server, streams, id).await?;
    let idle = report
        .rows
        .iter()
        .rev()
        .find(|r| r.scenario == "sse-fanout" && r.load == "idle streams");
    if let Some(row) = idle
        && let Some(rss) = row.rss
    {
        let target = format!("{streams} open SSE streams under 512 MiB RSS");
        let measured = format!("{:.1} MiB ({})", rss.rss_mib, row.note);
        let met = rss.rss_mib < MEMORY_TARGET_MIB && row.note.starts_with(&format!("{streams} of"));
        report.check(&target, measured, met);
    }
    Ok(())
}
