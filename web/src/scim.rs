//! SCIM 2.0 routes (`/scim/v2`, RFC 7644): the token's tenant's people and groups, and the discovery
//! documents. Every route needs a SCIM token (an API key with the `scim` scope alone).
//!
//! Invariant: bodies are read as JSON whatever their content type (`application/scim+json` or
//! `application/json`), answers are `application/scim+json`, and refusals use SCIM's error body
//! (`urn:ietf:params:scim:api:messages:2.0:Error`) with the status and `scimType` the RFC names.

use crate::auth::Auth;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::{self, Bytes, Data, Path, Query, ServiceConfig};
use actix_web::{HttpResponse, ResponseError};
use flagent_auth::sso::{ScimError, ScimQuery};
use flagent_types::perm;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

/// The media type of every SCIM answer.
const SCIM_JSON: &str = "application/scim+json";

/// Registers the SCIM routes at the root.
pub(crate) fn configure_scim(cfg: &mut ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .service(
                web::resource("/ServiceProviderConfig")
                    .route(web::get().to(service_provider_config)),
            )
            .service(web::resource("/Schemas").route(web::get().to(schemas)))
            .service(web::resource("/Schemas/{schemaID}").route(web::get().to(schema)))
            .service(web::resource("/ResourceTypes").route(web::get().to(resource_types)))
            .service(web::resource("/ResourceTypes/{typeID}").route(web::get().to(resource_type)))
            .service(
                web::resource("/Users")
                    .route(web::get().to(list_users))
                    .route(web::post().to(create_user)),
            )
            .service(web::resource("/.search").route(web::post().to(search_all)))
            .service(web::resource("/Users/.search").route(web::post().to(search_users)))
            .service(
                web::resource("/Users/{userID}")
                    .route(web::get().to(get_user))
                    .route(web::put().to(replace_user))
                    .route(web::patch().to(patch_user))
                    .route(web::delete().to(delete_user)),
            )
            .service(
                web::resource("/Groups")
                    .route(web::get().to(list_groups))
                    .route(web::post().to(create_group)),
            )
            .service(web::resource("/Groups/.search").route(web::post().to(search_groups)))
            .service(
                web::resource("/Groups/{groupID}")
                    .route(web::get().to(get_group))
                    .route(web::put().to(replace_group))
                    .route(web::patch().to(patch_group))
                    .route(web::delete().to(delete_group)),
            )
            .default_service(web::to(unknown)),
    );
}

/// Any other path under `/scim/v2`: a SCIM 404.
async fn unknown() -> Answer {
    Err(ScimError::not_found("no SCIM endpoint at this path").into())
}

/// A SCIM refusal as an HTTP answer.
#[derive(Debug)]
pub(crate) struct ScimFailure(ScimError);

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        ScimFailure(error)
    }
}

impl std::fmt::Display for ScimFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for ScimFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        answer(self.status_code(), &self.0.to_json())
    }
}

type Answer = Result<HttpResponse, ScimFailure>;

fn answer(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(SCIM_JSON)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body.to_string())
}

fn ok(body: &Value) -> Answer {
    Ok(answer(StatusCode::OK, body))
}

/// `201 Created` with the resource's `Location`.
fn created(body: &Value) -> Answer {
    let mut response = answer(StatusCode::CREATED, body);
    if let Some(Ok(location)) = body["meta"]["location"]
        .as_str()
        .map(header::HeaderValue::from_str)
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The body as JSON, whatever its content type.
fn json_body(body: &Bytes) -> Result<Value, ScimFailure> {
    serde_json::from_slice(body).map_err(|e| {
        ScimFailure(ScimError::invalid_syntax(format!(
            "the body is not JSON: {e}"
        )))
    })
}

/// `filter`, `startIndex` and `count` of a list request, and the attributes to return.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ListQuery {
    /// A SCIM filter (`userName eq "ada@acme.com"`).
    filter: Option<String>,
    /// The 1-based index of the first result.
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    /// How many results at most (up to 200).
    count: Option<String>,
    /// The attributes to return (comma-separated paths), besides those always returned.
    attributes: Option<String>,
    /// The attributes to leave out (comma-separated paths).
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// The attributes to return of one resource.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ResourceQuery {
    /// The attributes to return (comma-separated paths), besides those always returned.
    attributes: Option<String>,
    /// The attributes to leave out (comma-separated paths).
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// The query string as a [`ScimQuery`], or a SCIM refusal when it does not parse.
fn list_query(query: Result<Query<ListQuery>, actix_web::Error>) -> Result<ScimQuery, ScimFailure> {
    let query = query
        .map(Query::into_inner)
        .map_err(|_| ScimFailure(ScimError::invalid_value("the query does not parse")))?;
    Ok(ScimQuery {
        filter: query.filter,
        start_index: query.start_index,
        count: query.count,
        attributes: query.attributes,
        excluded_attributes: query.excluded_attributes,
    })
}

/// The query string of a one-resource request as a [`ScimQuery`].
fn resource_query(
    query: Result<Query<ResourceQuery>, actix_web::Error>,
) -> Result<ScimQuery, ScimFailure> {
    let query = query
        .map(Query::into_inner)
        .map_err(|_| ScimFailure(ScimError::invalid_value("the query does not parse")))?;
    Ok(ScimQuery {
        attributes: query.attributes,
        excluded_attributes: query.excluded_attributes,
        ..ScimQuery::default()
    })
}

/// What this SCIM service supports (patch and filtering; no bulk, sorting, ETags or password change).
#[utoipa::path(get, path = "/scim/v2/ServiceProviderConfig", tag = "scim",
    responses((status = 200, description = "the service provider configuration (RFC 7643 §5)")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn service_provider_config(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
) -> Answer {
    ok(&state.sso.scim_service_provider_config(auth.scope())?)
}

/// The User and Group schemas.
#[utoipa::path(get, path = "/scim/v2/Schemas", tag = "scim",
    responses((status = 200, description = "a ListResponse of the schemas (RFC 7643 §7)")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn schemas(auth: Auth<perm::Scim>, state: Data<AppState>) -> Answer {
    ok(&state.sso.scim_schemas(auth.scope(), None)?)
}

/// One schema, by its URN.
#[utoipa::path(get, path = "/scim/v2/Schemas/{schemaID}", tag = "scim", params(("schemaID" = String, Path)),
    responses((status = 200, description = "the schema"), (status = 404, description = "no such schema")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn schema(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
) -> Answer {
    ok(&state.sso.scim_schemas(auth.scope(), Some(&id))?)
}

/// The User and Group resource types.
#[utoipa::path(get, path = "/scim/v2/ResourceTypes", tag = "scim",
    responses((status = 200, description = "a ListResponse of the resource types (RFC 7643 §6)")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn resource_types(auth: Auth<perm::Scim>, state: Data<AppState>) -> Answer {
    ok(&state.sso.scim_resource_types(auth.scope(), None)?)
}

/// One resource type, by its name (`User`, `Group`).
#[utoipa::path(get, path = "/scim/v2/ResourceTypes/{typeID}", tag = "scim", params(("typeID" = String, Path)),
    responses((status = 200, description = "the resource type"), (status = 404, description = "no such type")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn resource_type(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
) -> Answer {
    ok(&state.sso.scim_resource_types(auth.scope(), Some(&id))?)
}

/// The provisioned people (filter with `userName eq`, `externalId eq`, or any SCIM filter).
#[utoipa::path(get, path = "/scim/v2/Users", tag = "scim", params(ListQuery),
    responses((status = 200, description = "a ListResponse of Users")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn list_users(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    query: Result<Query<ListQuery>, actix_web::Error>,
) -> Answer {
    let query = list_query(query)?;
    ok(&state.sso.scim_list_users(auth.scope(), &query).await?)
}

/// A search across resource types, which this service does not offer: search `/Users/.search` or
/// `/Groups/.search` instead (RFC 7644 §3.4.3 lets a service provider decline it).
#[utoipa::path(post, path = "/scim/v2/.search", tag = "scim",
    request_body(content = String, description = "a SearchRequest", content_type = "application/scim+json"),
    responses((status = 501, description = "not offered: search one resource type")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn search_all(_auth: Auth<perm::Scim>) -> Answer {
    Err(ScimError::not_implemented(
        "searching several resource types at once is not offered; search /Users/.search or \
         /Groups/.search",
    )
    .into())
}

/// Searches the users with a SearchRequest body (RFC 7644 §3.4.3), as `GET /Users` does with a query.
#[utoipa::path(post, path = "/scim/v2/Users/.search", tag = "scim",
    request_body(content = String, description = "a SearchRequest", content_type = "application/scim+json"),
    responses((status = 200, description = "a ListResponse of Users")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn search_users(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    body: Bytes,
) -> Answer {
    let query = ScimQuery::from_search(&json_body(&body)?)?;
    ok(&state.sso.scim_list_users(auth.scope(), &query).await?)
}

/// Provisions a person: a new account, or an existing one that is a member already or whose email is
/// in a verified domain; a member with the role their groups map to.
#[utoipa::path(post, path = "/scim/v2/Users", tag = "scim",
    request_body(content = String, description = "a User (RFC 7643 §4.1)", content_type = "application/scim+json"),
    responses((status = 201, description = "the User"), (status = 409, description = "userName or the account is taken")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn create_user(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    created(&state.sso.scim_create_user(auth.scope(), &body).await?)
}

/// One provisioned person.
#[utoipa::path(get, path = "/scim/v2/Users/{userID}", tag = "scim", params(("userID" = String, Path), ResourceQuery),
    responses((status = 200, description = "the User"), (status = 404, description = "not here")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn get_user(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    query: Result<Query<ResourceQuery>, actix_web::Error>,
) -> Answer {
    let query = resource_query(query)?;
    ok(&state.sso.scim_get_user(auth.scope(), &id, &query).await?)
}

/// Replaces a provisioned person; `active: false` ends their membership at once.
#[utoipa::path(put, path = "/scim/v2/Users/{userID}", tag = "scim", params(("userID" = String, Path)),
    request_body(content = String, description = "a User", content_type = "application/scim+json"),
    responses((status = 200, description = "the User")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn replace_user(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(&state
        .sso
        .scim_replace_user(auth.scope(), &id, &body)
        .await?)
}

/// Changes a provisioned person (RFC 7644 §3.5.2 PatchOp).
#[utoipa::path(patch, path = "/scim/v2/Users/{userID}", tag = "scim", params(("userID" = String, Path)),
    request_body(content = String, description = "a PatchOp", content_type = "application/scim+json"),
    responses((status = 200, description = "the User")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn patch_user(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(&state.sso.scim_patch_user(auth.scope(), &id, &body).await?)
}

/// Deletes a provisioned person from the tenant (their account stays).
#[utoipa::path(delete, path = "/scim/v2/Users/{userID}", tag = "scim", params(("userID" = String, Path)),
    responses((status = 204, description = "deleted")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn delete_user(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
) -> Answer {
    state.sso.scim_delete_user(auth.scope(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The provisioned groups (filter with `displayName eq`, or any SCIM filter).
#[utoipa::path(get, path = "/scim/v2/Groups", tag = "scim", params(ListQuery),
    responses((status = 200, description = "a ListResponse of Groups")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn list_groups(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    query: Result<Query<ListQuery>, actix_web::Error>,
) -> Answer {
    let query = list_query(query)?;
    ok(&state.sso.scim_list_groups(auth.scope(), &query).await?)
}

/// Searches the groups with a SearchRequest body (RFC 7644 §3.4.3), as `GET /Groups` does with a query.
#[utoipa::path(post, path = "/scim/v2/Groups/.search", tag = "scim",
    request_body(content = String, description = "a SearchRequest", content_type = "application/scim+json"),
    responses((status = 200, description = "a ListResponse of Groups")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn search_groups(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    body: Bytes,
) -> Answer {
    let query = ScimQuery::from_search(&json_body(&body)?)?;
    ok(&state.sso.scim_list_groups(auth.scope(), &query).await?)
}

/// Creates a group; its members' roles follow from the providers' mapping rules.
#[utoipa::path(post, path = "/scim/v2/Groups", tag = "scim",
    request_body(content = String, description = "a Group (RFC 7643 §4.2)", content_type = "application/scim+json"),
    responses((status = 201, description = "the Group"), (status = 409, description = "the name is taken")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn create_group(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    created(&state.sso.scim_create_group(auth.scope(), &body).await?)
}

/// One provisioned group.
#[utoipa::path(get, path = "/scim/v2/Groups/{groupID}", tag = "scim", params(("groupID" = String, Path), ResourceQuery),
    responses((status = 200, description = "the Group"), (status = 404, description = "not here")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn get_group(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    query: Result<Query<ResourceQuery>, actix_web::Error>,
) -> Answer {
    let query = resource_query(query)?;
    ok(&state.sso.scim_get_group(auth.scope(), &id, &query).await?)
}

/// Replaces a group's name and members.
#[utoipa::path(put, path = "/scim/v2/Groups/{groupID}", tag = "scim", params(("groupID" = String, Path)),
    request_body(content = String, description = "a Group", content_type = "application/scim+json"),
    responses((status = 200, description = "the Group")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn replace_group(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(&state
        .sso
        .scim_replace_group(auth.scope(), &id, &body)
        .await?)
}

/// Changes a group: adds or removes members, renames it (RFC 7644 §3.5.2 PatchOp).
#[utoipa::path(patch, path = "/scim/v2/Groups/{groupID}", tag = "scim", params(("groupID" = String, Path)),
    request_body(content = String, description = "a PatchOp", content_type = "application/scim+json"),
    responses((status = 200, description = "the Group")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn patch_group(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
    body: Bytes,
) -> Answer {
    let body = json_body(&body)?;
    ok(&state.sso.scim_patch_group(auth.scope(), &id, &body).await?)
}

/// Deletes a group; its former members' roles follow.
#[utoipa::path(delete, path = "/scim/v2/Groups/{groupID}", tag = "scim", params(("groupID" = String, Path)),
    responses((status = 204, description = "deleted")),
    security(("api_key" = ["scim"]), ("session" = ["scim:provision"])))]
pub(crate) async fn delete_group(
    auth: Auth<perm::Scim>,
    state: Data<AppState>,
    id: Path<String>,
) -> Answer {
    state.sso.scim_delete_group(auth.scope(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
