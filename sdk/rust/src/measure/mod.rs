//! Measurement: the exposures local evaluation serves and the events the application tracks, kept in two
//! bounded buffers ([`Lane`]) and sent in batches by one background task (`sender.rs`) to
//! `POST /api/v1/exposures` and `POST /api/v1/events`.
//!
//! Invariants:
//! - Recording never waits on the network and never fails: it holds one buffer's lock for a push, and
//!   an item that finds no room (the buffer is full, or the client is closed) is dropped and counted.
//! - An exposure of an entity to a flag is buffered once while the pair is in the recent set (the server
//!   counts only an entity's first exposure to a flag anyway).
//! - Each buffer is sent in order, one request at a time, so what was buffered before a [`Recorder::flush`]
//!   is settled (accepted, rejected or lost) before anything buffered after it.

mod lane;
mod sender;

#[cfg(test)]
mod tests;

use crate::wire::{Event, Exposure};
use lane::Lane;
pub(crate) use sender::{HttpDelivery, run};
use serde_json::{Map, Value};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, watch};

/// The event key of errors, which the built-in `error_rate` metric counts.
pub(crate) const ERROR_EVENT: &str = "$error";
/// The most bytes of an error's type kept in its event.
const MAX_ERROR_TYPE_BYTES: usize = 256;
/// The most bytes of an error's message kept in its event (the server takes 4 KiB of properties).
const MAX_ERROR_MESSAGE_BYTES: usize = 1_024;

/// Which ingestion endpoint items go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Exposures,
    Events,
}

impl Kind {
    /// The request body's field (and the endpoint's last path segment).
    pub(crate) fn field(self) -> &'static str {
        match self {
            Kind::Exposures => "exposures",
            Kind::Events => "events",
        }
    }
}

/// What happened to one kind of item since the client was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Items put in the buffer to be sent.
    pub buffered: u64,
    /// Exposures not buffered because the same flag and entity were buffered recently.
    pub deduplicated: u64,
    /// Items not buffered because the buffer was full or the client closed.
    pub dropped: u64,
    /// Items the server accepted.
    pub accepted: u64,
    /// Items the server refused, one by one or with their whole request (malformed, too large, or the
    /// key not allowed).
    pub rejected: u64,
    /// Items given up unsent: the server still failed when the client closed.
    pub lost: u64,
    /// Requests made, retries included.
    pub requests: u64,
}

impl Counts {
    /// Items buffered and not yet accepted, rejected or lost.
    pub fn pending(&self) -> u64 {
        self.buffered
            .saturating_sub(self.accepted + self.rejected + self.lost)
    }
}

/// What happened to the exposures and events the client recorded, from [`crate::Client::recording_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordingStats {
    /// Exposures: the variants local evaluations served.
    pub exposures: Counts,
    /// Events: [`crate::Client::track`], [`crate::Client::track_error`] and the evaluation errors.
    pub events: Counts,
}

/// How measurement behaves.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Whether evaluations that serve a variant record an exposure.
    pub(crate) exposures: bool,
    /// Whether evaluations of unknown flags, failed evaluations and typed getters given another type
    /// record an `$error` event.
    pub(crate) evaluation_errors: bool,
    /// How often partly filled batches are sent.
    pub(crate) flush_interval: Duration,
    /// The most items each buffer holds.
    pub(crate) capacity: usize,
    /// How many (flag, entity) pairs the deduplication remembers.
    pub(crate) recent: usize,
    /// How long closing keeps trying to send what is pending.
    pub(crate) shutdown_timeout: Duration,
    /// The retry delays after failures, as for reconnections.
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            exposures: true,
            evaluation_errors: true,
            flush_interval: Duration::from_secs(10),
            capacity: 10_000,
            recent: 50_000,
            shutdown_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// One kind of item and its buffer.
pub(crate) trait Item: serde::Serialize + Send + Sized + 'static {
    const KIND: Kind;
    fn lane(recorder: &Recorder) -> &Mutex<Lane<Self>>;
}

impl Item for Exposure {
    const KIND: Kind = Kind::Exposures;
    fn lane(recorder: &Recorder) -> &Mutex<Lane<Exposure>> {
        &recorder.exposures
    }
}

impl Item for Event {
    const KIND: Kind = Kind::Events;
    fn lane(recorder: &Recorder) -> &Mutex<Lane<Event>> {
        &recorder.events
    }
}

/// The buffers shared by the client's handles and the sending task.
#[derive(Debug)]
pub(crate) struct Recorder {
    options: Options,
    exposures: Mutex<Lane<Exposure>>,
    events: Mutex<Lane<Event>>,
    pairs: RandomState,
    /// Wakes the task: a batch is full, or a flush was asked for.
    wake: Notify,
    flush_asked: AtomicBool,
    /// Becomes `true` once, when the client closes.
    closing: watch::Sender<bool>,
    /// Changes whenever items are settled, and when the task stops.
    settled: watch::Sender<u64>,
    stopped: AtomicBool,
}

/// Locks a buffer; a panic elsewhere while it was held leaves counters that are still usable.
fn lock<T>(lane: &Mutex<T>) -> MutexGuard<'_, T> {
    lane.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
fn now_millis() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The longest prefix of `text` within `most` bytes, cut at a character boundary.
fn truncated(text: &str, most: usize) -> &str {
    if text.len() <= most {
        return text;
    }
    let mut end = most;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Recorder {
    pub(crate) fn new(options: Options) -> Recorder {
        Recorder {
            exposures: Mutex::new(Lane::new(options.capacity, options.recent)),
            events: Mutex::new(Lane::new(options.capacity, 0)),
            options,
            pairs: RandomState::new(),
            wake: Notify::new(),
            flush_asked: AtomicBool::new(false),
            closing: watch::Sender::new(false),
            settled: watch::Sender::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// Records that `entity_id` was served `variant_key` of `flag_key`, unless exposures are off, the
    /// entity is empty or the pair was recorded recently.
    pub(crate) fn expose(&self, flag_key: &str, variant_key: &str, entity_id: &str) {
        if !self.options.exposures || entity_id.is_empty() {
            return;
        }
        let pair = self.pairs.hash_one((flag_key, entity_id));
        let buffered = lock(&self.exposures).push_once(pair, || Exposure {
            flag_key: flag_key.to_owned(),
            variant_key: variant_key.to_owned(),
            entity_id: entity_id.to_owned(),
            timestamp: now_millis(),
        });
        self.buffered(buffered);
    }

    /// Records an event.
    pub(crate) fn track(
        &self,
        key: &str,
        entity_id: &str,
        value: Option<f64>,
        properties: Option<Value>,
    ) {
        let event = Event {
            key: key.to_owned(),
            entity_id: entity_id.to_owned(),
            timestamp: now_millis(),
            value,
            properties,
        };
        let buffered = lock(&self.events).push(event);
        self.buffered(buffered);
    }

    /// Records an `$error` event with the error's type and message (cut to fit the server's limits) and
    /// the flag it concerns, if any.
    pub(crate) fn error(
        &self,
        entity_id: &str,
        error_type: &str,
        message: &str,
        flag_key: Option<&str>,
    ) {
        let mut properties = Map::new();
        let error_type = truncated(error_type, MAX_ERROR_TYPE_BYTES);
        properties.insert("type".into(), Value::String(error_type.to_owned()));
        let message = truncated(message, MAX_ERROR_MESSAGE_BYTES);
        properties.insert("message".into(), Value::String(message.to_owned()));
        if let Some(flag_key) = flag_key {
            let flag_key = truncated(flag_key, MAX_ERROR_TYPE_BYTES);
            properties.insert("flagKey".into(), Value::String(flag_key.to_owned()));
        }
        self.track(
            ERROR_EVENT,
            entity_id,
            None,
            Some(Value::Object(properties)),
        );
    }

    /// Records an evaluation's error (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `GENERAL`) unless evaluation
    /// errors are off or the entity is empty.
    pub(crate) fn evaluation_error(
        &self,
        entity_id: &str,
        error_type: &str,
        flag_key: &str,
        message: impl FnOnce() -> String,
    ) {
        if !self.options.evaluation_errors || entity_id.is_empty() {
            return;
        }
        let flag_key = (!flag_key.is_empty()).then_some(flag_key);
        self.error(entity_id, error_type, &message(), flag_key);
    }

    /// Wakes the task when a push filled a batch.
    fn buffered(&self, length: Option<usize>) {
        if length.is_some_and(|length| length % sender::MAX_ITEMS == 0) {
            self.wake.notify_one();
        }
    }

    /// What happened to the items recorded so far.
    pub(crate) fn stats(&self) -> RecordingStats {
        RecordingStats {
            exposures: lock(&self.exposures).counts,
            events: lock(&self.events).counts,
        }
    }

    /// Asks the task to send everything buffered, and waits until it is accepted, rejected or lost.
    pub(crate) async fn flush(&self) {
        let mut settled = self.settled.subscribe();
        let exposures = lock(&self.exposures).counts.buffered;
        let events = lock(&self.events).counts.buffered;
        self.flush_asked.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        loop {
            let done = lock(&self.exposures).settled() >= exposures
                && lock(&self.events).settled() >= events;
            if done || self.stopped.load(Ordering::SeqCst) {
                return;
            }
            // The sender lives in `self`, so the channel stays open.
            let _ = settled.changed().await;
        }
    }

    /// Buffers nothing more and tells the task to send what is pending and stop; does not wait.
    pub(crate) fn shut(&self) {
        lock(&self.exposures).close();
        lock(&self.events).close();
        self.closing.send_replace(true);
    }

    /// [`Recorder::shut`], then waits until the task has stopped.
    pub(crate) async fn close(&self) {
        let mut settled = self.settled.subscribe();
        self.shut();
        while !self.stopped.load(Ordering::SeqCst) {
            let _ = settled.changed().await;
        }
    }

    /// Whether a flush was asked for since the last call (clearing the request).
    fn take_flush_request(&self) -> bool {
        self.flush_asked.swap(false, Ordering::SeqCst)
    }

    /// Counts the fate of items taken from `T`'s buffer, and tells the waiters.
    fn settle<T: Item>(&self, accepted: u64, rejected: u64, lost: u64) {
        {
            let mut lane = lock(T::lane(self));
            lane.counts.accepted += accepted;
            lane.counts.rejected += rejected;
            lane.counts.lost += lost;
        }
        self.settled
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Counts a request for `T`'s items.
    fn requested<T: Item>(&self) {
        lock(T::lane(self)).counts.requests += 1;
    }

    /// Marks the task stopped, and tells the waiters.
    fn stopped(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.settled
            .send_modify(|version| *version = version.wrapping_add(1));
    }
}
