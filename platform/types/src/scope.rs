//! Who is calling, what they may do, and the scopes that carry that through every layer.
//!
//! Invariant: [`TenantScope`] has no public fields and no `Default`, `Serialize` or `Deserialize`, so the
//! only way to hold one is to have been authenticated.

use crate::{EnvironmentId, ProjectId, TenantId};
use std::fmt;

/// One grant an API key (and later a role) can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Server-side evaluation.
    Evaluate,
    /// Public client-side evaluation (browser and mobile keys).
    Client,
    /// Read configuration.
    Read,
    /// Change configuration.
    Write,
    /// Everything in the tenant.
    Admin,
    /// SCIM provisioning (`/scim/v2`) and nothing else; no other scope grants it.
    Scim,
}

impl Scope {
    /// Every scope, in the order they are shown.
    pub const ALL: [Scope; 6] = [
        Scope::Evaluate,
        Scope::Client,
        Scope::Read,
        Scope::Write,
        Scope::Admin,
        Scope::Scim,
    ];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Evaluate => "evaluate",
            Scope::Client => "client",
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
            Scope::Scim => "scim",
        }
    }

    /// Parses a scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Scope`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// The set holding `scopes`.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether `scope` was granted explicitly.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether this set satisfies a route that needs `needed`.
    ///
    /// `admin` satisfies everything but `scim`, `write` implies `read`, and any of them and
    /// `evaluate` may evaluate server-side; `client` keys may only evaluate client-side; `scim` is
    /// granted only by itself and grants nothing else.
    pub fn allows(self, needed: Scope) -> bool {
        let has = |s| self.contains(s);
        let evaluates =
            has(Scope::Admin) || has(Scope::Write) || has(Scope::Read) || has(Scope::Evaluate);
        match needed {
            Scope::Admin => has(Scope::Admin),
            Scope::Write => has(Scope::Admin) || has(Scope::Write),
            Scope::Read => has(Scope::Admin) || has(Scope::Write) || has(Scope::Read),
            Scope::Evaluate => evaluates,
            Scope::Client => evaluates || has(Scope::Client),
            Scope::Scim => has(Scope::Scim),
        }
    }

    /// The scopes in this set, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Comma-separated names, as stored.
    pub fn to_csv(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Parses comma-separated names; unknown names are an error naming them.
    pub fn from_csv(csv: &str) -> Result<Self, String> {
        let mut scopes = Vec::new();
        for name in csv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            scopes.push(Scope::parse(name).ok_or_else(|| name.to_owned())?);
        }
        Ok(Self::of(&scopes))
    }
}

/// What a route needs, declared in its signature (`Auth<perm::FlagsWrite>`), and what every use case
/// asks of its caller's scope ([`TenantScope::require`]).
///
/// An API key is checked against [`Permission::SCOPE`]; a user's role is checked against
/// [`Permission::NAME`] (in the request's environment when [`Permission::PER_ENVIRONMENT`]).
pub trait Permission: 'static {
    /// The scope an API key must hold.
    const SCOPE: Scope;
    /// The permission a user's role must grant, such as `flags:write`.
    const NAME: &'static str;
    /// Whether the permission is granted per environment (who may change production).
    const PER_ENVIRONMENT: bool = false;
    /// The marker's place in [`perm::ALL`], its bit in a [`Permissions`] set.
    const INDEX: u8;
}

/// Marker types for [`Permission`], one per permission a route can declare.
pub mod perm {
    use super::{Permission, Scope};

    macro_rules! permissions {
        ($($(#[$doc:meta])* $name:ident => $scope:ident, $perm:literal, $per_env:literal;)*) => {
            #[allow(dead_code)]
            enum Index { $($name),* }
            $(
            $(#[$doc])*
            pub struct $name;
            impl Permission for $name {
                const SCOPE: Scope = Scope::$scope;
                const NAME: &'static str = $perm;
                const PER_ENVIRONMENT: bool = $per_env;
                const INDEX: u8 = Index::$name as u8;
            }
            )*
            /// Every permission a route can declare: (name, per environment), in [`Permission::INDEX`]
            /// order.
            pub const ALL: &[(&str, bool)] = &[$(($perm, $per_env)),*];
            /// The marker names, in [`Permission::INDEX`] order (for messages and logs).
            pub const MARKERS: &[&str] = &[$(stringify!($name)),*];
        };
    }

    permissions! {
        /// Evaluate flags server-side (server SDK keys and every stronger scope).
        Evaluate => Evaluate, "flags:evaluate", false;
        /// Evaluate flags client-side (any key).
        Client => Client, "flags:evaluate", false;
        /// Read flags, projects, environments and usage.
        Read => Read, "flags:read", false;
        /// Change a flag's state in the request's environment (enabled, segments, constraints,
        /// distributions).
        Write => Write, "flags:write", true;
        /// Change what every environment shares (flags themselves, variants, tags, imports): needs
        /// `flags:write` in every environment.
        WriteFlags => Write, "flags:write", false;
        /// Turn flags on and off in the request's environment.
        Toggle => Write, "flags:toggle", true;
        /// Create and change projects and environments.
        ManageProjects => Admin, "projects:manage", false;
        /// Issue, rotate and revoke API keys.
        ManageKeys => Admin, "keys:manage", false;
        /// Invite and remove members, change their roles, define custom roles.
        ManageMembers => Admin, "members:manage", false;
        /// Read and export the audit log.
        ReadAudit => Admin, "audit:read", false;
        /// Manage the tenant itself: plan, billing, deletion.
        ManageTenant => Admin, "tenant:manage", false;
        /// Connect and change identity providers, claimed email domains and SSO enforcement.
        ManageSso => Admin, "sso:manage", false;
        /// Provision people and groups over SCIM: SCIM tokens only, never a role.
        Scim => Scim, "scim:provision", false;
    }
}

/// A set of [`Permission`] markers, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Permissions(u32);

impl Permissions {
    /// No permission.
    pub const NONE: Permissions = Permissions(0);

    /// The set holding only `P`.
    pub fn of<P: Permission>() -> Self {
        Self::NONE.with::<P>()
    }

    /// This set and `P`.
    pub fn with<P: Permission>(self) -> Self {
        self.with_index(P::INDEX)
    }

    /// This set and the marker at `index` of [`perm::ALL`] (ignored when out of range).
    pub fn with_index(self, index: u8) -> Self {
        if usize::from(index) < perm::ALL.len() {
            Self(self.0 | 1 << index)
        } else {
            self
        }
    }

    /// Whether the set holds `P`.
    pub fn contains<P: Permission>(self) -> bool {
        self.contains_index(P::INDEX)
    }

    /// Whether the set holds the marker at `index` of [`perm::ALL`].
    pub fn contains_index(self, index: u8) -> bool {
        index < 32 && self.0 & (1 << index) != 0
    }

    /// The markers' names in this set (`["Read", "Write"]`), for logs.
    pub fn markers(self) -> Vec<&'static str> {
        (0..perm::MARKERS.len())
            .filter(|i| self.contains_index(*i as u8))
            .map(|i| perm::MARKERS[i])
            .collect()
    }
}

/// What a [`TenantScope`] was authorised for: the check every use case makes with
/// [`TenantScope::require`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// An API key's scopes; a key bound to an environment holds them there only.
    Key {
        /// The key's scopes.
        scopes: ScopeSet,
        /// The environment the key is bound to, if any.
        bound: Option<EnvironmentId>,
    },
    /// A member's role as the policy read it for this request: the per-environment permissions hold in
    /// `environment` only, the others in the whole tenant.
    Member {
        /// What the role grants.
        permissions: Permissions,
        /// The environment the per-environment permissions were checked in.
        environment: EnvironmentId,
    },
    /// A named system principal (a release, SCIM, the GitHub integration) with explicit grants, valid
    /// in every environment of its project.
    System {
        /// What the job may do.
        permissions: Permissions,
    },
}

impl Grant {
    /// Whether this grant covers `P` for a caller working in `environment`.
    fn covers<P: Permission>(&self, environment: EnvironmentId) -> bool {
        match self {
            Grant::Key { scopes, bound } => {
                scopes.allows(P::SCOPE) && bound.is_none_or(|b| b == environment)
            }
            Grant::Member {
                permissions,
                environment: checked,
            } => permissions.contains::<P>() && (!P::PER_ENVIRONMENT || *checked == environment),
            Grant::System { permissions } => permissions.contains::<P>(),
        }
    }
}

/// A use case refused because its caller's scope does not grant what it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{principal} may not use {permission}{}", environment.map(|e| format!(" in environment {e}")).unwrap_or_default())]
pub struct Denied {
    /// Who asked (as `Principal::actor` names them).
    pub principal: String,
    /// The permission the use case needs, such as `flags:write`.
    pub permission: &'static str,
    /// The environment, for per-environment permissions.
    pub environment: Option<i64>,
}

/// Who is acting: recorded on snapshots and audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An API key, by its id and public prefix (never the secret).
    ApiKey {
        /// The key's row id.
        id: i64,
        /// The key's display name.
        name: String,
        /// The first characters of the key, safe to log.
        prefix: String,
    },
    /// A signed-in user, acting in a tenant they are a member of.
    User {
        /// The user.
        id: crate::UserId,
        /// The user's email address.
        email: String,
    },
    /// A job acting on its own (`release:42`, `scim`, `github`), with the grants it was given.
    System {
        /// The job's name, as the audit log records it.
        name: String,
    },
}

impl Principal {
    /// How the principal is named in `createdBy` / `updatedBy` and the audit log.
    pub fn actor(&self) -> String {
        match self {
            Principal::ApiKey { name, prefix, .. } => format!("key:{name} ({prefix})"),
            Principal::User { email, .. } => format!("user:{email}"),
            Principal::System { name } => format!("system:{name}"),
        }
    }

    /// The kind of principal, as the audit log records it.
    pub fn actor_type(&self) -> crate::ActorType {
        match self {
            Principal::ApiKey { .. } => crate::ActorType::ApiKey,
            Principal::User { .. } => crate::ActorType::User,
            Principal::System { .. } => crate::ActorType::System,
        }
    }

    /// The principal's id, as the audit log records it.
    pub fn actor_id(&self) -> String {
        match self {
            Principal::ApiKey { id, .. } => id.to_string(),
            Principal::User { id, .. } => id.to_string(),
            Principal::System { name } => name.clone(),
        }
    }
}

/// Where a request came from, recorded in the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client's IP address.
    pub ip: String,
    /// The client's user agent.
    pub user_agent: String,
}

/// An authenticated caller inside one tenant, project and environment.
///
/// Every repository method on tenant data takes one; its tenant id is the only tenant filter queries use.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant: TenantId,
    project: ProjectId,
    environment: EnvironmentId,
    principal: Principal,
    grant: Grant,
    origin: Origin,
}

impl TenantScope {
    /// Mints a scope. Banned by `clippy.toml` outside authentication and the test kit: whoever calls it
    /// vouches that the principal was authenticated for this tenant.
    pub fn assume_authenticated(
        tenant: TenantId,
        project: ProjectId,
        environment: EnvironmentId,
        principal: Principal,
        grant: Grant,
    ) -> Self {
        Self {
            tenant,
            project,
            environment,
            principal,
            grant,
            origin: Origin::default(),
        }
    }

    /// The same scope, recording where the request came from (it grants nothing).
    pub fn with_origin(self, origin: Origin) -> Self {
        Self { origin, ..self }
    }

    /// Where the request came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The tenant every query is filtered by.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// The project the caller works in.
    pub fn project_id(&self) -> ProjectId {
        self.project
    }

    /// The environment the caller works in.
    pub fn environment_id(&self) -> EnvironmentId {
        self.environment
    }

    /// Who is acting.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// What the caller was granted.
    pub fn grant(&self) -> &Grant {
        &self.grant
    }

    /// Whether the caller may do what `P` guards where it works now.
    pub fn permits<P: Permission>(&self) -> bool {
        self.grant.covers::<P>(self.environment)
    }

    /// Refuses the use case unless the caller may do what `P` guards where it works now (in its
    /// environment, for per-environment permissions). Every use case calls it first.
    pub fn require<P: Permission>(&self) -> Result<(), Denied> {
        if self.permits::<P>() {
            return Ok(());
        }
        Err(Denied {
            principal: self.principal.actor(),
            permission: P::NAME,
            environment: P::PER_ENVIRONMENT.then_some(self.environment.0),
        })
    }

    /// The same caller in another environment of the same project (the caller must have checked that
    /// the environment belongs to [`Self::project_id`]). Per-environment permissions a member or a bound
    /// key was granted stay with the environment they were checked in: the new scope does not hold them
    /// until the caller is authorised there again.
    pub fn in_environment(&self, environment: EnvironmentId) -> Self {
        Self {
            environment,
            ..self.clone()
        }
    }
}

/// Authority for work across tenants (bootstrap, operators' tools); minted only by the composition root.
#[derive(Debug)]
pub struct SystemScope {
    reason: &'static str,
}

impl SystemScope {
    /// Mints a system scope for `reason`. Banned by `clippy.toml` outside the composition root.
    pub fn assume_system(reason: &'static str) -> Self {
        Self { reason }
    }

    /// Why the system scope was taken (logged by its users).
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_implications() {
        let admin = ScopeSet::of(&[Scope::Admin]);
        let write = ScopeSet::of(&[Scope::Write]);
        let eval = ScopeSet::of(&[Scope::Evaluate]);
        let client = ScopeSet::of(&[Scope::Client]);
        assert!(admin.allows(Scope::Write) && admin.allows(Scope::Evaluate));
        assert!(write.allows(Scope::Read) && !write.allows(Scope::Admin));
        assert!(eval.allows(Scope::Evaluate) && !eval.allows(Scope::Read));
        assert!(client.allows(Scope::Client) && !client.allows(Scope::Evaluate));
        assert!(!ScopeSet::default().allows(Scope::Client));
    }

    #[test]
    fn scope_csv_round_trips() {
        let set = ScopeSet::of(&[Scope::Read, Scope::Write]);
        assert_eq!(set.to_csv(), "read,write");
        assert_eq!(ScopeSet::from_csv("read, write"), Ok(set));
        assert_eq!(ScopeSet::from_csv("read,root"), Err("root".to_owned()));
    }

    fn scope(grant: Grant) -> TenantScope {
        #[allow(clippy::disallowed_methods)] // A test fixture.
        TenantScope::assume_authenticated(
            TenantId(1),
            ProjectId(2),
            EnvironmentId(3),
            Principal::System {
                name: "test".to_owned(),
            },
            grant,
        )
    }

    #[test]
    fn a_member_holds_per_environment_permissions_only_where_they_were_checked() {
        let member = scope(Grant::Member {
            permissions: Permissions::of::<perm::Read>().with::<perm::Write>(),
            environment: EnvironmentId(3),
        });
        assert!(member.require::<perm::Write>().is_ok());
        assert!(member.require::<perm::Read>().is_ok());
        assert!(member.require::<perm::WriteFlags>().is_err());
        assert!(member.require::<perm::ManageKeys>().is_err());
        let elsewhere = member.in_environment(EnvironmentId(4));
        let denied = elsewhere.require::<perm::Write>().unwrap_err();
        assert_eq!(denied.permission, "flags:write");
        assert_eq!(denied.environment, Some(4));
        assert!(
            elsewhere.require::<perm::Read>().is_ok(),
            "not per environment"
        );
    }

    #[test]
    fn a_key_holds_its_scopes_in_its_bound_environment_only() {
        let bound = scope(Grant::Key {
            scopes: ScopeSet::of(&[Scope::Write]),
            bound: Some(EnvironmentId(3)),
        });
        assert!(bound.require::<perm::Write>().is_ok());
        assert!(bound.require::<perm::Toggle>().is_ok());
        assert!(bound.require::<perm::ManageProjects>().is_err());
        assert!(
            bound
                .in_environment(EnvironmentId(4))
                .require::<perm::Read>()
                .is_err()
        );
        let unbound = scope(Grant::Key {
            scopes: ScopeSet::of(&[Scope::Admin]),
            bound: None,
        });
        assert!(
            unbound
                .in_environment(EnvironmentId(4))
                .require::<perm::ManageKeys>()
                .is_ok()
        );
        let client = scope(Grant::Key {
            scopes: ScopeSet::of(&[Scope::Client]),
            bound: None,
        });
        assert!(client.require::<perm::Client>().is_ok());
        assert!(client.require::<perm::Evaluate>().is_err());
    }

    #[test]
    fn a_system_principal_holds_exactly_its_grants_and_is_named_in_refusals() {
        let job = scope(Grant::System {
            permissions: Permissions::of::<perm::Toggle>(),
        });
        assert!(job.require::<perm::Toggle>().is_ok());
        assert!(
            job.in_environment(EnvironmentId(9))
                .require::<perm::Toggle>()
                .is_ok()
        );
        let denied = job.require::<perm::WriteFlags>().unwrap_err();
        assert_eq!(denied.to_string(), "system:test may not use flags:write");
        assert_eq!(job.principal().actor_type(), crate::ActorType::System);
    }

    #[test]
    fn every_marker_has_its_own_bit() {
        assert_eq!(perm::ALL.len(), perm::MARKERS.len());
        assert!(perm::ALL.len() <= 32);
        let all = (0..perm::ALL.len() as u8).fold(Permissions::NONE, Permissions::with_index);
        assert_eq!(all.markers(), perm::MARKERS);
        assert!(!Permissions::of::<perm::Write>().contains::<perm::WriteFlags>());
    }
}
