//! The `results-scale` scenario: one flag with three variants and five metrics, `--entities` entities
//! exposed through `POST /api/v1/exposures` and `--events` events sent through `POST /api/v1/events`
//! (both timed), the server's own `analytics-rollup` job left to catch up (with
//! `analytics.rollup_horizon_ms` = 0), then `GET /api/v1/flags/{id}/results` timed one request at a
//! time on one loopback connection, after its figures were checked against the seeded data.
//!
//! Invariant: every seeded event falls inside its metric's window after its entity's exposure, so the
//! results must account for all of them; the timing starts only once they do.

use crate::Options;
use crate::http::{Call, Conn};
use crate::ingest::now_millis;
use crate::load::Sample;
use crate::report::{Report, Row};
use crate::run::server_bin;
use crate::seed::flag_ids;
use crate::server::{EVALUATION_KEY, MANAGEMENT_KEY, Server, scratch_dir};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The experiment's flag.
const FLAG: &str = "checkout-experiment";
/// Its variants, the control first; entity `n` is exposed to `VARIANTS[n % 3]`.
const VARIANTS: [&str; 3] = ["control", "treatment-a", "treatment-b"];
/// Items per seeding request (the most a request may carry).
const PER_REQUEST: usize = 1_000;
/// Connections seeding at once.
const SENDERS: usize = 8;
/// Results requests timed, after one untimed.
const SAMPLES: usize = 50;
/// The target: results in under a second.
const TARGET: Duration = Duration::from_secs(1);
/// How long the rollup may take to account for every event.
const ROLLUP_PATIENCE: Duration = Duration::from_secs(3600);
/// Time of the exposures, before now.
const EXPOSED_AGO_MS: i64 = 3 * 3_600_000;

/// Builds the body of seeding request `n`.
type Body = Arc<dyn Fn(usize) -> Value + Send + Sync>;

/// Whether entity `n` purchases (30% of the control, 32% and 34% of the treatments).
fn converts(n: usize) -> bool {
    n % 100 < 30 + 2 * (n % 3)
}

/// Event `e` of `entities`: its entity, key and value. Each entity's events cycle through five page
/// views, three latencies and two purchases (page views for entities that do not purchase).
fn event(e: usize, entities: usize) -> (usize, &'static str, Option<f64>) {
    let n = e % entities;
    match (e / entities) % 10 {
        0..=4 => (n, "pageview", None),
        j @ 5..=7 => (n, "latency", Some(80.0 + ((n * 7 + j * 13) % 240) as f64)),
        _ if converts(n) => (n, "purchase", Some(20.0 + (n % 50) as f64)),
        _ => (n, "pageview", None),
    }
}

/// What the results must show: exposed and purchasing entities per variant, and page views in all.
struct Expected {
    exposed: [u64; 3],
    converted: [u64; 3],
    pageviews: u64,
}

fn expected(events: usize, entities: usize) -> Expected {
    let mut bought = vec![false; entities];
    let mut pageviews = 0;
    for e in 0..events {
        match event(e, entities) {
            (n, "purchase", _) => bought[n] = true,
            (_, "pageview", _) => pageviews += 1,
            _ => {}
        }
    }
    let mut x = Expected {
        exposed: [0; 3],
        converted: [0; 3],
        pageviews,
    };
    for (n, bought) in bought.iter().enumerate() {
        x.exposed[n % 3] += 1;
        x.converted[n % 3] += u64::from(*bought);
    }
    x
}

/// Imports the flag, defines the five metrics and the experiment; returns the flag's id.
async fn configure(conn: &mut Conn) -> Result<i64> {
    let split = [34, 33, 33];
    let distributions: Vec<Value> = VARIANTS
        .iter()
        .zip(split)
        .map(|(v, p)| json!({"variantKey": v, "percent": p}))
        .collect();
    let variants: Vec<Value> = VARIANTS.iter().map(|v| json!({ "key": v })).collect();
    let doc = json!({"flags": [{
        "key": FLAG, "description": "results at scale", "enabled": true, "variants": variants,
        "segments": [{"description": "everyone", "rolloutPercent": 100, "constraints": [],
                      "distributions": distributions}]
    }]});
    let import = Call::post("/api/v1/import", &doc).bearer(MANAGEMENT_KEY);
    conn.ok(&import.env("production")).await?;
    let metrics = [
        json!({"key": "purchase", "kind": "conversion", "event": "purchase"}),
        json!({"key": "pageviews", "kind": "count", "event": "pageview"}),
        json!({"key": "revenue", "kind": "sum", "event": "purchase"}),
        json!({"key": "revenue_per_pageview", "kind": "ratio", "numerator": "revenue",
               "denominator": "pageviews"}),
        json!({"key": "latency_p95", "kind": "quantile", "event": "latency", "quantile": 0.95,
               "direction": "decrease"}),
    ];
    for metric in &metrics {
        let call = Call::post("/api/v1/metrics", metric).bearer(MANAGEMENT_KEY);
        conn.ok(&call).await.context("define a metric")?;
    }
    let id = *flag_ids(conn, MANAGEMENT_KEY)
        .await?
        .get(FLAG)
        .context("the imported flag")?;
    let experiment = json!({
        "controlVariant": "control", "primaryMetric": "purchase",
        "secondaryMetrics": ["pageviews", "revenue", "revenue_per_pageview", "latency_p95"]
    });
    let path = format!("/api/v1/flags/{id}/experiment");
    let call = Call::new(hyper::Method::PUT, &path).json(&experiment);
    conn.ok(&call.bearer(MANAGEMENT_KEY)).await?;
    Ok(id)
}

/// Posts `requests` bodies to `path` on [`SENDERS`] connections, retrying a `429` after its pause;
/// every answer must accept the whole request. Times each request from its first sending.
async fn seed(
    addr: SocketAddr,
    path: &'static str,
    requests: usize,
    items: usize,
    body: Body,
) -> Result<Sample> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (next, body) = (next.clone(), body.clone());
        tasks.spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut sample = Sample::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return anyhow::Ok(sample);
                }
                let want = items.min(PER_REQUEST * (n + 1)) - PER_REQUEST * n;
                let call = Call::post(path, &body(n)).bearer(EVALUATION_KEY);
                let sent = Instant::now();
                loop {
                    let (status, answer) = conn.json(&call).await?;
                    if status == 202 && answer["accepted"].as_u64() == Some(want as u64) {
                        break;
                    }
                    if status != 429 {
                        bail!("POST {path} answered {status}: {answer:.300}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                sample.record(sent.elapsed(), Ok(202));
            }
        });
    }
    let mut total = Sample::new();
    while let Some(done) = tasks.join_next().await {
        let part = done??;
        total.latency.add(&part.latency)?;
        total.requests += part.requests;
    }
    total.seconds = start.elapsed().as_secs_f64();
    Ok(total)
}

/// The rows of `metric` in `results`, by variant key.
fn rows<'a>(results: &'a Value, metric: &str) -> Vec<&'a Value> {
    let found = results["metrics"].as_array().into_iter().flatten();
    found
        .filter(|m| m["metric"] == metric)
        .flat_map(|m| m["variants"].as_array().into_iter().flatten())
        .collect()
}

/// Whether `results` accounts for every seeded exposure and page view.
fn complete(results: &Value, x: &Expected) -> bool {
    let exposed: u64 = rows(results, "purchase")
        .iter()
        .filter_map(|r| r["exposed"].as_u64())
        .sum();
    let views: f64 = rows(results, "pageviews")
        .iter()
        .map(|r| r["value"].as_f64().unwrap_or(0.0) * r["exposed"].as_f64().unwrap_or(0.0))
        .sum();
    exposed == x.exposed.iter().sum::<u64>() && (views - x.pageviews as f64).abs() < 0.5
}

/// Checks each variant's exposures and conversion rate against the seeded data.
fn check(results: &Value, x: &Expected) -> Result<()> {
    for (i, variant) in VARIANTS.iter().enumerate() {
        let row = rows(results, "purchase")
            .into_iter()
            .find(|r| r["variant"] == *variant)
            .with_context(|| format!("no row of {variant}"))?;
        let rate = x.converted[i] as f64 / x.exposed[i] as f64;
        let value = row["value"].as_f64().unwrap_or(f64::NAN);
        if row["exposed"].as_u64() != Some(x.exposed[i]) || (value - rate).abs() > 1e-9 {
            bail!(
                "{variant}: expected {} exposed at {rate}, the results say {row}",
                x.exposed[i]
            );
        }
    }
    Ok(())
}

/// Seeds the experiment, waits for the rollup and times the results.
pub(crate) async fn scale(report: &mut Report, o: &Options, workers: usize) -> Result<()> {
    let (events, entities) = (o.events, o.entities.max(1));
    let dir = scratch_dir("results")?;
    let env = [("FLAGENT_ANALYTICS__ROLLUP_HORIZON_MS", "0".to_owned())];
    let database = o.database_url.as_deref();
    let server = Server::flagent_with(&server_bin(o)?, &dir, workers, database, &env).await?;
    let mut conn = Conn::open(server.addr).await?;
    let id = configure(&mut conn).await?;
    let x = expected(events, entities);
    let exposed_at = now_millis() - EXPOSED_AGO_MS;
    let exposures: Body = Arc::new(move |r| {
        let items: Vec<Value> = (r * PER_REQUEST..((r + 1) * PER_REQUEST).min(entities))
            .map(|n| {
                json!({"flagKey": FLAG, "variantKey": VARIANTS[n % 3],
                            "entityID": format!("user-{n}"), "timestamp": exposed_at})
            })
            .collect();
        json!({ "exposures": items })
    });
    let requests = entities.div_ceil(PER_REQUEST);
    let sample = seed(
        server.addr,
        "/api/v1/exposures",
        requests,
        entities,
        exposures,
    )
    .await?;
    let note = format!("{entities} exposures in {:.1} s", sample.seconds);
    report.push(Row::of("results-scale", "flagent", "seed exposures".into(), &sample).note(note));
    let bodies: Body = Arc::new(move |r| {
        let items: Vec<Value> = (r * PER_REQUEST..((r + 1) * PER_REQUEST).min(events))
            .map(|e| {
                let (n, key, value) = event(e, entities);
                let at = exposed_at + 60_000 + (e / entities) as i64 * 1_000;
                json!({"key": key, "entityID": format!("user-{n}"), "timestamp": at, "value": value})
            })
            .collect();
        json!({ "events": items })
    });
    let requests = events.div_ceil(PER_REQUEST);
    let seeded = Instant::now();
    let sample = seed(server.addr, "/api/v1/events", requests, events, bodies).await?;
    let note = format!(
        "{events} events in {:.1} s: {:.0} events/s acknowledged",
        sample.seconds,
        events as f64 / sample.seconds
    );
    report.push(Row::of("results-scale", "flagent", "seed events".into(), &sample).note(note));
    let call = Call::get(&format!("/api/v1/flags/{id}/results"))
        .bearer(MANAGEMENT_KEY)
        .env("production");
    let deadline = Instant::now() + ROLLUP_PATIENCE;
    let results = loop {
        // A fresh connection each time: the one used before seeding has been idle past keep-alive.
        let results = Conn::open(server.addr).await?.ok(&call).await?;
        if complete(&results, &x) {
            break results;
        }
        if Instant::now() > deadline {
            bail!(
                "the rollup did not account for every event in {ROLLUP_PATIENCE:?}: {results:.500}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let rolled = seeded.elapsed().as_secs_f64() - sample.seconds;
    check(&results, &x)?;
    let metrics = results["metrics"].as_array().map_or(0, Vec::len);
    let mut conn = Conn::open(server.addr).await?;
    conn.ok(&call).await?;
    let mut timed = Sample::new();
    let started = Instant::now();
    for _ in 0..SAMPLES {
        let sent = Instant::now();
        let (status, _) = conn.send(&call).await?;
        timed.record(sent.elapsed(), Ok(status.as_u16()));
    }
    timed.seconds = started.elapsed().as_secs_f64();
    let note = format!(
        "GET /api/v1/flags/{id}/results, {metrics} metrics (5 defined, the rest built-in), one at a \
         time on loopback; the rollup accounted for every event {rolled:.1} s after the last was \
         acknowledged"
    );
    let label = format!("{events} events, {entities} entities, 3 variants");
    let row = Row::of("results-scale", "flagent", label, &timed).with_rss(server.rss().ok());
    let max_ms = row.max_ms;
    report.push(row.note(note));
    report.check(
        &format!("results of {events} events and {entities} entities under 1 s"),
        format!("max {max_ms:.1} ms of {SAMPLES} requests"),
        max_ms < TARGET.as_secs_f64() * 1000.0,
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
