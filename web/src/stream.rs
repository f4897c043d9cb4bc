//! `GET /api/v1/stream`: Server-Sent Events that keep a local-evaluation SDK's copy of one
//! environment current (the protocol is `docs/streaming.md`).
//!
//! A stream starts with `retry:` and a `snapshot` event (the `GET /api/v1/snapshot` body), or, when
//! `Last-Event-ID` names a revision this node's change log still reaches, only the flags changed since.
//! Then every change sends `flag.updated` / `flag.deleted` events with the new revision (the last of a
//! revision's events carries `id: <revision>`) and one unnamed OFREP `refetchEvaluation` message;
//! a `heartbeat` event with the current revision goes out when nothing else has for the heartbeat period.
//!
//! Invariants: no database access on the way (the evaluation cache's feed answers; the heartbeat's
//! credential re-check uses the authenticator's caches); a subscriber that falls behind is sent what
//! changed since the revision it holds, computed when it wakes, so nothing is lost and no one waits
//! for it; the stream ends when the caller's credentials are refused (key revoked, tenant suspended,
//! session ended) at a heartbeat, or when the environment leaves the cache.

use crate::ApiError;
use crate::auth::Auth;
use crate::snapshot::SnapshotBody;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_evaluation::{Since, View};
use flagent_types::perm;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// How long a client waits before reconnecting, sent as the stream's `retry:` field (milliseconds).
const RETRY_MS: u64 = 1000;

/// The largest piece of an event handed to the connection at once.
const PIECE: usize = 8 * 1024;

/// Registers `GET /stream` under `/api/v1`.
pub(crate) fn configure_stream(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/stream").route(web::get().to(get_stream)));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamQuery {
    /// For clients that cannot set the `Last-Event-ID` header.
    last_event_id: Option<String>,
}

/// `flag.updated` data.
#[derive(Serialize)]
struct FlagUpdated<'a> {
    revision: u64,
    flag: &'a FlagConfig,
}

/// `flag.deleted` data.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagDeleted<'a> {
    revision: u64,
    #[serde(rename = "flagID")]
    flag_id: i64,
    flag_key: &'a str,
}

/// The revision a reconnecting client holds: `Last-Event-ID`, else `?lastEventId=`.
fn last_event_id(req: &HttpRequest) -> Option<u64> {
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let query = || {
        web::Query::<StreamQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().last_event_id)
    };
    header.or_else(query)?.trim().parse().ok()
}

/// The environment's change events as Server-Sent Events.
#[utoipa::path(get, path = "/api/v1/stream", tag = "evaluation",
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "The revision a reconnecting client holds"),
        ("lastEventId" = Option<String>, Query, description = "The same, for clients that cannot set headers"),
    ),
    responses((status = 200, content_type = "text/event-stream",
        description = "`snapshot`, `flag.updated`, `flag.deleted` and `heartbeat` events, and OFREP `refetchEvaluation` messages (docs/streaming.md)")),
    security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn get_stream(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let scope = auth.scope();
    let view = View::of(scope);
    let revision = match state.evaluator.subscribe(scope) {
        Ok(revision) => revision,
        Err(denied) => return actix_web::ResponseError::error_response(&ApiError::from(denied)),
    };
    let period = state.stream_heartbeat;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut subscriber = Subscriber {
        state: state.clone(),
        auth,
        view,
        revision,
        held: last_event_id(&req),
        heartbeat,
        queue: VecDeque::from([Bytes::from(format!("retry: {RETRY_MS}\n\n"))]),
        pieces: false,
    };
    subscriber.catch_up(true);
    let body = futures_util::stream::unfold(subscriber, Subscriber::next);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

/// One open stream.
struct Subscriber {
    state: Data<AppState>,
    auth: Auth<perm::Client>,
    view: View,
    revision: watch::Receiver<u64>,
    /// The revision the client holds, if any.
    held: Option<u64>,
    heartbeat: Interval,
    queue: VecDeque<Bytes>,
    /// The next chunk continues a large event.
    pieces: bool,
}

impl Subscriber {
    /// The next chunk of the body; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(mut chunk) = self.queue.pop_front() {
                // A large event goes out in pieces, letting the connection write each one before
                // taking the next, so its write buffer never grows to the event's size (it keeps
                // that size for as long as the stream is open).
                if std::mem::take(&mut self.pieces) {
                    tokio::task::yield_now().await;
                }
                if chunk.len() > PIECE {
                    let rest = chunk.split_off(PIECE);
                    self.queue.push_front(rest);
                    self.pieces = true;
                }
                return Some((Ok(chunk), self));
            }
            tokio::select! {
                changed = self.revision.changed() => {
                    if changed.is_err() || !self.catch_up(false) {
                        return None;
                    }
                    self.heartbeat.reset();
                }
                _ = self.heartbeat.tick() => {
                    if !self.auth.still_allowed(&self.state).await {
                        return None;
                    }
                    let revision = self.held.unwrap_or_default();
                    self.queue.push_back(event("heartbeat", None, &format!(r#"{{"revision":{revision}}}"#)));
                }
            }
        }
    }

    /// Queues what changed since the revision the client holds. Returns false when the environment
    /// is gone (after the start, which serves an empty snapshot until the environment is loaded).
    fn catch_up(&mut self, starting: bool) -> bool {
        self.revision.mark_unchanged();
        let Ok(since) = self
            .state
            .evaluator
            .changes_since(self.auth.scope(), self.held)
        else {
            return false; // not for this scope (checked when the stream opened)
        };
        match since {
            Since::Current => {}
            Since::Gone if starting => self.queue_snapshot(&Arc::new(Snapshot::default())),
            Since::Gone => return false,
            Since::Snapshot(snapshot) => self.queue_snapshot(&snapshot),
            Since::Changes {
                snapshot,
                updated,
                deleted,
            } => self.queue_changes(snapshot.revision(), updated, deleted),
        }
        true
    }

    fn queue_snapshot(&mut self, snapshot: &Snapshot) {
        let flags = self.view.flags(snapshot);
        let environment = self.auth.scope().environment_id().0;
        let body = SnapshotBody::new(environment, snapshot.revision(), self.view, flags);
        let data = serde_json::to_string(&body).unwrap_or_default();
        self.queue
            .push_back(event("snapshot", Some(snapshot.revision()), &data));
        self.held = Some(snapshot.revision());
    }

    fn queue_changes(
        &mut self,
        revision: u64,
        updated: Vec<FlagConfig>,
        deleted: Vec<(i64, String)>,
    ) {
        let count = updated.len() + deleted.len();
        let id = |i: usize| (i + 1 == count).then_some(revision);
        let mut i = 0;
        for flag in updated {
            let flag = self.view.shape(flag);
            let data = serde_json::to_string(&FlagUpdated {
                revision,
                flag: &flag,
            })
            .unwrap_or_default();
            self.queue.push_back(event("flag.updated", id(i), &data));
            i += 1;
        }
        for (flag_id, flag_key) in &deleted {
            let data = serde_json::to_string(&FlagDeleted {
                revision,
                flag_id: *flag_id,
                flag_key,
            })
            .unwrap_or_default();
            self.queue.push_back(event("flag.deleted", id(i), &data));
            i += 1;
        }
        self.queue.push_back(Bytes::from_static(
            b"data: {\"type\":\"refetchEvaluation\"}\n\n",
        ));
        self.held = Some(revision);
    }
}

/// One Server-Sent Event. `data` is compact JSON, so it holds no line break.
fn event(name: &str, id: Option<u64>, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + name.len() + 32);
    let _ = writeln!(out, "event: {name}");
    if let Some(id) = id {
        let _ = writeln!(out, "id: {id}");
    }
    let _ = write!(out, "data: {data}\n\n");
    Bytes::from(out)
}
