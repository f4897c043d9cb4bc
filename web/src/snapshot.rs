//! `GET /api/v1/snapshot`: the caller's environment's compiled configuration, for SDKs that evaluate
//! locally with the same engine crate (`flagent-eval`).
//!
//! Shape (`application/json`):
//!
//! ```json
//! {"environmentID": 3, "revision": 17, "view": "server" | "client",
//!  "flags": [ <flagent_eval::FlagConfig>, ... ]}
//! ```
//!
//! `flags` are [`flagent_eval::FlagConfig`]s in ascending id order, exactly the data the server's
//! evaluation cache compiles: an SDK rebuilds the server's engine with
//! `Snapshot::build(revision, flags)` and gets the same answers as `/api/v1/evaluation` (ids, keys,
//! salts, bucketing, enabled, tags, entity type, variants with attachments, segments with rank,
//! rollout, constraints and distributions, prerequisites, default variant).
//!
//! What a `client` key sees (public browser/mobile keys, "only what client evaluation needs"): the same
//! flags, with every segment's `description` emptied. Nothing else in the shape is management
//! metadata (no flag descriptions, notes, created-by/updated-by or timestamps: the engine's model does
//! not carry them), and everything else changes answers, so it stays. Keys that may evaluate
//! server-side, and sessions with `flags:evaluate`, get the full configuration (`"view": "server"`).
//!
//! The views and what the `ETag` hashes are the evaluation domain's (`Evaluator::sdk_snapshot`,
//! `flagent_evaluation::View`); this module maps them to the wire.
//!
//! Invariants: no database access (the in-memory evaluation cache answers, like evaluation); the
//! strong `ETag` hashes the tenant, the environment, the revision and the view, so a flag change (which
//! bumps the revision) changes it and `If-None-Match` with the current tag answers 304 without a body.
//! `Cache-Control: no-cache`: clients may keep a copy but must revalidate. A snapshot is not an
//! evaluation and counts none in the tenant's usage.

use crate::ApiError;
use crate::auth::Auth;
use crate::etag::{self, not_modified};
use actix_web::http::header;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_eval::FlagConfig;
use flagent_evaluation::View;
use flagent_types::perm;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Registers `GET /snapshot` under `/api/v1`.
pub(crate) fn configure_snapshot(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/snapshot").route(web::get().to(get_snapshot)));
}

/// The compiled configuration of one environment at one revision.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotBody {
    /// The environment the caller's key (or session) evaluates in.
    #[serde(rename = "environmentID")]
    environment_id: i64,
    /// The environment's configuration revision; it grows with every change.
    revision: u64,
    /// `server` (full configuration) or `client` (segment descriptions removed).
    view: &'static str,
    /// Every flag of the environment by ascending id, as `flagent_eval::FlagConfig`.
    #[schema(value_type = Vec<Object>)]
    flags: Vec<FlagConfig>,
}

impl SnapshotBody {
    /// The body for `flags` (already in the view's shape) of `environment` at `revision`.
    pub(crate) fn new(environment: i64, revision: u64, view: View, flags: Vec<FlagConfig>) -> Self {
        SnapshotBody {
            environment_id: environment,
            revision,
            view: view.as_str(),
            flags,
        }
    }
}

/// The caller's environment's compiled configuration for local evaluation.
#[utoipa::path(get, path = "/api/v1/snapshot", tag = "evaluation",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of a previous answer")),
    responses(
        (status = 200, body = SnapshotBody, headers(("ETag" = String, description = "Strong tag of the tenant, environment, revision and view"))),
        (status = 304, description = "Unchanged since the If-None-Match tag"),
    ),
    security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn get_snapshot(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let snapshot = match state.evaluator.sdk_snapshot(auth.scope()) {
        Ok(snapshot) => snapshot,
        Err(denied) => return actix_web::ResponseError::error_response(&ApiError::from(denied)),
    };
    let [tenant, environment, revision, view] = snapshot.etag_input();
    let tag = etag::strong(&["api/v1 snapshot", &tenant, &environment, &revision, &view]);
    if not_modified(&req, &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish();
    }
    let body = SnapshotBody::new(
        snapshot.environment.0,
        snapshot.revision(),
        snapshot.view,
        snapshot.flags(),
    );
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(body)
}
