//! Projects and their environments: listing and creating projects, and adding, renaming, recolouring,
//! reordering and archiving environments.
//!
//! Invariant: every change runs in one tenant transaction (which locks the tenant row first) that also
//! appends its audit event; after it commits, [`EnvironmentsChanged`] is told, so caches built from the
//! environment list (API keys' environments) are rebuilt before the call returns.
//! Invariant: creating a project or an environment checks the plan's `projects` and `environments`
//! limits inside that transaction, after the tenant row is locked, so the count cannot race.
//! Invariant: a project always keeps at least one live environment, and no live API key is bound to an
//! archived one; archived environments keep their rows and their keys, and are never listed or
//! selectable again.

use crate::TenantsError;
use crate::bootstrap::DEFAULT_ENVIRONMENTS;
use crate::plans::{Limit, check_limit};
use flagent_storage::entities::{environment, project};
use flagent_storage::{Connection, Db, NewAuditEvent, Scoped, TenantTx};
use flagent_types::{AuditAction, TenantScope, perm, valid_key};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use utoipa::ToSchema;

mod environments;

/// Told after a project's environments changed: the port through which the composition root refreshes
/// the caches built from environment lists (API keys' environments, the evaluation cache).
pub trait EnvironmentsChanged: Send + Sync {
    /// The environments of project `project` of the caller's tenant changed and are committed.
    fn environments_changed<'a>(
        &'a self,
        scope: &'a TenantScope,
        project: i64,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>>;
}

/// Project and environment management, one method per use case.
#[derive(Clone)]
pub struct Projects {
    db: Db,
    changed: Arc<dyn EnvironmentsChanged>,
}

/// A project as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Row id.
    pub id: i64,
    /// Unique key within the tenant.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Creation time (ms since the epoch).
    pub created_at: i64,
    /// The live environments, in display order.
    pub environments: Vec<Environment>,
}

/// An environment as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// Row id.
    pub id: i64,
    /// Unique key within the project.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Colour, `#rrggbb`.
    pub color: String,
    /// Position in the project's list (ascending).
    pub sort_order: i64,
    /// Configuration revision, raised by every flag change in it.
    pub revision: i64,
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Key: letters, digits, `_ - / . :`, at most 63 characters.
    pub key: String,
    /// Display name, 1 to 200 characters.
    pub name: String,
}

/// An environment to create.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    /// Key: letters, digits, `_ - / . :`, at most 63 characters, not `reorder`.
    pub key: String,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Colour, `#rrggbb` (grey when absent).
    pub color: Option<String>,
}

/// Changes to an environment; absent fields are kept.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentChanges {
    /// New display name.
    pub name: Option<String>,
    /// New colour, `#rrggbb`.
    pub color: Option<String>,
}

/// The colour of an environment created without one.
const DEFAULT_COLOR: &str = "#757575";

/// A key that would collide with the `/environments/reorder` route.
const RESERVED_ENVIRONMENT_KEY: &str = "reorder";

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> TenantsError {
    TenantsError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn check_key(field: &'static str, key: &str) -> Result<(), TenantsError> {
    valid_key(key).map_err(|e| invalid(field, e.to_string()))
}

fn check_name(name: &str) -> Result<String, TenantsError> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(invalid("name", "name must not be empty")),
        n if n > 200 => Err(invalid("name", "name must be at most 200 characters")),
        _ => Ok(name.to_owned()),
    }
}

fn check_color(color: &str) -> Result<String, TenantsError> {
    let hex = color.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(color.to_ascii_lowercase())
    } else {
        Err(invalid("color", "color must be #rrggbb, such as #2e7d32"))
    }
}

fn environment_view(row: &environment::Model) -> Environment {
    Environment {
        id: row.id,
        key: row.key.clone(),
        name: row.name.clone(),
        color: row.color.clone(),
        sort_order: row.sort_order,
        revision: row.revision,
    }
}

fn project_view(row: project::Model, environments: &[environment::Model]) -> Project {
    Project {
        id: row.id,
        key: row.key,
        name: row.name,
        created_at: row.created_at,
        environments: environments.iter().map(environment_view).collect(),
    }
}

pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// JSON text of a view, or `null`.
pub(crate) fn json<T: Serialize>(value: Option<&T>) -> String {
    value
        .and_then(|v| serde_json::to_string(v).ok())
        .unwrap_or_else(|| "null".to_owned())
}

/// The audit event of a change by the scope's principal; `change` is the before and after JSON.
fn event(
    scope: &TenantScope,
    action: AuditAction,
    resource: (&str, i64),
    environment: &str,
    change: (String, String),
) -> NewAuditEvent {
    let id = resource.1.to_string();
    NewAuditEvent::by(
        scope,
        action,
        (resource.0, &id),
        environment,
        change.0,
        change.1,
    )
}

async fn project_by_key(
    db: &Scoped<impl Connection>,
    key: &str,
) -> Result<project::Model, TenantsError> {
    db.project_by_key(key)
        .await?
        .ok_or_else(|| TenantsError::ProjectNotFound(key.to_owned()))
}

async fn environment_by_key(
    db: &Scoped<impl Connection>,
    project: &project::Model,
    key: &str,
) -> Result<environment::Model, TenantsError> {
    db.environment_by_key(project.id, key)
        .await?
        .ok_or_else(|| TenantsError::EnvironmentNotFound(key.to_owned()))
}

/// Inserts an environment into `project` at `sort_order`.
async fn insert_environment(
    tx: &TenantTx,
    project: i64,
    new: (&str, &str, &str),
    sort_order: i64,
) -> Result<environment::Model, TenantsError> {
    let (key, name, color) = new;
    let now = now_millis();
    tx.insert_row(environment::New {
        project_id: project,
        key: key.to_owned(),
        name: name.to_owned(),
        sort_order,
        color: color.to_owned(),
        revision: 0,
        created_at: now,
        archived_at: None,
        revised_at: now,
    })
    .await
    .map_err(|e| match e {
        flagent_storage::StorageError::Duplicate(_) => {
            TenantsError::EnvironmentKeyTaken(key.to_owned())
        }
        other => other.into(),
    })
}

impl Projects {
    /// Management of the projects stored in `db`; `changed` is told after every environment change.
    pub fn new(db: Db, changed: Arc<dyn EnvironmentsChanged>) -> Self {
        Self { db, changed }
    }

    /// Every project of the caller's tenant, with its environments.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn list_projects(&self, scope: &TenantScope) -> Result<Vec<Project>, TenantsError> {
        scope.require::<perm::Read>()?;
        self.navigation(scope).await
    }

    /// The projects and environments a caller of the tenant chooses where to work from (the admin UI's
    /// navigation): every authenticated caller may see them, whatever their role, as a request may name
    /// any of them in `X-Project` and `X-Environment`.
    pub async fn navigation(&self, scope: &TenantScope) -> Result<Vec<Project>, TenantsError> {
        let tdb = self.db.scoped(scope);
        let mut projects = Vec::new();
        for row in tdb.projects().await? {
            let envs = tdb.environments_of_project(row.id).await?;
            projects.push(project_view(row, &envs));
        }
        Ok(projects)
    }

    /// The caller tenant's project with `key`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), project = %key))]
    pub async fn get_project(
        &self,
        scope: &TenantScope,
        key: &str,
    ) -> Result<Project, TenantsError> {
        scope.require::<perm::Read>()?;
        let tdb = self.db.scoped(scope);
        let row = project_by_key(&tdb, key).await?;
        let envs = tdb.environments_of_project(row.id).await?;
        Ok(project_view(row, &envs))
    }

    /// Creates a project with the default environments (`development`, `production`).
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), project = %new.key))]
    pub async fn create_project(
        &self,
        scope: &TenantScope,
        new: NewProject,
    ) -> Result<Project, TenantsError> {
        scope.require::<perm::ManageProjects>()?;
        check_key("key", &new.key)?;
        let name = check_name(&new.name)?;
        let tx = self.db.scoped(scope).begin().await?;
        let taken = || TenantsError::ProjectKeyTaken(new.key.clone());
        if tx.project_by_key(&new.key).await?.is_some() {
            return Err(taken());
        }
        let plan = tx.tenant_plan().await?;
        check_limit(&plan, Limit::Projects, 1, tx.count_projects()).await?;
        let defaults = DEFAULT_ENVIRONMENTS.len() as u64;
        check_limit(&plan, Limit::Environments, defaults, async { Ok(0) }).await?;
        let row = tx
            .insert_row(project::New {
                key: new.key.clone(),
                name,
                created_at: now_millis(),
            })
            .await
            .map_err(|e| match e {
                flagent_storage::StorageError::Duplicate(_) => taken(),
                other => other.into(),
            })?;
        let mut envs = Vec::new();
        for (order, env) in DEFAULT_ENVIRONMENTS.iter().enumerate() {
            envs.push(insert_environment(&tx, row.id, *env, order as i64).await?);
        }
        let view = project_view(row, &envs);
        let change = (json::<Project>(None), json(Some(&view)));
        let audit = event(
            scope,
            AuditAction::ProjectCreate,
            ("project", view.id),
            "",
            change,
        );
        tx.append_audit(audit).await?;
        tx.commit().await?;
        self.changed.environments_changed(scope, view.id).await;
        Ok(view)
    }

    /// The live environments of the caller tenant's project `project`, in display order.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), project = %project))]
    pub async fn list_environments(
        &self,
        scope: &TenantScope,
        project: &str,
    ) -> Result<Vec<Environment>, TenantsError> {
        scope.require::<perm::Read>()?;
        let tdb = self.db.scoped(scope);
        let row = project_by_key(&tdb, project).await?;
        let envs = tdb.environments_of_project(row.id).await?;
        Ok(envs.iter().map(environment_view).collect())
    }
}
