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
//! Invariants: no database access (the in-memory evaluation cache answers, like evaluation); the
//! strong `ETag` hashes the tenant, the environment, the revision and the view, so a flag change (which
//! bumps the revision) changes it and `If-None-Match` with the current tag answers 304 without a body.
//! `Cache-Control: no-cache`: clients may keep a copy but must revalidate. A snapshot is not an
//! evaluation and counts none in the tenant's usage.

use crate::auth::Auth;
use crate::etag::{self, not_modified};
use crate::evaluation::snapshot;
use actix_web::http::header;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_eval::FlagConfig;
use flagent_types::{TenantScope, perm};
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
    pub(crate) fn new(
        environment: i64,
        revision: u64,
        client: bool,
        flags: Vec<FlagConfig>,
    ) -> Self {
        SnapshotBody {
            environment_id: environment,
            revision,
            view: if client { "client" } else { "server" },
            flags,
        }
    }
}

/// Whether the caller only holds a `client` key's rights.
pub(crate) fn client_view(scope: &TenantScope) -> bool {
    !scope.permits::<perm::Evaluate>()
}

/// A flag as a client key may see it.
pub(crate) fn for_client(mut flag: FlagConfig) -> FlagConfig {
    for segment in &mut flag.segments {
        segment.description.clear();
    }
    flag
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
    let scope = auth.scope();
    let snap = snapshot(&state, scope);
    let client = client_view(scope);
    let view = if client { "client" } else { "server" };
    let tag = etag::strong(&[
        "api/v1 snapshot",
        &scope.tenant_id().0.to_string(),
        &scope.environment_id().0.to_string(),
        &snap.revision().to_string(),
        view,
    ]);
    if not_modified(&req, &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish();
    }
    let mut flags: Vec<FlagConfig> = snap.flags().map(|f| f.config().clone()).collect();
    flags.sort_by_key(|f| f.id);
    if client {
        flags = flags.into_iter().map(for_client).collect();
    }
    let body = SnapshotBody::new(scope.environment_id().0, snap.revision(), client, flags);
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(body)
}
