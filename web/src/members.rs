//! Member, invitation and role routes (`/api/v1/members…`, `/api/v1/invitations…`, `/api/v1/roles…`).
//!
//! Invariant: members and invitations are addressed within the caller's tenant only; another tenant's
//! ids answer 404 like missing ones.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Path, ServiceConfig};
use flagent_tenants::members::{Invitation, Member, Role};
use flagent_types::{UserId, perm};
use serde::Deserialize;
use utoipa::ToSchema;

/// Registers the member routes under the `/api/v1` scope.
pub(crate) fn configure_members(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/members").route(web::get().to(list_members)))
        .service(
            web::resource("/members/{userID}")
                .route(web::put().to(change_member_role))
                .route(web::delete().to(remove_member)),
        )
        .service(
            web::resource("/invitations")
                .route(web::get().to(list_invitations))
                .route(web::post().to(create_invitation)),
        )
        .service(
            web::resource("/invitations/{invitationID}").route(web::delete().to(revoke_invitation)),
        )
        .service(
            web::resource("/roles")
                .route(web::get().to(list_roles))
                .route(web::post().to(create_role)),
        )
        .service(
            web::resource("/roles/{roleKey}")
                .route(web::put().to(update_role))
                .route(web::delete().to(delete_role)),
        );
}

/// `PUT /members/{userID}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RoleBody {
    /// The role's key: `owner`, `admin`, `editor`, `viewer` or a custom role.
    #[serde(default)]
    role: String,
}

/// `POST /invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InviteBody {
    /// The address to invite.
    #[serde(default)]
    email: String,
    /// The role they will get.
    #[serde(default)]
    role: String,
}

/// `POST /roles` and `PUT /roles/{roleKey}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RoleDefinition {
    /// Key (only on create; the path names it on update).
    #[serde(default)]
    key: String,
    /// Display name.
    #[serde(default)]
    name: String,
    /// Permissions such as `flags:read`, `flags:write:production`, `keys:manage`, `audit:read`.
    #[serde(default)]
    permissions: Vec<String>,
}

/// Lists the tenant's members and their roles.
#[utoipa::path(get, path = "/api/v1/members", tag = "member",
    responses((status = 200, body = Vec<Member>)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn list_members(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(state.members.list_members(auth.scope()).await?))
}

/// Gives a member another role (only an owner grants or takes away `owner`).
#[utoipa::path(put, path = "/api/v1/members/{userID}", tag = "member", params(("userID" = i64, Path)),
    request_body = RoleBody, responses((status = 200, body = Member)),
    security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn change_member_role(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<RoleBody>,
) -> Result<Json<Member>, ApiError> {
    let body = Json(body.checked()?);
    let member = state
        .members
        .change_role(auth.scope(), UserId(*id), &body.role)
        .await?;
    Ok(Json(member))
}

/// Removes a member; their sessions can do nothing in the tenant from the next request on.
#[utoipa::path(delete, path = "/api/v1/members/{userID}", tag = "member", params(("userID" = i64, Path)),
    responses((status = 204)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn remove_member(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .members
        .remove_member(auth.scope(), UserId(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists pending invitations.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "member",
    responses((status = 200, body = Vec<Invitation>)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn list_invitations(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    Ok(Json(state.members.list_invitations(auth.scope()).await?))
}

/// Invites someone by email with a role; the mailed link works for seven days.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "member", request_body = InviteBody,
    responses((status = 201, body = Invitation)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn create_invitation(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    body: Body<InviteBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let invitation = state
        .members
        .invite(auth.scope(), &body.email, &body.role)
        .await?;
    Ok(HttpResponse::Created().json(invitation))
}

/// Withdraws a pending invitation.
#[utoipa::path(delete, path = "/api/v1/invitations/{invitationID}", tag = "member",
    params(("invitationID" = i64, Path)), responses((status = 204)),
    security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn revoke_invitation(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.members.revoke_invitation(auth.scope(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the built-in roles and the tenant's custom roles with their permissions.
#[utoipa::path(get, path = "/api/v1/roles", tag = "member",
    responses((status = 200, body = Vec<Role>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn list_roles(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<Vec<Role>>, ApiError> {
    Ok(Json(state.members.list_roles(auth.scope()).await?))
}

/// Creates a custom role.
#[utoipa::path(post, path = "/api/v1/roles", tag = "member", request_body = RoleDefinition,
    responses((status = 201, body = Role)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn create_role(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    body: Body<RoleDefinition>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let role = state
        .members
        .save_role(
            auth.scope(),
            &body.key,
            &body.name,
            &body.permissions,
            false,
        )
        .await?;
    Ok(HttpResponse::Created().json(role))
}

/// Replaces a custom role's name and permissions; members holding it get the new permissions at once.
#[utoipa::path(put, path = "/api/v1/roles/{roleKey}", tag = "member", params(("roleKey" = String, Path)),
    request_body = RoleDefinition, responses((status = 200, body = Role)),
    security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn update_role(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    key: Path<String>,
    body: Body<RoleDefinition>,
) -> Result<Json<Role>, ApiError> {
    let body = Json(body.checked()?);
    if !body.key.is_empty() && body.key != *key {
        return Err(ApiError::invalid("key", "a role's key cannot be changed"));
    }
    let role = state
        .members
        .save_role(auth.scope(), &key, &body.name, &body.permissions, true)
        .await?;
    Ok(Json(role))
}

/// Deletes a custom role that no member or invitation holds.
#[utoipa::path(delete, path = "/api/v1/roles/{roleKey}", tag = "member", params(("roleKey" = String, Path)),
    responses((status = 204)), security(("api_key" = ["admin"]), ("session" = ["members:manage"])))]
pub(crate) async fn delete_role(
    auth: Auth<perm::ManageMembers>,
    state: Data<AppState>,
    key: Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.members.delete_role(auth.scope(), &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
