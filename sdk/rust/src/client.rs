//! [`Client`]: local evaluation against the current snapshot, typed getters, the connection state, and
//! measurement (the exposures evaluations record, [`Client::track`] and [`Client::track_error`]).
//!
//! Invariants: evaluation never waits and never fails (it reads the snapshot in use with one atomic
//! load, and records its exposure or error into a bounded buffer without waiting on the network); the
//! background tasks end when the last handle of the client is dropped, the sending task after it has
//! sent what is pending.

use crate::builder::ClientBuilder;
use crate::decision::Decision;
use crate::measure::{Recorder, RecordingStats};
use crate::state::{Shared, Status};
use crate::wire::View;
use flagent_eval::{FlagRef, Reason, Request, Snapshot, evaluate};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A local-evaluation client for one environment. Cloning is cheap and shares the configuration.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    recorder: Arc<Recorder>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
        self.recorder.shut();
    }
}

impl Client {
    /// Options for a client of the server at `base_url` (`https://flags.example.com`) using `api_key`
    /// (an evaluation or client key).
    pub fn builder(base_url: impl Into<String>, api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into(), api_key.into())
    }

    pub(crate) fn new(
        shared: Arc<Shared>,
        recorder: Arc<Recorder>,
        task: JoinHandle<()>,
    ) -> Client {
        Client {
            inner: Arc::new(Inner {
                shared,
                recorder,
                task,
            }),
        }
    }

    /// Evaluates the flag `flag_key` for `entity_id` with `context` (a JSON object of the properties
    /// constraints look at; anything else counts as empty), recording its exposure or error as
    /// [`Client::evaluate_request`] does.
    pub fn evaluate(&self, flag_key: &str, entity_id: &str, context: &Value) -> Decision {
        self.evaluate_request(&Request {
            flag: FlagRef::Key(flag_key),
            entity_id,
            context: Some(context),
            debug: false,
        })
    }

    /// Evaluates an engine request (by flag id, or with the debug log, which [`Decision`] leaves out;
    /// use [`Client::snapshot`] with `flagent_eval::evaluate` to read it).
    ///
    /// A decision that serves a variant records an exposure (see
    /// [`ClientBuilder::record_exposures`]); once a configuration is loaded, an unknown flag or a
    /// failed evaluation records an `$error` event (see [`ClientBuilder::record_evaluation_errors`]).
    pub fn evaluate_request(&self, request: &Request<'_>) -> Decision {
        let loaded = self.inner.shared.loaded();
        let snapshot = &loaded.snapshot;
        let asked = match request.flag {
            FlagRef::Key(key) => key,
            FlagRef::Id(_) => "",
        };
        let decision = Decision::new(&evaluate(snapshot, request), asked, snapshot.revision());
        let recorder = &self.inner.recorder;
        let entity_id = request.entity_id;
        if let Some(variant) = &decision.variant_key {
            recorder.expose(&decision.flag_key, variant, entity_id);
        } else if loaded.origin.is_some() {
            let flag = decision.flag_key.as_str();
            match decision.reason {
                Reason::FlagNotFound => {
                    recorder.evaluation_error(entity_id, "FLAG_NOT_FOUND", flag, || match request
                        .flag
                    {
                        FlagRef::Key(key) => format!("no flag has the key {key:?}"),
                        FlagRef::Id(id) => format!("no flag has the id {id}"),
                    });
                }
                Reason::Error => {
                    recorder.evaluation_error(entity_id, "GENERAL", flag, || {
                        format!("the flag {flag:?} could not be evaluated")
                    });
                }
                _ => {}
            }
        }
        decision
    }

    /// The flag's value as a boolean (see [`Decision::value`]); `default` when the flag is unknown,
    /// gives no variant and has no default variant, or its value is not a boolean (which records a
    /// `TYPE_MISMATCH` `$error` event).
    pub fn bool_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: bool,
    ) -> bool {
        self.typed(flag_key, entity_id, context, "boolean", |value| {
            value.as_bool()
        })
        .unwrap_or(default)
    }

    /// The flag's value as a string; `default` as for [`Client::bool_value`].
    pub fn string_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: &str,
    ) -> String {
        self.typed(
            flag_key,
            entity_id,
            context,
            "string",
            |value| match value {
                Value::String(text) => Some(text),
                _ => None,
            },
        )
        .unwrap_or_else(|| default.to_owned())
    }

    /// The flag's value as a number; `default` as for [`Client::bool_value`].
    pub fn number_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: f64,
    ) -> f64 {
        self.typed(flag_key, entity_id, context, "number", |value| {
            value.as_f64()
        })
        .unwrap_or(default)
    }

    /// The flag's value as JSON; `default` when there is none.
    pub fn json_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: Value,
    ) -> Value {
        self.evaluate(flag_key, entity_id, context)
            .value
            .unwrap_or(default)
    }

    /// The flag's value read by `read`; a value `read` refuses records a `TYPE_MISMATCH` error.
    fn typed<T>(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        expected: &str,
        read: impl FnOnce(Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.evaluate(flag_key, entity_id, context).value?;
        let found = value_type(&value);
        let typed = read(value);
        if typed.is_none() {
            self.inner
                .recorder
                .evaluation_error(entity_id, "TYPE_MISMATCH", flag_key, || {
                    format!("the flag {flag_key:?} gives a {found}, not a {expected}")
                });
        }
        typed
    }

    /// Records an event (`POST /api/v1/events`) for `entity_id`: `key` is what happened (`purchase`),
    /// `value` what a `mean` metric averages, `properties` a JSON object of details. Never waits: the
    /// event is buffered and sent with the next batch (or dropped and counted when the buffer is full).
    pub fn track(&self, key: &str, entity_id: &str, value: Option<f64>, properties: Option<Value>) {
        self.inner.recorder.track(key, entity_id, value, properties);
    }

    /// Records an error the application met for `entity_id`, as an `$error` event (`{type, message}` in
    /// its properties), which the built-in `error_rate` metric counts; an OpenFeature error hook can call
    /// it. Never waits, like [`Client::track`].
    pub fn track_error(&self, entity_id: &str, error_type: &str, message: &str) {
        self.inner
            .recorder
            .error(entity_id, error_type, message, None);
    }

    /// Sends everything recorded so far now, and waits until the server has answered for it (or it
    /// was given up at close). While the server cannot be reached it keeps waiting through the retries;
    /// combine with `tokio::time::timeout` to bound the wait.
    pub async fn flush(&self) {
        self.inner.recorder.flush().await;
    }

    /// Stops the client, for every handle: it stops following the stream, records nothing more, sends
    /// what is pending (retrying for at most [`ClientBuilder::shutdown_timeout`]) and returns once it has
    /// been sent or given up. Evaluation keeps answering from the configuration in use.
    pub async fn close(&self) {
        self.inner.task.abort();
        self.inner.recorder.close().await;
    }

    /// What happened to the exposures and events recorded so far: buffered, deduplicated, dropped,
    /// accepted, rejected, lost, and the requests made.
    pub fn recording_stats(&self) -> RecordingStats {
        self.inner.recorder.stats()
    }

    /// The compiled configuration in use (cheap to clone; it never changes once taken).
    pub fn snapshot(&self) -> Snapshot {
        self.inner.shared.loaded().snapshot.clone()
    }

    /// The configuration revision in use (0 before any configuration is loaded).
    pub fn revision(&self) -> u64 {
        self.inner.shared.loaded().snapshot.revision()
    }

    /// The environment the configuration belongs to; `None` before any configuration is loaded.
    pub fn environment_id(&self) -> Option<i64> {
        self.inner.shared.loaded().origin.map(|(id, _)| id)
    }

    /// The view the key gets: [`View::Client`] for public client keys; `None` before any
    /// configuration is loaded.
    pub fn view(&self) -> Option<View> {
        self.inner.shared.loaded().origin.map(|(_, view)| view)
    }

    /// How current the configuration is.
    pub fn status(&self) -> Status {
        self.inner.shared.status()
    }

    /// Waits until the configuration in use is at `revision` or later, and returns the revision reached.
    /// Combine with `tokio::time::timeout` to bound the wait.
    pub async fn wait_for_revision(&self, revision: u64) -> u64 {
        let mut changes = self.inner.shared.watch_revision();
        match changes.wait_for(|current| *current >= revision).await {
            Ok(reached) => *reached,
            // The sender lives in `Shared`, which this handle keeps alive.
            Err(_) => self.revision(),
        }
    }

    /// Waits until the status is `status`.
    pub async fn wait_for_status(&self, status: Status) {
        let mut changes = self.inner.shared.watch_status();
        let _ = changes.wait_for(|current| *current == status).await;
    }

    /// A receiver notified of every applied revision.
    pub fn watch_revision(&self) -> watch::Receiver<u64> {
        self.inner.shared.watch_revision()
    }

    /// A receiver notified of every status change.
    pub fn watch_status(&self) -> watch::Receiver<Status> {
        self.inner.shared.watch_status()
    }
}

/// The JSON type of a value, as an error message names it.
fn value_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
