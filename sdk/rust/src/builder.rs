//! [`ClientBuilder`]: the options of a [`Client`], and building one: the first snapshot from the server,
//! or the snapshot file when the server cannot be reached, then the background tasks (following the
//! stream, and sending exposures and events).

use crate::SdkError;
use crate::client::Client;
use crate::http::{self, Endpoints, Failure};
use crate::measure::{self, HttpDelivery, Recorder};
use crate::persist;
use crate::state::{Loaded, Shared, Status};
use crate::sync::{Options, Syncer};
use flagent_eval::Snapshot;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of a [`Client`]; made by [`Client::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is awaited"]
pub struct ClientBuilder {
    base_url: String,
    api_key: String,
    environment: Option<String>,
    http: Option<reqwest::Client>,
    options: Options,
    measure: measure::Options,
}

impl ClientBuilder {
    pub(crate) fn new(base_url: String, api_key: String) -> ClientBuilder {
        ClientBuilder {
            base_url,
            api_key,
            environment: None,
            http: None,
            options: Options {
                heartbeat_timeout: Duration::from_secs(45),
                request_timeout: Duration::from_secs(10),
                backoff_min: Duration::from_secs(1),
                backoff_max: Duration::from_secs(60),
                persist_to: None,
            },
            measure: measure::Options::default(),
        }
    }

    /// The environment to evaluate in, by key (`production`), sent as `X-Environment`.
    /// By default the key's own environment, or the project's first.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Keeps the last good snapshot in this file (written atomically after every change) and starts from
    /// it when the server cannot be reached at build time.
    pub fn persist_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.persist_to = Some(path.into());
        self
    }

    /// How long the stream may stay silent before it counts as dead and is reopened (default 45 s: the
    /// server sends a heartbeat every 15 s).
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.options.heartbeat_timeout = timeout;
        self
    }

    /// How long to wait for the server's answer to one request, and to connect (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// The delays between reconnections: from about `min`, doubling with jitter up to `max` (defaults
    /// 1 s and 60 s); a successful connection starts again from `min`. Failed batches of exposures
    /// and events are retried with the same delays.
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.options.backoff_min = min;
        self.options.backoff_max = max;
        self
    }

    /// Whether evaluations that serve a variant record an exposure (default on): the flag, the variant,
    /// the entity and the time, sent in batches to `POST /api/v1/exposures` so the server's experiment
    /// results count entities evaluated here. An entity's exposure to a flag is sent once while it is
    /// among the last 50,000 pairs recorded; the server counts only the first one anyway.
    pub fn record_exposures(mut self, on: bool) -> Self {
        self.measure.exposures = on;
        self
    }

    /// Whether evaluation errors record an `$error` event (default on), which the built-in
    /// `error_rate` metric counts: an unknown flag (`FLAG_NOT_FOUND`, once a configuration is loaded), a
    /// flag that cannot be evaluated (`GENERAL`), and a typed getter given another type
    /// (`TYPE_MISMATCH`).
    pub fn record_evaluation_errors(mut self, on: bool) -> Self {
        self.measure.evaluation_errors = on;
        self
    }

    /// How often exposures and events are sent when no batch of 1,000 has filled up (default 10 s).
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.measure.flush_interval = interval;
        self
    }

    /// The most exposures, and separately the most events, kept waiting to be sent (default 10,000
    /// each); beyond it new ones are dropped and counted in [`Client::recording_stats`].
    pub fn buffer_capacity(mut self, items: usize) -> Self {
        self.measure.capacity = items;
        self
    }

    /// How long [`Client::close`] (or dropping the last handle) keeps trying to send what is pending
    /// while the server fails (default 5 s); what is still unsent then is counted lost.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.measure.shutdown_timeout = timeout;
        self
    }

    /// Uses this HTTP client (proxies, custom TLS roots) instead of the SDK's own; it must not set an
    /// overall request timeout, which would cut the stream.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Fetches the environment's snapshot and starts following the stream; must run inside a Tokio
    /// runtime, which runs the background task.
    ///
    /// When the server cannot be reached (or answers anything but a snapshot or a refusal), the client
    /// starts from the snapshot file when [`persist_to`](Self::persist_to) names a readable one, and
    /// otherwise from an empty configuration (every flag answers `FLAG_NOT_FOUND`), with
    /// [`Status::Offline`]; either way it keeps trying to reach the server.
    ///
    /// # Errors
    ///
    /// [`SdkError::InvalidUrl`] for a bad base URL, [`SdkError::Unauthorized`] when the server refuses
    /// the key, [`SdkError::Http`] (or `Tls`) when the HTTP client cannot be built.
    pub async fn build(self) -> Result<Client, SdkError> {
        let endpoints = Endpoints::new(&self.base_url, self.api_key, self.environment)?;
        let http = match self.http {
            Some(http) => http,
            None => http::http_client(self.options.request_timeout)?,
        };
        let limit = self.options.request_timeout;
        let first = http::fetch_snapshot(&http, &endpoints, limit).await;
        let (loaded, status, body) = match first {
            Ok(body) => (empty(), Status::Stale, Some(body)),
            Err(Failure::Refused(status)) => {
                return Err(SdkError::Unauthorized {
                    status: status.as_u16(),
                });
            }
            Err(error) => {
                tracing::warn!(%error, "could not fetch the first snapshot; starting offline");
                let file = self.options.persist_to.as_deref().and_then(persist::load);
                if let Some(body) = &file {
                    tracing::warn!(revision = body.revision, "starting from the snapshot file");
                }
                (
                    file.map_or_else(empty, Loaded::from_body),
                    Status::Offline,
                    None,
                )
            }
        };
        let shared = Arc::new(Shared::new(loaded, status));
        let measure = measure::Options {
            backoff_min: self.options.backoff_min,
            backoff_max: self.options.backoff_max,
            ..self.measure
        };
        let recorder = Arc::new(Recorder::new(measure));
        let delivery = HttpDelivery::new(http.clone(), endpoints.clone(), limit);
        tokio::spawn(measure::run(recorder.clone(), delivery));
        let mut syncer = Syncer::new(http, endpoints, shared.clone(), self.options);
        if let Some(body) = body {
            syncer.apply_snapshot(body).await;
        }
        let task = tokio::spawn(syncer.run());
        Ok(Client::new(shared, recorder, task))
    }
}

/// No configuration: every flag answers `FLAG_NOT_FOUND`.
fn empty() -> Loaded {
    Loaded {
        snapshot: Snapshot::default(),
        origin: None,
    }
}
