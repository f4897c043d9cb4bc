//! [`Client`]: local evaluation against the current snapshot, typed getters, and the connection state.
//!
//! Invariants: evaluation never waits and never fails (it reads the snapshot in use with one atomic
//! load); the background task ends when the last handle of the client is dropped.

use crate::builder::ClientBuilder;
use crate::decision::Decision;
use crate::state::{Shared, Status};
use crate::wire::View;
use flagent_eval::{FlagRef, Request, Snapshot, evaluate};
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
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// Options for a client of the server at `base_url` (`https://flags.example.com`) using `api_key`
    /// (an evaluation or client key).
    pub fn builder(base_url: impl Into<String>, api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into(), api_key.into())
    }

    pub(crate) fn new(shared: Arc<Shared>, task: JoinHandle<()>) -> Client {
        Client {
            inner: Arc::new(Inner { shared, task }),
        }
    }

    /// Evaluates the flag `flag_key` for `entity_id` with `context` (a JSON object of the properties
    /// constraints look at; anything else counts as empty).
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
    pub fn evaluate_request(&self, request: &Request<'_>) -> Decision {
        let loaded = self.inner.shared.loaded();
        let snapshot = &loaded.snapshot;
        let asked = match request.flag {
            FlagRef::Key(key) => key,
            FlagRef::Id(_) => "",
        };
        Decision::new(&evaluate(snapshot, request), asked, snapshot.revision())
    }

    /// The flag's value as a boolean (see [`Decision::value`]); `default` when the flag is unknown,
    /// gives no variant and has no default variant, or its value is not a boolean.
    pub fn bool_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: bool,
    ) -> bool {
        self.value(flag_key, entity_id, context)
            .and_then(|value| value.as_bool())
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
        match self.value(flag_key, entity_id, context) {
            Some(Value::String(text)) => text,
            _ => default.to_owned(),
        }
    }

    /// The flag's value as a number; `default` as for [`Client::bool_value`].
    pub fn number_value(
        &self,
        flag_key: &str,
        entity_id: &str,
        context: &Value,
        default: f64,
    ) -> f64 {
        self.value(flag_key, entity_id, context)
            .and_then(|value| value.as_f64())
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
        self.value(flag_key, entity_id, context).unwrap_or(default)
    }

    fn value(&self, flag_key: &str, entity_id: &str, context: &Value) -> Option<Value> {
        self.evaluate(flag_key, entity_id, context).value
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
