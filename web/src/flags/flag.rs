//! Handlers for whole flags, their tags, snapshots and entity types.

use super::requests::*;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_flags::{Flag, FlagSnapshot, SnapshotPage, Tag};
use flagent_types::{FlagId, SnapshotId, TagId, perm};

type Reply<T> = Result<Json<T>, ApiError>;

/// The flag with its version as `ETag`, so a client can send it back as `If-Match`.
fn flag_reply(flag: Flag) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", flag.version)))
        .json(flag)
}

/// Lists the flags of the caller's project as seen in the caller's environment.
#[utoipa::path(get, path = "/api/v1/flags", tag = "flag", params(FlagListQuery),
    responses((status = 200, body = Vec<Flag>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_flags(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    query: Query<FlagListQuery>,
) -> Reply<Vec<Flag>> {
    Ok(Json(
        state
            .flags
            .list_flags(auth.scope(), &query.into_inner().into())
            .await?,
    ))
}

/// Creates a flag (disabled) in every environment of the project.
#[utoipa::path(post, path = "/api/v1/flags", tag = "flag", request_body = CreateFlagRequest,
    responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_flag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    body: Body<CreateFlagRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    Ok(flag_reply(
        state
            .flags
            .create_flag(auth.scope(), body.into_inner().try_into()?)
            .await?,
    ))
}

/// Reads one flag.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}", tag = "flag", params(("flagID" = i64, Path)),
    responses((status = 200, body = Flag)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_flag(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(flag_reply(
        state.flags.flag(auth.scope(), FlagId(*id)).await?,
    ))
}

/// Changes a flag's fields; send `If-Match` (or `version`) to refuse stale writes.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}", tag = "flag", params(("flagID" = i64, Path)),
    request_body = PutFlagRequest, responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_flag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
    req: HttpRequest,
    body: Body<PutFlagRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let body = body.into_inner();
    let expected = if_match(&req)?.or(body.version);
    Ok(flag_reply(
        state
            .flags
            .update_flag(auth.scope(), FlagId(*id), body.try_into()?, expected)
            .await?,
    ))
}

/// Soft-deletes a flag (restorable).
#[utoipa::path(delete, path = "/api/v1/flags/{flagID}", tag = "flag", params(("flagID" = i64, Path)),
    responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_flag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Reply<serde_json::Value> {
    state.flags.delete_flag(auth.scope(), FlagId(*id)).await?;
    Ok(Json(serde_json::json!({})))
}

/// Turns a flag on or off in the caller's environment.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/enabled", tag = "flag", params(("flagID" = i64, Path)),
    request_body = SetFlagEnabledRequest, responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:toggle"])))]
pub(crate) async fn set_flag_enabled(
    auth: Auth<perm::Toggle>,
    state: Data<AppState>,
    id: Path<i64>,
    req: HttpRequest,
    body: Body<SetFlagEnabledRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let flag = state
        .flags
        .set_enabled(auth.scope(), FlagId(*id), body.enabled, if_match(&req)?)
        .await?;
    Ok(flag_reply(flag))
}

/// Restores a deleted flag.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/restore", tag = "flag", params(("flagID" = i64, Path)),
    responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn restore_flag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(flag_reply(
        state.flags.restore_flag(auth.scope(), FlagId(*id)).await?,
    ))
}

/// Copies a flag under a new key, disabled.
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/duplicate", tag = "flag", params(("flagID" = i64, Path)),
    request_body = DuplicateFlagRequest, responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn duplicate_flag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Option<Json<DuplicateFlagRequest>>,
) -> Result<HttpResponse, ApiError> {
    let key = flag_key(body.and_then(|b| b.into_inner().key))?;
    Ok(flag_reply(
        state
            .flags
            .duplicate_flag(auth.scope(), FlagId(*id), key)
            .await?,
    ))
}

/// Lists a flag's saved snapshots in the caller's environment, newest first.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/snapshots", tag = "flag", params(("flagID" = i64, Path), SnapshotQuery),
    responses((status = 200, body = Vec<FlagSnapshot>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_flag_snapshots(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
    query: Query<SnapshotQuery>,
) -> Reply<Vec<FlagSnapshot>> {
    let page = SnapshotPage {
        limit: query.limit.unwrap_or(100),
        offset: query.offset.unwrap_or(0),
        ascending: query
            .sort
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("asc")),
    };
    Ok(Json(
        state
            .flags
            .snapshots(auth.scope(), FlagId(*id), page)
            .await?,
    ))
}

/// Puts the flag in the caller's environment back as a snapshot of that environment recorded it
/// (variants, segments, on/off and settings; not the key). The restore is a change like any other: it
/// writes a new snapshot and a `flag.rollback` audit event. A snapshot that no longer fits (say, a
/// prerequisite on a flag since deleted) is refused whole with `import_invalid` and its problems.
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/snapshots/{snapshotID}/restore", tag = "flag",
    params(("flagID" = i64, Path), ("snapshotID" = i64, Path)),
    responses((status = 200, body = Flag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn restore_flag_snapshot(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    path: Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (flag_id, snapshot_id) = path.into_inner();
    Ok(flag_reply(
        state
            .flags
            .restore_snapshot(auth.scope(), FlagId(flag_id), SnapshotId(snapshot_id))
            .await?,
    ))
}

/// Lists the entity types used by the project's flags.
#[utoipa::path(get, path = "/api/v1/flags/entity_types", tag = "flag",
    responses((status = 200, body = Vec<String>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_entity_types(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Reply<Vec<String>> {
    Ok(Json(state.flags.entity_types(auth.scope()).await?))
}

/// Lists a flag's tags.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/tags", tag = "tag", params(("flagID" = i64, Path)),
    responses((status = 200, body = Vec<Tag>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_flag_tags(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Reply<Vec<Tag>> {
    Ok(Json(
        state.flags.flag_tags(auth.scope(), FlagId(*id)).await?,
    ))
}

/// Tags a flag.
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/tags", tag = "tag", params(("flagID" = i64, Path)),
    request_body = CreateTagRequest, responses((status = 200, body = Tag)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_flag_tag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<CreateTagRequest>,
) -> Reply<Tag> {
    let body = Json(body.checked()?);
    Ok(Json(
        state
            .flags
            .add_tag(auth.scope(), FlagId(*id), &body.value)
            .await?,
    ))
}

/// Removes a tag from a flag.
#[utoipa::path(delete, path = "/api/v1/flags/{flagID}/tags/{tagID}", tag = "tag",
    params(("flagID" = i64, Path), ("tagID" = i64, Path)), responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_flag_tag(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
) -> Reply<serde_json::Value> {
    let (flag, tag) = ids.into_inner();
    state
        .flags
        .remove_tag(auth.scope(), FlagId(flag), TagId(tag))
        .await?;
    Ok(Json(serde_json::json!({})))
}

/// Lists the project's tags.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tag", params(TagListQuery),
    responses((status = 200, body = Vec<Tag>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_all_tags(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    query: Query<TagListQuery>,
) -> Reply<Vec<Tag>> {
    Ok(Json(
        state
            .flags
            .tags(auth.scope(), query.value_like.as_deref())
            .await?,
    ))
}
