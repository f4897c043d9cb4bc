//! Crash report routes: `POST /api/v1/crashes` (any key of the environment), the environment's crash
//! groups (`GET /api/v1/crashes`) and one group with its latest reports
//! (`GET /api/v1/crashes/{groupID}`).
//!
//! Invariant: an ingestion answer is `202` only once the accepted reports are committed; a body over
//! 1 MiB is `413` before it is read whole, and a full ingest queue is `429` with `Retry-After`.

use crate::analytics::MAX_INGEST_BYTES;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Body, json_config};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Path, Query, ServiceConfig};
use flagent_analytics::{CrashFilter, CrashGroupDetail, CrashGroupPage, Ingested};
use flagent_types::perm;
use serde::Deserialize;
use utoipa::IntoParams;

/// Registers the crash routes under `/api/v1`.
pub(crate) fn configure_crashes(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/crashes")
            .app_data(json_config(MAX_INGEST_BYTES))
            .route(web::get().to(list_crash_groups))
            .route(web::post().to(post_crashes)),
    )
    .service(web::resource("/crashes/{groupID}").route(web::get().to(get_crash_group)));
}

/// Records a batch of crash reports (`{crashes: [{platform, appVersion, errorType, message, frames:
/// [{function, file, line}], entityID, timestamp, flags: {flagKey: variantKey}}]}`, at most 100) in the
/// key's environment, each in the group of its fingerprint; answers once the accepted ones are
/// committed, naming each refused one with its index and reason.
#[utoipa::path(post, path = "/api/v1/crashes", tag = "measurement",
    request_body = serde_json::Value,
    responses((status = 202, body = Ingested), (status = 400), (status = 413), (status = 429)),
    security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn post_crashes(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    body: Body<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.checked()?;
    let ingested = state.analytics.ingest_crashes(auth.scope(), &body).await?;
    Ok(HttpResponse::Accepted().json(ingested))
}

/// Query of `GET /crashes`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct CrashGroupParams {
    /// Only groups with crashes under this flag (by key).
    flag: Option<String>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Groups per page, 1 to 200 (default 50).
    limit: Option<u64>,
}

/// The crash groups of the request's environment, most recently seen first, with their counts,
/// affected entities, app versions and crashes per flag variant.
#[utoipa::path(get, path = "/api/v1/crashes", tag = "measurement", params(CrashGroupParams),
    responses((status = 200, body = CrashGroupPage), (status = 400)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn list_crash_groups(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    query: Query<CrashGroupParams>,
) -> Result<Json<CrashGroupPage>, ApiError> {
    let q = query.into_inner();
    let filter = CrashFilter {
        flag: q.flag,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(
        state.analytics.crash_groups(auth.scope(), filter).await?,
    ))
}

/// One crash group of the request's environment with its 20 most recent reports (entities shown only
/// as their hash).
#[utoipa::path(get, path = "/api/v1/crashes/{groupID}", tag = "measurement",
    params(("groupID" = i64, Path)),
    responses((status = 200, body = CrashGroupDetail), (status = 404)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_crash_group(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<CrashGroupDetail>, ApiError> {
    let group = state
        .analytics
        .crash_group(auth.scope(), id.into_inner())
        .await?;
    Ok(Json(group))
}
