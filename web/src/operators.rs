//! The platform API for operators of the hosted service (`/api/v1/admin/tenants…`): create, list,
//! read, suspend or resume, re-plan and delete tenants. Only a signed-in `platform_admin` user reaches it.
//!
//! Invariant: after a tenant's status changes, this node's authentication caches are dropped, so a
//! suspended tenant's keys and sessions are refused from the next request on.

use crate::auth::PlatformAdmin;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Path, ServiceConfig};
use flagent_tenants::operators::{CreatedTenant, NewTenant, Operator, TenantSummary};
use flagent_types::TenantId;
use serde::Deserialize;
use utoipa::ToSchema;

/// Registers the platform routes under the `/api/v1` scope.
pub(crate) fn configure_operators(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/admin/tenants")
            .route(web::get().to(list_tenants))
            .route(web::post().to(create_tenant)),
    )
    .service(
        web::resource("/admin/tenants/{tenantID}")
            .route(web::get().to(get_tenant))
            .route(web::delete().to(delete_tenant)),
    )
    .service(
        web::resource("/admin/tenants/{tenantID}/status").route(web::put().to(set_tenant_status)),
    )
    .service(web::resource("/admin/tenants/{tenantID}/plan").route(web::put().to(set_tenant_plan)));
}

/// `POST /admin/tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateTenantBody {
    /// The tenant's key: lower-case letters, digits and single dashes, at most 40 characters.
    #[serde(default)]
    key: String,
    /// Its display name.
    #[serde(default)]
    name: String,
    /// The email of an existing account that becomes the tenant's owner.
    #[serde(default)]
    owner_email: Option<String>,
    /// `free` (default), `pro`, `enterprise` or `self-hosted`.
    #[serde(default)]
    plan: Option<String>,
}

/// `PUT /admin/tenants/{tenantID}/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// `active` or `suspended`.
    #[serde(default)]
    status: String,
}

/// `PUT /admin/tenants/{tenantID}/plan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PlanBody {
    /// `free`, `pro`, `enterprise` or `self-hosted`.
    #[serde(default)]
    plan: String,
}

fn operator(admin: &PlatformAdmin) -> Operator {
    Operator {
        user_id: admin.0.user_id(),
        email: admin.0.claims.email.clone(),
        origin: admin.0.origin.clone(),
    }
}

/// Creates an active tenant with a `default` project (`development`, `production`) and returns it with an
/// `admin` key for that project, shown only here.
#[utoipa::path(post, path = "/api/v1/admin/tenants", tag = "platform", request_body = CreateTenantBody,
    responses((status = 201, body = CreatedTenant)), security(("session" = ["platform:admin"])))]
pub(crate) async fn create_tenant(
    admin: PlatformAdmin,
    state: Data<AppState>,
    body: Body<CreateTenantBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.checked()?;
    let new = NewTenant {
        key: &body.key,
        name: &body.name,
        owner_email: body.owner_email.as_deref(),
        plan: body.plan.as_deref(),
    };
    let created = state.operators.create(&operator(&admin), new).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Lists every tenant.
#[utoipa::path(get, path = "/api/v1/admin/tenants", tag = "platform",
    responses((status = 200, body = Vec<TenantSummary>)), security(("session" = ["platform:admin"])))]
pub(crate) async fn list_tenants(
    _admin: PlatformAdmin,
    state: Data<AppState>,
) -> Result<Json<Vec<TenantSummary>>, ApiError> {
    Ok(Json(state.operators.list().await?))
}

/// Reads one tenant.
#[utoipa::path(get, path = "/api/v1/admin/tenants/{tenantID}", tag = "platform",
    params(("tenantID" = i64, Path)), responses((status = 200, body = TenantSummary)),
    security(("session" = ["platform:admin"])))]
pub(crate) async fn get_tenant(
    _admin: PlatformAdmin,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<TenantSummary>, ApiError> {
    Ok(Json(state.operators.get(TenantId(*id)).await?))
}

/// Suspends (`suspended`) or resumes (`active`) a tenant; a suspended tenant's keys and sessions are
/// refused.
#[utoipa::path(put, path = "/api/v1/admin/tenants/{tenantID}/status", tag = "platform",
    params(("tenantID" = i64, Path)), request_body = StatusBody, responses((status = 200, body = TenantSummary)),
    security(("session" = ["platform:admin"])))]
pub(crate) async fn set_tenant_status(
    admin: PlatformAdmin,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<StatusBody>,
) -> Result<Json<TenantSummary>, ApiError> {
    let body = Json(body.checked()?);
    let tenant = state
        .operators
        .set_status(&operator(&admin), TenantId(*id), &body.status)
        .await?;
    Ok(Json(tenant))
}

/// Moves a tenant to another plan.
#[utoipa::path(put, path = "/api/v1/admin/tenants/{tenantID}/plan", tag = "platform",
    params(("tenantID" = i64, Path)), request_body = PlanBody, responses((status = 200, body = TenantSummary)),
    security(("session" = ["platform:admin"])))]
pub(crate) async fn set_tenant_plan(
    admin: PlatformAdmin,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<PlanBody>,
) -> Result<Json<TenantSummary>, ApiError> {
    let body = Json(body.checked()?);
    let tenant = state
        .operators
        .set_plan(&operator(&admin), TenantId(*id), &body.plan)
        .await?;
    Ok(Json(tenant))
}

/// Deletes a tenant and everything it owns.
#[utoipa::path(delete, path = "/api/v1/admin/tenants/{tenantID}", tag = "platform",
    params(("tenantID" = i64, Path)), responses((status = 204)), security(("session" = ["platform:admin"])))]
pub(crate) async fn delete_tenant(
    admin: PlatformAdmin,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .operators
        .delete(&operator(&admin), TenantId(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
