//! API key management routes (`/api/v1/keys…`): create, list, read, rotate and revoke the keys of the
//! caller's project. Every route needs the `admin` scope.
//!
//! Invariant: no view carries a key's hash; a plaintext is sent only by create and rotate, once, with
//! `Cache-Control: no-store`.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::web::{self, Data, Json, Path, ServiceConfig};
use chrono::{DateTime, SecondsFormat, Utc};
use flagent_auth::{ApiKey, IssuedKey, KeyRequest};
use flagent_types::perm;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Registers the key management routes under the `/api/v1` scope.
pub(crate) fn configure_keys(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/keys")
            .route(web::get().to(list_keys))
            .route(web::post().to(create_key)),
    )
    .service(
        web::resource("/keys/{keyID}")
            .route(web::get().to(get_key))
            .route(web::delete().to(revoke_key)),
    )
    .service(web::resource("/keys/{keyID}/rotate").route(web::post().to(rotate_key)));
}

/// `POST /keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateKeyRequest {
    /// Display name (1 to 200 characters).
    #[serde(default)]
    name: String,
    /// At least one of `evaluate`, `client`, `read`, `write`, `admin`.
    #[serde(default)]
    scopes: Vec<String>,
    /// The key of the environment the key is bound to; absent for every environment of the project.
    #[serde(default)]
    environment: Option<String>,
    /// Expiry, an RFC 3339 time in the future; absent for never.
    #[serde(default)]
    expires_at: Option<String>,
}

impl From<CreateKeyRequest> for KeyRequest {
    fn from(r: CreateKeyRequest) -> Self {
        KeyRequest {
            name: r.name,
            scopes: r.scopes,
            environment: r.environment,
            expires_at: r.expires_at,
        }
    }
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyView {
    id: i64,
    name: String,
    /// The first characters of the key, safe to show.
    prefix: String,
    scopes: Vec<String>,
    /// The environment the key is bound to; `null` for every environment of the project.
    environment: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    /// Last use, written about once a minute.
    last_used_at: Option<String>,
}

/// A key just created or rotated, with its plaintext, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssuedKeyView {
    #[serde(flatten)]
    view: KeyView,
    /// The full key; it cannot be retrieved again.
    key: String,
}

fn time(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            environment: k.environment,
            created_at: time(k.created_at),
            expires_at: k.expires_at.map(time),
            revoked_at: k.revoked_at.map(time),
            last_used_at: k.last_used_at.map(time),
        }
    }
}

/// The issued key, never to be cached by a proxy or browser.
fn issued_reply(issued: IssuedKey) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(IssuedKeyView {
            view: issued.key.into(),
            key: issued.plaintext,
        })
}

/// Creates an API key in the caller's project; the answer carries its plaintext, shown once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "key", request_body = CreateKeyRequest,
    responses((status = 200, body = IssuedKeyView)), security(("api_key" = ["admin"]), ("session" = ["keys:manage"])))]
pub(crate) async fn create_key(
    auth: Auth<perm::ManageKeys>,
    state: Data<AppState>,
    body: Body<CreateKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let request = body.into_inner().into();
    let issued = flagent_auth::create_api_key(&state.auth, auth.scope(), request).await?;
    Ok(issued_reply(issued))
}

/// Lists the API keys of the caller's project (revoked ones included), ascending id.
#[utoipa::path(get, path = "/api/v1/keys", tag = "key",
    responses((status = 200, body = Vec<KeyView>)), security(("api_key" = ["admin"]), ("session" = ["keys:manage"])))]
pub(crate) async fn list_keys(
    auth: Auth<perm::ManageKeys>,
    state: Data<AppState>,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let keys = flagent_auth::list_api_keys(&state.auth, auth.scope()).await?;
    Ok(Json(keys.into_iter().map(KeyView::from).collect()))
}

/// Reads one API key.
#[utoipa::path(get, path = "/api/v1/keys/{keyID}", tag = "key", params(("keyID" = i64, Path)),
    responses((status = 200, body = KeyView)), security(("api_key" = ["admin"]), ("session" = ["keys:manage"])))]
pub(crate) async fn get_key(
    auth: Auth<perm::ManageKeys>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<KeyView>, ApiError> {
    let key = flagent_auth::read_api_key(&state.auth, auth.scope(), *id).await?;
    Ok(Json(key.into()))
}

/// Replaces a key by a new one with the same name, scopes, environment and expiry, and revokes the old
/// one at once; the answer carries the new plaintext, shown once.
#[utoipa::path(post, path = "/api/v1/keys/{keyID}/rotate", tag = "key", params(("keyID" = i64, Path)),
    responses((status = 200, body = IssuedKeyView)), security(("api_key" = ["admin"]), ("session" = ["keys:manage"])))]
pub(crate) async fn rotate_key(
    auth: Auth<perm::ManageKeys>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let issued = flagent_auth::rotate_api_key(&state.auth, auth.scope(), *id).await?;
    Ok(issued_reply(issued))
}

/// Revokes a key; it is refused from the next request on. Revoking a revoked key answers it unchanged,
/// and a key may revoke itself.
#[utoipa::path(delete, path = "/api/v1/keys/{keyID}", tag = "key", params(("keyID" = i64, Path)),
    responses((status = 200, body = KeyView)), security(("api_key" = ["admin"]), ("session" = ["keys:manage"])))]
pub(crate) async fn revoke_key(
    auth: Auth<perm::ManageKeys>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<KeyView>, ApiError> {
    let key = flagent_auth::revoke_api_key(&state.auth, auth.scope(), *id).await?;
    Ok(Json(key.into()))
}
