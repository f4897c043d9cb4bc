//! Handlers for a flag across environments: copy its configuration, compare it.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_flags::{Flag, FlagComparison};
use flagent_types::{FlagId, perm};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// `POST /flags/{flagID}/copy`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CopyFlagRequest {
    /// The environment to copy from.
    from: String,
    /// The environment whose state is replaced.
    to: String,
}

/// Query of `GET /flags/{flagID}/compare`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct CompareQuery {
    /// Comma-separated environment keys; every environment of the project when absent.
    environments: Option<String>,
}

/// Replaces the flag's state (enabled, segments, constraints, distributions) in `to` with its state in
/// `from`; answers the flag as it now stands in `to`. The caller needs write access to `to` itself (a
/// key bound to, or a role limited to, another environment is refused).
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/copy", tag = "flag", params(("flagID" = i64, Path)),
    request_body = CopyFlagRequest, responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn copy_flag_between_environments(
    // Write in the request's environment is checked here; the copy itself is authorised in `to`.
    _source: Auth<perm::Write>,
    req: HttpRequest,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<CopyFlagRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let target = crate::auth::authorize_in_environment::<perm::Write>(&req, &body.to).await?;
    let flag = state
        .flags
        .copy_between_environments(&target, FlagId(*id), &body.from, &body.to)
        .await?;
    Ok(HttpResponse::Ok().json(flag))
}

/// Shows the flag's state in several environments and what differs.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/compare", tag = "flag", params(("flagID" = i64, Path), CompareQuery),
    responses((status = 200, body = FlagComparison)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn compare_flag_environments(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
    query: Query<CompareQuery>,
) -> Result<Json<FlagComparison>, ApiError> {
    let keys: Vec<String> = query
        .environments
        .as_deref()
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(
        state
            .flags
            .compare_environments(auth.scope(), FlagId(*id), &keys)
            .await?,
    ))
}
