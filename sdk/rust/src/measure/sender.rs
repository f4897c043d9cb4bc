//! The sending task: takes batches from the buffers (at most 1,000 items and 1 MiB per request, the
//! server's limits) when one is full, at every flush interval, when a flush is asked for and when the
//! client closes, and posts them through a [`Deliver`].
//!
//! Invariants:
//! - One request at a time, each buffer in order; a failed batch is retried before anything after it.
//! - `429` waits for its `Retry-After` (or the back-off when it gives none); `5xx`, `408`, timeouts and
//!   network errors wait for the back-off, which a delivered batch resets; any other refusal (`400`,
//!   `401`, `403`, `413`…) is final, since sending the same request again cannot help.
//! - Closing sends everything pending, retrying until the shutdown timeout; what is still unsent then
//!   is counted lost, and the task stops.
//! - The task holds no handle of the client: the last handle's drop closes it.

use crate::backoff::Backoff;
use crate::http::{self, Endpoints, Failure};
use crate::measure::{Item, Kind, Recorder, lock};
use crate::wire::{Event, Exposure, Ingested};
use reqwest::StatusCode;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// The most items per request.
pub(crate) const MAX_ITEMS: usize = 1_000;
/// The largest request body.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// Where batches go: the server over HTTP, or a script in tests.
pub(crate) trait Deliver: Send + Sync + 'static {
    /// Posts one batch's JSON body; `Ok(None)` when it was committed but the answer was unreadable.
    fn send(
        &self,
        kind: Kind,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Option<Ingested>, Failure>> + Send;
}

/// Delivery to the server's ingestion endpoints.
#[derive(Debug)]
pub(crate) struct HttpDelivery {
    http: reqwest::Client,
    endpoints: Endpoints,
    limit: Duration,
}

impl HttpDelivery {
    /// Posts with `http` to `endpoints`, waiting at most `limit` for each answer.
    pub(crate) fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        limit: Duration,
    ) -> HttpDelivery {
        HttpDelivery {
            http,
            endpoints,
            limit,
        }
    }
}

impl Deliver for HttpDelivery {
    async fn send(&self, kind: Kind, body: Vec<u8>) -> Result<Option<Ingested>, Failure> {
        http::post_batch(&self.http, &self.endpoints, kind, body, self.limit).await
    }
}

/// One request's body and what it carries.
#[derive(Debug)]
struct Batch {
    body: Vec<u8>,
    items: u64,
    /// Items too large for any request: refused without being sent.
    oversized: u64,
}

/// Takes the next batch of `T`: a full one, or with `everything` whatever is buffered.
fn next_batch<T: Item>(recorder: &Recorder, everything: bool) -> Option<Batch> {
    let lane = T::lane(recorder);
    let items = {
        let mut lane = lock(lane);
        if lane.len() == 0 || (!everything && lane.len() < MAX_ITEMS) {
            return None;
        }
        lane.take(MAX_ITEMS)
    };
    let mut body = format!("{{\"{}\":[", T::KIND.field()).into_bytes();
    let envelope = body.len() + 2;
    let mut batch = Batch {
        body: Vec::new(),
        items: 0,
        oversized: 0,
    };
    let mut items = items.into_iter();
    while let Some(item) = items.next() {
        let json = match serde_json::to_vec(&item) {
            Ok(json) if envelope + json.len() <= MAX_BODY_BYTES => json,
            _ => {
                batch.oversized += 1;
                continue;
            }
        };
        let separator = usize::from(batch.items > 0);
        if body.len() + separator + json.len() + 2 > MAX_BODY_BYTES {
            let mut rest = vec![item];
            rest.extend(items);
            lock(lane).put_back(rest);
            break;
        }
        if separator == 1 {
            body.push(b',');
        }
        body.extend_from_slice(&json);
        batch.items += 1;
    }
    body.extend_from_slice(b"]}");
    batch.body = body;
    Some(batch)
}

/// How a failed request is retried: after this delay, or not at all.
fn retry_delay(failure: &Failure, backoff: &mut Backoff) -> Option<Duration> {
    match failure {
        Failure::Busy(Some(after)) if !after.is_zero() => Some(*after),
        Failure::Busy(_) | Failure::TimedOut | Failure::Transport(_) | Failure::NotAStream => {
            Some(backoff.next_delay())
        }
        Failure::Status(status)
            if status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT =>
        {
            Some(backoff.next_delay())
        }
        Failure::Status(_) | Failure::Refused(_) => None,
    }
}

/// Sends the recorder's batches through `deliver` until the client closes.
pub(crate) async fn run<D: Deliver>(recorder: Arc<Recorder>, deliver: D) {
    let backoff = Backoff::new(recorder.options.backoff_min, recorder.options.backoff_max);
    let closing = recorder.closing.subscribe();
    let task = Sending {
        recorder,
        deliver,
        backoff,
        closing,
        deadline: None,
        failing: false,
    };
    task.run().await;
}

/// Why the task woke.
enum Wake {
    Closing,
    Tick,
    Asked,
}

/// The task's state.
struct Sending<D> {
    recorder: Arc<Recorder>,
    deliver: D,
    backoff: Backoff,
    closing: watch::Receiver<bool>,
    /// Once closing: when to stop trying.
    deadline: Option<Instant>,
    /// Whether the last request failed (so recovery is logged once).
    failing: bool,
}

impl<D: Deliver> Sending<D> {
    async fn run(mut self) {
        let recorder = self.recorder.clone();
        let period = recorder
            .options
            .flush_interval
            .max(Duration::from_millis(1));
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while self.deadline.is_none() {
            let wake = tokio::select! {
                biased;
                _ = self.closing.wait_for(|closing| *closing) => Wake::Closing,
                _ = ticker.tick() => Wake::Tick,
                () = recorder.wake.notified() => Wake::Asked,
            };
            let everything = match wake {
                Wake::Closing => {
                    self.begin_shutdown();
                    true
                }
                Wake::Tick => true,
                Wake::Asked => recorder.take_flush_request(),
            };
            self.drain::<Exposure>(everything).await;
            self.drain::<Event>(everything).await;
        }
        recorder.stopped();
    }

    fn begin_shutdown(&mut self) {
        if self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.recorder.options.shutdown_timeout);
        }
    }

    /// Sends `T`'s full batches, or with `everything` all that is buffered.
    async fn drain<T: Item>(&mut self, everything: bool) {
        while let Some(batch) = next_batch::<T>(&self.recorder, everything) {
            self.deliver::<T>(batch).await;
        }
    }

    /// Sends one batch until it is delivered, refused, or given up at shutdown.
    async fn deliver<T: Item>(&mut self, batch: Batch) {
        if batch.items == 0 {
            self.recorder.settle::<T>(0, batch.oversized, 0);
            return;
        }
        loop {
            if self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                self.give_up::<T>(&batch);
                return;
            }
            let failure = match self.attempt::<T>(&batch).await {
                Ok(answer) => {
                    self.delivered::<T>(&batch, answer);
                    return;
                }
                Err(failure) => failure,
            };
            let Some(delay) = retry_delay(&failure, &mut self.backoff) else {
                tracing::warn!(kind = T::KIND.field(), items = batch.items, error = %failure, "the server refused a batch; dropping it");
                self.recorder
                    .settle::<T>(0, batch.items + batch.oversized, 0);
                return;
            };
            if !self.failing {
                tracing::warn!(kind = T::KIND.field(), error = %failure, "could not send a batch; retrying");
            }
            self.failing = true;
            if !self.wait(delay).await {
                self.give_up::<T>(&batch);
                return;
            }
        }
    }

    /// Sends a batch once; once closing, waiting no later than the deadline.
    async fn attempt<T: Item>(&self, batch: &Batch) -> Result<Option<Ingested>, Failure> {
        self.recorder.requested::<T>();
        let sent = self.deliver.send(T::KIND, batch.body.clone());
        match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, sent)
                .await
                .unwrap_or(Err(Failure::TimedOut)),
            None => sent.await,
        }
    }

    /// Counts a delivered batch.
    fn delivered<T: Item>(&mut self, batch: &Batch, answer: Option<Ingested>) {
        if self.failing {
            tracing::info!("batches are being delivered again");
        }
        self.failing = false;
        self.backoff.reset();
        let accepted = answer
            .as_ref()
            .map_or(batch.items, |answer| answer.accepted.min(batch.items));
        if let Some(first) = answer.as_ref().and_then(|answer| answer.rejected.first()) {
            tracing::warn!(
                kind = T::KIND.field(),
                rejected = batch.items - accepted,
                index = first.index,
                code = %first.code,
                message = %first.message,
                "the server refused some items"
            );
        }
        let rejected = batch.items - accepted + batch.oversized;
        self.recorder.settle::<T>(accepted, rejected, 0);
    }

    /// Counts a batch given up at shutdown.
    fn give_up<T: Item>(&self, batch: &Batch) {
        tracing::warn!(
            kind = T::KIND.field(),
            items = batch.items,
            "could not send a batch before the shutdown timeout; dropping it"
        );
        self.recorder.settle::<T>(0, batch.oversized, batch.items);
    }

    /// Waits `delay` before a retry; `false` when the retry would come after the shutdown deadline.
    async fn wait(&mut self, delay: Duration) -> bool {
        let at = Instant::now() + delay;
        loop {
            match self.deadline {
                Some(deadline) if at > deadline => return false,
                Some(_) => {
                    tokio::time::sleep_until(at).await;
                    return true;
                }
                None => {}
            }
            tokio::select! {
                () = tokio::time::sleep_until(at) => return true,
                _ = self.closing.wait_for(|closing| *closing) => {}
            }
            self.begin_shutdown();
        }
    }
}
