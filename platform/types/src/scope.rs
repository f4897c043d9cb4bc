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
}

impl Scope {
    /// Every scope, in the order they are shown.
    pub const ALL: [Scope; 5] = [
        Scope::Evaluate,
        Scope::Client,
        Scope::Read,
        Scope::Write,
        Scope::Admin,
    ];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Evaluate => "evaluate",
            Scope::Client => "client",
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
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
    /// `admin` satisfies everything, `write` implies `read`, and any scope but `client` may evaluate
    /// server-side; `client` keys may only evaluate.
    pub fn allows(self, needed: Scope) -> bool {
        let has = |s| self.contains(s);
        match needed {
            Scope::Admin => has(Scope::Admin),
            Scope::Write => has(Scope::Admin) || has(Scope::Write),
            Scope::Read => has(Scope::Admin) || has(Scope::Write) || has(Scope::Read),
            Scope::Evaluate => self.0 != 0 && !(self == ScopeSet::of(&[Scope::Client])),
            Scope::Client => self.0 != 0,
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

/// What a route needs, declared in its signature (`Auth<perm::FlagsWrite>`).
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
}

/// Marker types for [`Permission`], one per permission a route can declare.
pub mod perm {
    use super::{Permission, Scope};

    macro_rules! permissions {
        ($($(#[$doc:meta])* $name:ident => $scope:ident, $perm:literal, $per_env:literal;)*) => {$(
            $(#[$doc])*
            pub struct $name;
            impl Permission for $name {
                const SCOPE: Scope = Scope::$scope;
                const NAME: &'static str = $perm;
                const PER_ENVIRONMENT: bool = $per_env;
            }
        )*
            /// Every permission a route can declare: (name, per environment).
            pub const ALL: &[(&str, bool)] = &[$(($perm, $per_env)),*];
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
    }
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
        /// The user's row id.
        id: i64,
        /// The user's email address.
        email: String,
    },
}

impl Principal {
    /// How the principal is named in `createdBy` / `updatedBy` and the audit log.
    pub fn actor(&self) -> String {
        match self {
            Principal::ApiKey { name, prefix, .. } => format!("key:{name} ({prefix})"),
            Principal::User { email, .. } => format!("user:{email}"),
        }
    }

    /// The kind of principal, as the audit log records it.
    pub fn actor_type(&self) -> &'static str {
        match self {
            Principal::ApiKey { .. } => "api_key",
            Principal::User { .. } => "user",
        }
    }

    /// The principal's id, as the audit log records it.
    pub fn actor_id(&self) -> String {
        match self {
            Principal::ApiKey { id, .. } | Principal::User { id, .. } => id.to_string(),
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
    scopes: ScopeSet,
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
        scopes: ScopeSet,
    ) -> Self {
        Self {
            tenant,
            project,
            environment,
            principal,
            scopes,
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
    pub fn scopes(&self) -> ScopeSet {
        self.scopes
    }

    /// Whether the caller may do what `needed` guards.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.allows(needed)
    }

    /// The same caller in another environment of the same project (the caller must have checked that
    /// the environment belongs to [`Self::project_id`]).
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
}
