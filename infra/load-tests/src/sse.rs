//! SSE fan-out: many idle `GET /api/v1/stream` connections on one server, its memory with all of them
//! open, then one flag change and the time until every stream has received its `flag.updated` event.

use crate::http::{Call, Conn};
use crate::load::Sample;
use crate::report::{Report, Row};
use crate::server::{EVALUATION_KEY, MANAGEMENT_KEY, Server};
use anyhow::{Context, Result, bail};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Connections being opened at once.
const OPENING: usize = 64;

/// Finds complete `event:` lines in a byte stream, keeping only what a short line needs across chunks.
#[derive(Default)]
struct Events {
    partial: Vec<u8>,
}

impl Events {
    /// Whether `chunk` completes an `event: <name>` line.
    fn saw(&mut self, chunk: &[u8], name: &str) -> bool {
        let mut found = false;
        for byte in chunk {
            if *byte == b'\n' {
                let line = String::from_utf8_lossy(&self.partial);
                if let Some(event) = line.strip_prefix("event:") {
                    found |= event.trim() == name;
                }
                self.partial.clear();
            } else if self.partial.len() < 64 {
                self.partial.push(*byte);
            }
        }
        found
    }
}

/// Reads `body` until an `event: name` line; false when the stream ends first.
async fn until(body: &mut Incoming, events: &mut Events, name: &str) -> bool {
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref()
            && events.saw(data, name)
        {
            return true;
        }
    }
    false
}

/// One subscriber: connects, waits for the `snapshot`, reports ready, then reports when it sees
/// `flag.updated`, and keeps the connection open until aborted.
async fn subscriber(
    addr: SocketAddr,
    opening: Arc<Semaphore>,
    ready: Arc<AtomicUsize>,
    updated: mpsc::UnboundedSender<Instant>,
) -> Result<()> {
    let call = Call::get("/api/v1/stream")
        .bearer(EVALUATION_KEY)
        .header(hyper::header::ACCEPT, "text/event-stream");
    let permit = opening.acquire().await?;
    let mut conn = Conn::open(addr).await?;
    let response = conn.start(&call).await?;
    if response.status() != 200 {
        bail!("stream answered {}", response.status());
    }
    let mut body = response.into_body();
    let mut events = Events::default();
    if !until(&mut body, &mut events, "snapshot").await {
        bail!("the stream ended before its snapshot");
    }
    drop(permit);
    ready.fetch_add(1, Ordering::SeqCst);
    if until(&mut body, &mut events, "flag.updated").await {
        let _ = updated.send(Instant::now());
    }
    std::future::pending::<()>().await;
    Ok(())
}

/// Whether the server has the stream endpoint at all.
async fn available(addr: SocketAddr) -> Result<bool> {
    let mut conn = Conn::open(addr).await?;
    let response = conn
        .start(&Call::get("/api/v1/stream").bearer(EVALUATION_KEY))
        .await?;
    Ok(response.status() == 200)
}

/// Runs the fan-out with `streams` subscribers, changing flag `flag_id`.
pub(crate) async fn fanout(
    report: &mut Report,
    server: &Server,
    streams: usize,
    flag_id: i64,
) -> Result<()> {
    if !available(server.addr).await? {
        report.push(
            Row::of("sse-fanout", "flagent", "-".into(), &Sample::new())
                .note("GET /api/v1/stream is not served by this build; skipped"),
        );
        return Ok(());
    }
    let started = Instant::now();
    let (ready, opening) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Semaphore::new(OPENING)),
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    for _ in 0..streams {
        tasks.spawn(subscriber(
            server.addr,
            opening.clone(),
            ready.clone(),
            tx.clone(),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut failures = 0;
    while ready.load(Ordering::SeqCst) + failures < streams && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        failures += failed(&mut tasks, failures);
    }
    let open = ready.load(Ordering::SeqCst);
    let opened_in = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = server.rss().ok();
    let limit = server
        .open_files_limit()
        .map_or("?".into(), |n| n.to_string());
    let note = format!(
        "{open} of {streams} streams open (in {opened_in:.1} s), idle; server open-files limit {limit}"
    );
    report.push(
        Row::of(
            "sse-fanout",
            "flagent",
            "idle streams".into(),
            &Sample::new(),
        )
        .with_rss(rss)
        .note(note),
    );

    let changed = change_flag(server.addr, flag_id).await?;
    let mut sample = Sample::new();
    let until_all = Instant::now() + Duration::from_secs(60);
    while sample.requests < open as u64 {
        let Ok(Some(at)) = tokio::time::timeout_at(until_all.into(), rx.recv()).await else {
            break;
        };
        sample.record(at.saturating_duration_since(changed), Ok(200));
    }
    let missing = open as u64 - sample.requests;
    let row = Row::of("sse-fanout", "flagent", format!("{open} streams"), &sample)
        .with_rss(server.rss().ok())
        .note(format!(
            "time from sending the flag change to each stream's flag.updated; {missing} streams got none within 60 s"
        ));
    report.push(row);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// How many more subscribers have failed (removing them from `tasks`); prints the first failure.
fn failed(tasks: &mut JoinSet<Result<()>>, before: usize) -> usize {
    let mut n = 0;
    while let Some(done) = tasks.try_join_next() {
        if let Ok(Err(e)) = done
            && before + n == 0
        {
            eprintln!("  a stream failed: {e:#}");
        }
        n += 1;
    }
    n
}

/// Turns flag `id` off in production; returns when the request was sent.
async fn change_flag(addr: SocketAddr, id: i64) -> Result<Instant> {
    let mut conn = Conn::open(addr).await?;
    let call = Call::new(hyper::Method::PUT, &format!("/api/v1/flags/{id}/enabled"))
        .json(&json!({"enabled": false}))
        .bearer(MANAGEMENT_KEY)
        .env("production");
    let sent = Instant::now();
    conn.ok(&call).await.context("change the flag")?;
    Ok(sent)
}
