//! The ingestion scenarios. `ingest` posts batches of events (`POST /api/v1/events`) back to back on
//! `--ingest-connections` connections while single evaluations run at a fixed rate, beside the same
//! rate's evaluations alone on the same server in the same run. `ingest-overload` gives the server a
//! small ingest queue (`analytics.queue_bytes`), sends more than it holds on `--connections`
//! connections, counts the `429` answers and samples the server's resident memory throughout.
//!
//! Invariant: an event counts as ingested only when its request was answered `202`, which the server
//! sends only after the transaction holding the batch committed.

use crate::http::{Call, Conn};
use crate::load::{self, Load, Sample};
use crate::report::{Report, Row};
use crate::run::server_bin;
use crate::scenarios::{Bench, sanity};
use crate::server::{EVALUATION_KEY, MANAGEMENT_KEY, Server, rss_of, scratch_dir};
use crate::{Options, seed};
use anyhow::{Result, bail};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Distinct request bodies the ingest load cycles through.
const BODIES: usize = 256;
/// Distinct entities the events name.
const ENTITIES: usize = 100_000;
/// The target of `ingest`, events per second.
const EVENTS_TARGET: f64 = 50_000.0;
/// The target of `ingest`: evaluation p99 during ingestion, in milliseconds.
const P99_TARGET_MS: f64 = 1.0;
/// How often `ingest-overload` reads the server's memory.
const RSS_EVERY: Duration = Duration::from_millis(250);

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_millis() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The ingest requests: [`BODIES`] batches of `batch` purchase events, of entities spread over
/// [`ENTITIES`], each with a value and one property.
fn event_calls(batch: usize) -> Arc<Vec<Call>> {
    let now = now_millis();
    let body = |b: usize| {
        let events: Vec<Value> = (0..batch)
            .map(|i| {
                let n = (b * batch + i) % ENTITIES;
                json!({
                    "key": "purchase",
                    "entityID": format!("user-{n}"),
                    "timestamp": now,
                    "value": (n % 100) as f64 + 0.5,
                    "properties": {"plan": "pro"},
                })
            })
            .collect();
        Call::post("/api/v1/events", &json!({ "events": events })).bearer(EVALUATION_KEY)
    };
    Arc::new((0..BODIES).map(body).collect())
}

/// Checks that one batch is answered `202` with every event accepted.
async fn check_batch(server: &Server, call: &Call, batch: usize) -> Result<()> {
    let (status, body) = Conn::open(server.addr).await?.json(call).await?;
    if status != 202 || body["accepted"].as_u64() != Some(batch as u64) {
        bail!("POST /api/v1/events answered {status}: {body:.300}");
    }
    Ok(())
}

/// Requests answered 2xx.
fn acknowledged(sample: &Sample) -> u64 {
    sample.requests - sample.errors.values().sum::<u64>()
}

/// Which database the server runs on, for the report.
fn backend(o: &Options) -> &'static str {
    match o.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => "PostgreSQL",
        Some(url) if url.starts_with("mysql") => "MariaDB/MySQL",
        _ => "SQLite",
    }
}

/// `ingest`: events per second acknowledged, and evaluation's p99 at `--rate` with and without it.
pub(crate) async fn ingest(
    report: &mut Report,
    bench: &Bench,
    o: &Options,
    workers: usize,
) -> Result<()> {
    let dir = scratch_dir("ingest")?;
    let bin = server_bin(o)?;
    let server = Server::flagent_with(&bin, &dir, workers, o.database_url.as_deref(), &[]).await?;
    let mut conn = Conn::open(server.addr).await?;
    seed::import_flags(&mut conn, MANAGEMENT_KEY, bench.flags).await?;
    sanity(&server, "eval-single", bench.flags).await?;
    let calls = event_calls(o.batch);
    check_batch(&server, &calls[0], o.batch).await?;
    let db = backend(o);
    let rate = o.rate.unwrap_or(2000.0);
    let label = format!("open, {rate:.0}/s, {} conn", bench.open_connections);
    let alone = bench.open(&server, "eval-single", rate).await?;
    let alone = Row::of("ingest", "flagent", label.clone(), &alone)
        .note(format!("evaluations, no ingestion ({db})"));
    report.push(alone.clone());
    let ingest_load = Load {
        connections: o.ingest_connections,
        ..bench.load
    };
    let (events, during) = tokio::join!(
        load::closed(server.addr, calls, ingest_load),
        bench.open(&server, "eval-single", rate)
    );
    let (events, during) = (events?, during?);
    let per_second = (acknowledged(&events) * o.batch as u64) as f64 / events.seconds;
    let during = Row::of("ingest", "flagent", label, &during)
        .note(format!("evaluations, during ingestion ({db})"));
    let ratio = during.p99_ms / alone.p99_ms.max(0.001);
    report.push(during.clone());
    let note = format!(
        "POST /api/v1/events, {} events per request: {per_second:.0} events/s acknowledged ({db})",
        o.batch
    );
    let label = format!("closed, {} conn", o.ingest_connections);
    let row = Row::of("ingest", "flagent", label, &events).with_rss(server.rss().ok());
    report.push(row.note(note));
    report.check(
        &format!(
            "ingestion >= {EVENTS_TARGET:.0} events/s, batches of {}",
            o.batch
        ),
        format!("{per_second:.0} events/s on {db}"),
        per_second >= EVENTS_TARGET,
    );
    report.check(
        &format!("evaluation p99 < {P99_TARGET_MS} ms at {rate:.0}/s during ingestion"),
        format!(
            "p99 {:.3} ms during, {:.3} ms alone: {ratio:.2}x",
            during.p99_ms, alone.p99_ms
        ),
        during.p99_ms < P99_TARGET_MS,
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The server's resident memory (MiB) every [`RSS_EVERY`] for `span`, with the seconds since the start.
async fn sample_rss(pid: u32, span: Duration) -> Result<Vec<(f64, f64)>> {
    let start = Instant::now();
    let mut tick = tokio::time::interval(RSS_EVERY);
    let mut samples = Vec::new();
    while start.elapsed() < span {
        tick.tick().await;
        samples.push((start.elapsed().as_secs_f64(), rss_of(pid)?.rss_mib));
    }
    Ok(samples)
}

/// The largest and the mean sample taken from `from` to `to` seconds.
fn span_of(samples: &[(f64, f64)], from: f64, to: f64) -> (f64, f64) {
    let inside: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .map(|(_, rss)| *rss)
        .collect();
    let mean = inside.iter().sum::<f64>() / inside.len().max(1) as f64;
    (inside.iter().copied().fold(0.0, f64::max), mean)
}

/// `ingest-overload`: a queue of `--queue-bytes`, more than it holds, the 429s and the memory.
pub(crate) async fn overload(
    report: &mut Report,
    bench: &Bench,
    o: &Options,
    workers: usize,
) -> Result<()> {
    let dir = scratch_dir("ingest-overload")?;
    let bin = server_bin(o)?;
    let env = [("FLAGENT_ANALYTICS__QUEUE_BYTES", o.queue_bytes.to_string())];
    let database = o.database_url.as_deref();
    let server = Server::flagent_with(&bin, &dir, workers, database, &env).await?;
    let calls = event_calls(o.batch);
    check_batch(&server, &calls[0], o.batch).await?;
    let before = server.rss()?;
    let span = bench.load.warmup + bench.load.duration;
    let sampler = tokio::spawn(sample_rss(server.pid(), span));
    let sample = load::closed(server.addr, calls, bench.load).await?;
    let samples = sampler.await??;
    let after = server.rss()?;
    let refused = sample.errors.get("HTTP 429").copied().unwrap_or(0);
    let acked = acknowledged(&sample);
    let (warmup, end) = (bench.load.warmup.as_secs_f64(), span.as_secs_f64());
    let middle = (warmup + end) / 2.0;
    let (first, first_mean) = span_of(&samples, warmup, middle);
    let (second, second_mean) = span_of(&samples, middle, end);
    let trail: Vec<String> = samples
        .iter()
        .step_by(4)
        .map(|(_, rss)| format!("{rss:.0}"))
        .collect();
    let note = format!(
        "{} KiB queue, {} events per request: {acked} acknowledged ({:.0} events/s), {refused} \
         answered 429 ({db}); RSS {:.1} MiB before; RSS each second (MiB): {}",
        o.queue_bytes / 1024,
        o.batch,
        (acked * o.batch as u64) as f64 / sample.seconds,
        before.rss_mib,
        trail.join(" "),
        db = backend(o),
    );
    let label = format!("closed, {} conn", bench.load.connections);
    let row = Row::of("ingest-overload", "flagent", label, &sample).with_rss(Some(after));
    report.push(row.note(note));
    report.check(
        "memory bounded under an ingest overload (the second half's mean RSS within 10% of the first's)",
        format!(
            "RSS {:.1} MiB before; first half mean {first_mean:.1}, at most {first:.1} MiB; second \
             half mean {second_mean:.1}, at most {second:.1} MiB; {:.1} MiB after (peak {:.1}); \
             {refused} answered 429",
            before.rss_mib, after.rss_mib, after.hwm_mib
        ),
        refused > 0 && second_mean <= first_mean * 1.1,
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
