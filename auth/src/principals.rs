//! Scopes for work no person or key does: a job (a release advancing, SCIM provisioning, the GitHub
//! integration) acts in one tenant as a named system principal with the permissions it was given.
//!
//! Invariant: a system principal holds exactly the permissions listed when its scope is minted, and
//! every mint is logged with the principal, the tenant, the grants and the reason of the system scope
//! that vouched for it; what the job then changes is audited under `system:<name>`.

use flagent_types::{
    EnvironmentId, Grant, Permissions, Principal, ProjectId, SystemScope, TenantId, TenantScope,
};

/// Where a job acts: the tenant, project and environment its changes go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The tenant.
    pub tenant: TenantId,
    /// The project.
    pub project: ProjectId,
    /// The environment.
    pub environment: EnvironmentId,
}

/// The scope of job `name` (`release:42`, `scim`, `github`) in `place`, holding `permissions` only.
///
/// `system` vouches that the job was started by the platform for this tenant (the job runner, or a
/// verified webhook); the grant is logged.
pub fn act_as_system(
    system: &SystemScope,
    name: &str,
    place: Place,
    permissions: Permissions,
) -> TenantScope {
    tracing::info!(
        principal = name,
        tenant_id = place.tenant.0,
        project_id = place.project.0,
        environment_id = place.environment.0,
        grants = ?permissions.markers(),
        reason = system.reason(),
        "system principal granted"
    );
    // A job's authority comes from the system scope, not from credentials it presented.
    #[allow(clippy::disallowed_methods)]
    TenantScope::assume_authenticated(
        place.tenant,
        place.project,
        place.environment,
        Principal::System {
            name: name.to_owned(),
        },
        Grant::System { permissions },
    )
}
