//! Load generation: closed loop (N connections sending back to back, for maximum throughput) and open
//! loop (requests due at a constant rate, latency measured from the time each was due, so a slow answer
//! cannot hide the requests queued behind it: no coordinated omission).
//!
//! Invariant: only requests sent after the warm-up count; latencies are recorded in microseconds.

use crate::http::{Call, Conn};
use anyhow::Result;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long and how hard to load a server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Load {
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// Excluded from the figures.
    pub(crate) warmup: Duration,
    /// Measured.
    pub(crate) duration: Duration,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    /// Latencies of the measured requests, in microseconds.
    pub(crate) latency: Histogram<u64>,
    /// Measured requests that failed, by status (`HTTP 503`) or as `connection`.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Measured requests answered (errors included).
    pub(crate) requests: u64,
    /// The measured time, in seconds.
    pub(crate) seconds: f64,
}

impl Sample {
    pub(crate) fn new() -> Sample {
        Sample {
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds"),
            errors: BTreeMap::new(),
            requests: 0,
            seconds: 0.0,
        }
    }

    /// Records one answered (`Ok(status)`) or failed request.
    pub(crate) fn record(&mut self, latency: Duration, outcome: Result<u16, ()>) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
        self.requests += 1;
        let error = match outcome {
            Ok(status) if (200..300).contains(&status) => return,
            Ok(status) => format!("HTTP {status}"),
            Err(()) => "connection".to_owned(),
        };
        *self.errors.entry(error).or_default() += 1;
    }

    fn merge(&mut self, other: &Sample) {
        self.latency
            .add(&other.latency)
            .expect("same histogram bounds");
        self.requests += other.requests;
        for (error, n) in &other.errors {
            *self.errors.entry(error.clone()).or_default() += n;
        }
    }

    /// Requests per second.
    pub(crate) fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// A latency percentile, in milliseconds.
    pub(crate) fn ms(&self, percentile: f64) -> f64 {
        self.latency.value_at_quantile(percentile / 100.0) as f64 / 1000.0
    }

    /// The largest latency, in milliseconds.
    pub(crate) fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

/// Sends `call` on `conn`, reconnecting after a connection error; returns the status.
async fn exchange(conn: &mut Option<Conn>, addr: SocketAddr, call: &Call) -> Result<u16, ()> {
    if conn.is_none() {
        *conn = Conn::open(addr).await.ok();
    }
    let Some(open) = conn.as_mut() else {
        return Err(());
    };
    match open.send(call).await {
        Ok((status, _)) => Ok(status.as_u16()),
        Err(_) => {
            *conn = None;
            Err(())
        }
    }
}

/// Opens `n` connections before the clock starts.
async fn connections(addr: SocketAddr, n: usize) -> Result<Vec<Conn>> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(Conn::open(addr).await?);
    }
    Ok(conns)
}

/// Closed loop: each connection sends `calls` in turn, back to back, for the warm-up and the duration.
pub(crate) async fn closed(addr: SocketAddr, calls: Arc<Vec<Call>>, load: Load) -> Result<Sample> {
    let conns = connections(addr, load.connections).await?;
    let start = Instant::now();
    let (measure_from, end) = (start + load.warmup, start + load.warmup + load.duration);
    let mut tasks = Vec::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample::new();
            let mut conn = Some(conn);
            for n in i.. {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let outcome = exchange(&mut conn, addr, &calls[n % calls.len()]).await;
                let done = Instant::now();
                if sent >= measure_from && done <= end {
                    sample.record(done - sent, outcome);
                }
            }
            sample
        }));
    }
    let mut total = Sample::new();
    for task in tasks {
        total.merge(&task.await?);
    }
    total.seconds = load.duration.as_secs_f64();
    Ok(total)
}

/// Open loop: `rate` requests per second are due, spread over `load.connections` connections; each
/// latency runs from the time its request was due.
pub(crate) async fn open(
    addr: SocketAddr,
    calls: Arc<Vec<Call>>,
    load: Load,
    rate: f64,
) -> Result<Sample> {
    let conns = connections(addr, load.connections).await?;
    let total = ((load.warmup + load.duration).as_secs_f64() * rate) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let due = Arc::new(Semaphore::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let dispatcher = dispatch(due.clone(), start, rate, total, load.connections);
    let mut tasks = Vec::new();
    for conn in conns {
        let (calls, due, next) = (calls.clone(), due.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample::new();
            let mut conn = Some(conn);
            loop {
                let Ok(permit) = due.acquire().await else {
                    break;
                };
                permit.forget();
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let intended = start + interval.mul_f64(i as f64);
                let outcome = exchange(&mut conn, addr, &calls[(i as usize) % calls.len()]).await;
                if intended >= measure_from {
                    sample.record(intended.elapsed(), outcome);
                }
            }
            sample
        }));
    }
    let mut sum = Sample::new();
    for task in tasks {
        sum.merge(&task.await?);
    }
    dispatcher.join().ok();
    sum.seconds = load.duration.as_secs_f64();
    Ok(sum)
}

/// Releases one permit per request as it falls due, from a thread that sleeps about 100 µs between
/// checks (the async timer's 1 ms granularity would add up to 1 ms to every latency); at the end it
/// releases one extra permit per connection so that every sender sees that nothing is left.
fn dispatch(
    due: Arc<Semaphore>,
    start: Instant,
    rate: f64,
    total: u64,
    senders: usize,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut released = 0u64;
        while released < total {
            let now = (start.elapsed().as_secs_f64() * rate) as u64 + 1;
            let now = now.min(total);
            if now > released {
                due.add_permits((now - released) as usize);
                released = now;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        due.add_permits(senders);
    })
}
