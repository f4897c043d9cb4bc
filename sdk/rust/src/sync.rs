//! The background task that keeps a client current: it follows `GET /api/v1/stream` (protocol in
//! `docs/streaming.md`), applies each revision's events to the snapshot, persists every applied change,
//! and reconnects with [`Backoff`] when the stream ends, breaks or falls silent.
//!
//! Invariants:
//! - Events of one revision are applied together, when the last of them (the one carrying `id:`)
//!   arrives; a stream cut off half-way applies nothing of that revision, and the reconnection (with
//!   `Last-Event-ID` of the last applied revision) receives it whole again.
//! - `Last-Event-ID` is sent only for a configuration this process received from the server; a
//!   configuration loaded from the file, or one after an event that did not parse, asks for a full
//!   `snapshot` instead.
//! - With a snapshot file, each configuration is written to it before it is put in use, so when a
//!   revision is announced the file holds it (or a later one).
//! - A stream silent for longer than the heartbeat timeout counts as dead; a heartbeat announcing a newer
//!   revision than the one applied makes the client reconnect and catch up.
//! - The task owns no handle of the client: it ends when the client's last handle aborts it.

use crate::backoff::Backoff;
use crate::http::{self, Endpoints, Failure};
use crate::persist;
use crate::state::{Loaded, Shared, Status};
use crate::wire::{FlagDeleted, FlagUpdated, Heartbeat, SnapshotBody};
use eventsource_stream::{Event, Eventsource};
use flagent_eval::FlagConfig;
use futures_util::{Stream, StreamExt};
use reqwest::StatusCode;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the task behaves.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) persist_to: Option<PathBuf>,
}

/// Why a stream ended.
#[derive(Debug)]
enum End {
    /// The server closed it.
    Closed,
    /// Reading failed.
    Broken(String),
    /// Nothing arrived within the heartbeat timeout.
    Silent,
    /// A heartbeat announced a revision this client has not applied.
    Behind(u64),
    /// An event's data did not parse.
    Invalid(String, serde_json::Error),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Closed => f.write_str("the server closed the stream"),
            End::Broken(error) => write!(f, "reading the stream failed: {error}"),
            End::Silent => f.write_str("nothing arrived within the heartbeat timeout"),
            End::Behind(revision) => write!(f, "the server is at revision {revision}"),
            End::Invalid(event, error) => write!(f, "a {event} event did not parse: {error}"),
        }
    }
}

/// The changes of one revision, gathered until its last event.
#[derive(Debug, Default)]
struct Batch {
    revision: u64,
    upserts: Vec<FlagConfig>,
    removed: Vec<i64>,
}

impl Batch {
    fn upsert(&mut self, revision: u64, flag: FlagConfig) {
        self.revision = revision;
        self.removed.retain(|id| *id != flag.id);
        self.upserts.retain(|old| old.id != flag.id);
        self.upserts.push(flag);
    }

    fn remove(&mut self, revision: u64, id: i64) {
        self.revision = revision;
        self.upserts.retain(|old| old.id != id);
        self.removed.push(id);
    }

    fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
    }
}

/// The background task's state.
#[derive(Debug)]
pub(crate) struct Syncer {
    http: reqwest::Client,
    endpoints: Endpoints,
    shared: Arc<Shared>,
    options: Options,
    /// Whether the configuration in use came from the server in this process (so the server may resume
    /// after its revision).
    fresh: bool,
    /// Whether the server has been reached since the client was built.
    reached: bool,
}

impl Syncer {
    pub(crate) fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        shared: Arc<Shared>,
        options: Options,
    ) -> Syncer {
        Syncer {
            http,
            endpoints,
            shared,
            options,
            fresh: false,
            reached: false,
        }
    }

    /// Follows the stream until aborted.
    pub(crate) async fn run(mut self) {
        let mut backoff = Backoff::new(self.options.backoff_min, self.options.backoff_max);
        let mut failures = 0u32;
        loop {
            let resume = self.fresh.then(|| self.shared.loaded().snapshot.revision());
            let limit = self.options.request_timeout;
            match http::open_stream(&self.http, &self.endpoints, resume, limit).await {
                Ok(response) => {
                    backoff.reset();
                    failures = 0;
                    self.reached = true;
                    self.shared.set_status(Status::Connected);
                    tracing::debug!(resume, "configuration stream open");
                    let end = self.follow(response.bytes_stream()).await;
                    tracing::info!(reason = %end, "configuration stream ended; reconnecting");
                }
                Err(failure) => {
                    failures = failures.saturating_add(1);
                    self.connect_failed(&failure, failures).await;
                }
            }
            self.shared.set_status(if self.reached {
                Status::Stale
            } else {
                Status::Offline
            });
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }

    /// Logs a failed connection (a warning for the first of a run, then quietly); a server without the
    /// stream endpoint is polled for its snapshot instead.
    async fn connect_failed(&mut self, failure: &Failure, failures: u32) {
        if failures == 1 {
            tracing::warn!(error = %failure, "could not open the configuration stream; retrying with back-off");
        } else {
            tracing::debug!(error = %failure, failures, "could not open the configuration stream");
        }
        if matches!(
            failure,
            Failure::Status(StatusCode::NOT_FOUND) | Failure::NotAStream
        ) {
            let limit = self.options.request_timeout;
            match http::fetch_snapshot(&self.http, &self.endpoints, limit).await {
                Ok(body) => self.apply_snapshot(body).await,
                Err(error) => tracing::debug!(%error, "could not fetch the snapshot either"),
            }
        }
    }

    /// Applies a stream's events until it ends.
    async fn follow<S, B, E>(&mut self, bytes: S) -> End
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: fmt::Display,
    {
        let mut events = bytes.eventsource();
        let mut batch = Batch::default();
        // The parser keeps the last `id:` for later events (as the SSE specification says); an event
        // carried `id:` itself exactly when the id changed, since revisions only grow.
        let mut last_id = String::new();
        loop {
            let next = tokio::time::timeout(self.options.heartbeat_timeout, events.next());
            let event = match next.await {
                Err(_) => return End::Silent,
                Ok(None) => return End::Closed,
                Ok(Some(Err(error))) => return End::Broken(error.to_string()),
                Ok(Some(Ok(event))) => event,
            };
            let carries_id = event.id != last_id;
            last_id.clone_from(&event.id);
            if let Err(end) = self.handle(&event, carries_id, &mut batch).await {
                if matches!(end, End::Invalid(..)) {
                    self.fresh = false;
                }
                return end;
            }
        }
    }

    /// Applies one event.
    async fn handle(
        &mut self,
        event: &Event,
        carries_id: bool,
        batch: &mut Batch,
    ) -> Result<(), End> {
        match event.event.as_str() {
            "snapshot" => {
                *batch = Batch::default();
                self.apply_snapshot(parse(event)?).await;
            }
            "flag.updated" => {
                let data: FlagUpdated = parse(event)?;
                batch.upsert(data.revision, data.flag);
                if carries_id {
                    self.commit(std::mem::take(batch)).await;
                }
            }
            "flag.deleted" => {
                let data: FlagDeleted = parse(event)?;
                batch.remove(data.revision, data.flag_id);
                if carries_id {
                    self.commit(std::mem::take(batch)).await;
                }
            }
            "heartbeat" => {
                let data: Heartbeat = parse(event)?;
                let applied = self.shared.loaded().snapshot.revision();
                if data.revision > applied && batch.is_empty() {
                    return Err(End::Behind(data.revision));
                }
            }
            // OFREP's unnamed `refetchEvaluation` messages, and events of later protocol versions.
            _ => {}
        }
        Ok(())
    }

    /// Applies one revision's changes to the configuration in use.
    async fn commit(&mut self, batch: Batch) {
        let current = self.shared.loaded();
        let snapshot = current
            .snapshot
            .updated(batch.revision, batch.upserts, &batch.removed);
        self.apply(Loaded {
            snapshot,
            origin: current.origin,
        })
        .await;
    }

    /// Puts a whole snapshot from the server in use.
    pub(crate) async fn apply_snapshot(&mut self, body: SnapshotBody) {
        self.apply(Loaded::from_body(body)).await;
    }

    /// Writes the snapshot file, then puts a configuration from the server in use (so a waiter woken by
    /// the revision finds the file at that revision or later).
    async fn apply(&mut self, loaded: Loaded) {
        let revision = loaded.snapshot.revision();
        if let Some((path, body)) = self.options.persist_to.clone().zip(loaded.body()) {
            let saved = tokio::task::spawn_blocking(move || persist::save(&path, &body)).await;
            match saved {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "could not write the snapshot file"),
                Err(error) => tracing::warn!(%error, "writing the snapshot file did not finish"),
            }
        }
        self.shared.install(loaded);
        self.fresh = true;
        self.reached = true;
        tracing::debug!(revision, "configuration applied");
    }
}

/// An event's data as `T`.
fn parse<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, End> {
    serde_json::from_str(&event.data).map_err(|error| End::Invalid(event.event.clone(), error))
}

#[cfg(test)]
mod tests;
