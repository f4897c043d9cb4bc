//! The first-start bootstrap.
//!
//! Invariant: it only ever runs against a database with no tenant, so restarting a server never creates
//! a second default tenant.

use flagent_storage::entities::{environment, project, tenant};
use flagent_storage::{Db, StorageError};
use flagent_types::{SystemScope, TenantId, TenantStatus};

/// Why a tenant, project or environment use case failed.
#[derive(Debug, thiserror::Error)]
pub enum TenantsError {
    /// No project with this key in the caller's tenant.
    #[error("project {0:?} not found")]
    ProjectNotFound(String),
    /// No live environment with this key in the project.
    #[error("environment {0:?} not found")]
    EnvironmentNotFound(String),
    /// The tenant already has a project with this key.
    #[error("a project with key {0:?} already exists")]
    ProjectKeyTaken(String),
    /// The project already has (or had, archived) an environment with this key.
    #[error("an environment with key {0:?} already exists in this project")]
    EnvironmentKeyTaken(String),
    /// The environment is the project's last live one.
    #[error("environment {0:?} is the project's last environment and cannot be archived")]
    LastEnvironment(String),
    /// Live API keys are bound to the environment, so it cannot be archived.
    #[error("environment {0:?} has live API keys bound to it; revoke them before archiving it")]
    EnvironmentInUse(String),
    /// A field failed validation.
    #[error("{reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// Why, as a message.
        reason: String,
    },
    /// The tenant has no member with this user id.
    #[error("user {0} is not a member of this tenant")]
    MemberNotFound(i64),
    /// No built-in or custom role with this key.
    #[error("role {0:?} not found")]
    RoleNotFound(String),
    /// The tenant already has a custom role with this key, or it names a built-in role.
    #[error("a role with key {0:?} already exists")]
    RoleKeyTaken(String),
    /// Members, pending invitations or identity providers still grant the role.
    #[error(
        "role {0:?} is held by members, invitations or identity providers; give them another role first"
    )]
    RoleInUse(String),
    /// The change would leave the tenant without an owner.
    #[error("a tenant keeps at least one owner")]
    LastOwner,
    /// Only an owner may grant, change or remove the owner role.
    #[error("only an owner may grant, change or remove the owner role")]
    OwnerOnly,
    /// The user is already a member (or already invited).
    #[error("{0} is already a member of this tenant")]
    AlreadyMember(String),
    /// No pending invitation with this id.
    #[error("invitation {0} not found")]
    InvitationNotFound(i64),
    /// No tenant with this id (platform administration).
    #[error("tenant {0} not found")]
    TenantNotFound(i64),
    /// Another tenant has this key.
    #[error("a tenant with key {0:?} already exists")]
    TenantKeyTaken(String),
    /// A plan key that does not exist.
    #[error("plan {0:?} not found")]
    PlanNotFound(String),
    /// An account, token or policy failure.
    #[error(transparent)]
    Auth(#[from] flagent_auth::AuthError),
    /// The caller's scope does not grant what the use case needs; nothing was changed.
    #[error(transparent)]
    Denied(#[from] flagent_types::Denied),
    /// The plan does not allow adding this; nothing was written.
    #[error(transparent)]
    PlanLimit(#[from] flagent_types::LimitReached),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a bootstrap created.
#[derive(Debug, Clone)]
pub struct BootstrapOutcome {
    /// The new tenant.
    pub tenant: TenantId,
    /// The default project's id.
    pub project_id: i64,
    /// The environments, in order (`development`, `production`).
    pub environments: Vec<environment::Model>,
}

/// The environments a new project gets: key, name, colour.
pub(crate) const DEFAULT_ENVIRONMENTS: [(&str, &str, &str); 2] = [
    ("development", "Development", "#2e7d32"),
    ("production", "Production", "#c62828"),
];

/// Creates the default tenant, project and environments if the database has no tenant yet.
/// Returns `None` when there was already a tenant.
#[tracing::instrument(skip_all)]
pub async fn bootstrap(
    db: &Db,
    system: &SystemScope,
) -> Result<Option<BootstrapOutcome>, TenantsError> {
    if db.system(system).tenant_count().await? > 0 {
        return Ok(None);
    }
    create_tenant(db, system, "default", "Default", "self-hosted")
        .await
        .map(Some)
}

/// Creates an active tenant with a `default` project holding `development` and `production`.
pub async fn create_tenant(
    db: &Db,
    system: &SystemScope,
    key: &str,
    name: &str,
    plan: &str,
) -> Result<BootstrapOutcome, TenantsError> {
    create_tenant_in_status(db, system, key, name, plan, TenantStatus::Active).await
}

/// Creates a tenant in `status` (`pending` until a signup is verified) with a `default` project
/// holding `development` and `production`.
#[tracing::instrument(skip_all, fields(tenant_key = key))]
pub(crate) async fn create_tenant_in_status(
    db: &Db,
    system: &SystemScope,
    key: &str,
    name: &str,
    plan: &str,
    status: TenantStatus,
) -> Result<BootstrapOutcome, TenantsError> {
    let now = chrono::Utc::now().timestamp_millis();
    let tenant = db
        .system(system)
        .insert_tenant(tenant::Model {
            id: 0,
            key: key.to_owned(),
            name: name.to_owned(),
            status: status.as_str().to_owned(),
            plan: plan.to_owned(),
            created_at: now,
            audit_seq: 0,
            audit_head: String::new(),
            sso_enforced: false,
            sso_break_glass: "[]".to_owned(),
            entity_salt: None,
        })
        .await?;
    let tdb = db.scoped_for_system(system, TenantId(tenant.id));
    let project = tdb
        .insert_row(project::New {
            key: "default".to_owned(),
            name: "Default".to_owned(),
            created_at: now,
        })
        .await?;
    let mut environments = Vec::new();
    for (order, (key, name, color)) in DEFAULT_ENVIRONMENTS.iter().enumerate() {
        environments.push(
            tdb.insert_row(environment::New {
                project_id: project.id,
                key: (*key).to_owned(),
                name: (*name).to_owned(),
                sort_order: order as i64,
                color: (*color).to_owned(),
                revision: 0,
                created_at: now,
                archived_at: None,
                revised_at: now,
            })
            .await?,
        );
    }
    Ok(BootstrapOutcome {
        tenant: TenantId(tenant.id),
        project_id: project.id,
        environments,
    })
}
