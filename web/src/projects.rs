//! Project and environment management routes (`/api/v1/projects…`): list, create and read the caller
//! tenant's projects, and add, change, reorder and archive their environments. Every route needs the
//! `admin` scope.
//!
//! Invariant: projects and environments are addressed by key within the caller's tenant only, so another
//! tenant's keys answer 404 like missing ones.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Path, ServiceConfig};
use flagent_tenants::projects::{
    Environment, EnvironmentChanges, NewEnvironment, NewProject, Project,
};
use flagent_types::perm;
use serde::Deserialize;
use utoipa::ToSchema;

/// Registers the project routes under the `/api/v1` scope.
pub(crate) fn configure_projects(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/projects")
            .route(web::get().to(list_projects))
            .route(web::post().to(create_project)),
    )
    .service(web::resource("/projects/{projectKey}").route(web::get().to(get_project)))
    .service(
        web::resource("/projects/{projectKey}/environments")
            .route(web::get().to(list_environments))
            .route(web::post().to(create_environment)),
    )
    // Registered before `{envKey}` so `reorder` is never taken for an environment key.
    .service(
        web::resource("/projects/{projectKey}/environments/reorder")
            .route(web::put().to(reorder_environments)),
    )
    .service(
        web::resource("/projects/{projectKey}/environments/{envKey}")
            .route(web::put().to(update_environment))
            .route(web::delete().to(archive_environment)),
    );
}

/// `POST /projects`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateProjectRequest {
    /// Key: letters, digits, `_ - / . :`, at most 63 characters.
    #[serde(default)]
    key: String,
    /// Display name, 1 to 200 characters.
    #[serde(default)]
    name: String,
}

/// `POST /projects/{projectKey}/environments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateEnvironmentRequest {
    /// Key: letters, digits, `_ - / . :`, at most 63 characters, not `reorder`.
    #[serde(default)]
    key: String,
    /// Display name, 1 to 200 characters.
    #[serde(default)]
    name: String,
    /// Colour, `#rrggbb`.
    #[serde(default)]
    color: Option<String>,
}

/// `PUT /projects/{projectKey}/environments/{envKey}`; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdateEnvironmentRequest {
    /// New display name.
    #[serde(default)]
    name: Option<String>,
    /// New colour, `#rrggbb`.
    #[serde(default)]
    color: Option<String>,
}

/// `PUT /projects/{projectKey}/environments/reorder`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReorderEnvironmentsRequest {
    /// Every environment key of the project, each once, in the new order.
    keys: Vec<String>,
}

/// Lists the caller tenant's projects with their environments.
#[utoipa::path(get, path = "/api/v1/projects", tag = "project",
    responses((status = 200, body = Vec<Project>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn list_projects(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<Vec<Project>>, ApiError> {
    Ok(Json(state.projects.list_projects(auth.scope()).await?))
}

/// Creates a project with the environments `development` and `production`.
#[utoipa::path(post, path = "/api/v1/projects", tag = "project", request_body = CreateProjectRequest,
    responses((status = 201, body = Project)), security(("api_key" = ["admin"]), ("session" = ["projects:manage"])))]
pub(crate) async fn create_project(
    auth: Auth<perm::ManageProjects>,
    state: Data<AppState>,
    body: Body<CreateProjectRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let CreateProjectRequest { key, name } = body.into_inner();
    let project = state
        .projects
        .create_project(auth.scope(), NewProject { key, name })
        .await?;
    Ok(HttpResponse::Created().json(project))
}

/// Reads one project of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/projects/{projectKey}", tag = "project",
    params(("projectKey" = String, Path)),
    responses((status = 200, body = Project)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_project(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    key: Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(state.projects.get_project(auth.scope(), &key).await?))
}

/// Lists a project's environments in display order.
#[utoipa::path(get, path = "/api/v1/projects/{projectKey}/environments", tag = "project",
    params(("projectKey" = String, Path)),
    responses((status = 200, body = Vec<Environment>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn list_environments(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    project: Path<String>,
) -> Result<Json<Vec<Environment>>, ApiError> {
    let envs = state
        .projects
        .list_environments(auth.scope(), &project)
        .await?;
    Ok(Json(envs))
}

/// Adds an environment after the project's others.
#[utoipa::path(post, path = "/api/v1/projects/{projectKey}/environments", tag = "project",
    params(("projectKey" = String, Path)), request_body = CreateEnvironmentRequest,
    responses((status = 201, body = Environment)), security(("api_key" = ["admin"]), ("session" = ["projects:manage"])))]
pub(crate) async fn create_environment(
    auth: Auth<perm::ManageProjects>,
    state: Data<AppState>,
    project: Path<String>,
    body: Body<CreateEnvironmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let CreateEnvironmentRequest { key, name, color } = body.into_inner();
    let new = NewEnvironment { key, name, color };
    let env = state
        .projects
        .create_environment(auth.scope(), &project, new)
        .await?;
    Ok(HttpResponse::Created().json(env))
}

/// Renames or recolours an environment.
#[utoipa::path(put, path = "/api/v1/projects/{projectKey}/environments/{envKey}", tag = "project",
    params(("projectKey" = String, Path), ("envKey" = String, Path)),
    request_body = UpdateEnvironmentRequest,
    responses((status = 200, body = Environment)), security(("api_key" = ["admin"]), ("session" = ["projects:manage"])))]
pub(crate) async fn update_environment(
    auth: Auth<perm::ManageProjects>,
    state: Data<AppState>,
    path: Path<(String, String)>,
    body: Body<UpdateEnvironmentRequest>,
) -> Result<Json<Environment>, ApiError> {
    let body = Json(body.checked()?);
    let (project, env) = path.into_inner();
    let UpdateEnvironmentRequest { name, color } = body.into_inner();
    let changes = EnvironmentChanges { name, color };
    let env = state
        .projects
        .update_environment(auth.scope(), &project, &env, changes)
        .await?;
    Ok(Json(env))
}

/// Sets the order of a project's environments; the body lists every environment once.
#[utoipa::path(put, path = "/api/v1/projects/{projectKey}/environments/reorder", tag = "project",
    params(("projectKey" = String, Path)), request_body = ReorderEnvironmentsRequest,
    responses((status = 200, body = Vec<Environment>)), security(("api_key" = ["admin"]), ("session" = ["projects:manage"])))]
pub(crate) async fn reorder_environments(
    auth: Auth<perm::ManageProjects>,
    state: Data<AppState>,
    project: Path<String>,
    body: Body<ReorderEnvironmentsRequest>,
) -> Result<Json<Vec<Environment>>, ApiError> {
    let body = Json(body.checked()?);
    let envs = state
        .projects
        .reorder_environments(auth.scope(), &project, body.into_inner().keys)
        .await?;
    Ok(Json(envs))
}

/// Archives an environment: it is no longer listed or selectable; the last one cannot be archived.
#[utoipa::path(delete, path = "/api/v1/projects/{projectKey}/environments/{envKey}", tag = "project",
    params(("projectKey" = String, Path), ("envKey" = String, Path)),
    responses((status = 204)), security(("api_key" = ["admin"]), ("session" = ["projects:manage"])))]
pub(crate) async fn archive_environment(
    auth: Auth<perm::ManageProjects>,
    state: Data<AppState>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project, env) = path.into_inner();
    state
        .projects
        .archive_environment(auth.scope(), &project, &env)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
