//! Signed-in users: checking the session a request presents, choosing the tenant, project and
//! environment it acts in, and checking the member's role ([`Authenticator::authorize_user`]).
//!
//! Invariant: a tenant's projects and environments come from the tenant cache, read again after the
//! cache period or once [`Authenticator::tenant_changed`] marked them stale; a stale entry keeps serving
//! while the database cannot be reached. The cache holds at most [`TENANT_CAPACITY`] tenants.

use super::Authenticator;
use crate::AuthError;
use crate::sessions::Claims;
use crate::{Authenticated, Credentials, Need};
use flagent_storage::entities::tenant;
use flagent_types::{
    EnvironmentId, Grant, Principal, ProjectId, TenantId, TenantScope, TenantStatus, UserId,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most tenants kept in the tenant cache; past it, the least recently read entries leave first.
pub(super) const TENANT_CAPACITY: usize = 10_000;

/// A project as cached for users' requests: key, id, and its environments in order as (key, id).
type ProjectEntry = (String, i64, Vec<(String, i64)>);

/// A tenant's projects and environments as cached for users' requests.
pub(super) struct TenantEntry {
    pub(super) tenant: tenant::Model,
    /// Projects in creation order, each with its environments in order: (key, id).
    pub(super) projects: Vec<ProjectEntry>,
    pub(super) fetched: Instant,
    /// Set when the tenant changed: read it again on next use.
    pub(super) stale: AtomicBool,
}

impl TenantEntry {
    fn fresh(&self, ttl: Duration) -> bool {
        !self.stale.load(Ordering::Relaxed) && self.fetched.elapsed() < ttl
    }
}

impl Authenticator {
    /// The session a request presents, checked: a Bearer session token, or the session cookie, with
    /// which a request that changes data must echo the session's CSRF value (`X-CSRF-Token`).
    pub async fn session(&self, credentials: &Credentials<'_>) -> Result<Claims, AuthError> {
        match credentials.key.filter(|k| !k.is_empty()) {
            Some(key) if key.starts_with("flg_") => Err(AuthError::Forbidden(
                "this route is for signed-in users; API keys cannot use it".to_owned(),
            )),
            Some(token) => self.sessions.verify(token).await,
            None => {
                let cookie = credentials
                    .session_cookie
                    .filter(|c| !c.is_empty())
                    .ok_or(AuthError::Missing)?;
                let claims = self.sessions.verify(cookie).await?;
                if credentials.changes_data && credentials.csrf != Some(claims.csrf.as_str()) {
                    return Err(AuthError::CsrfFailed);
                }
                Ok(claims)
            }
        }
    }

    pub(super) async fn authorize_user(
        &self,
        claims: Claims,
        credentials: &Credentials<'_>,
        need: Need,
    ) -> Result<Authenticated, AuthError> {
        let user = claims.user_id()?;
        let tenant = self.choose_tenant(user, credentials.tenant).await?;
        let entry = self.tenant_entry(tenant.0).await?;
        match TenantStatus::parse(&entry.tenant.status) {
            Ok(TenantStatus::Active) => {}
            Ok(TenantStatus::Pending) => return Err(AuthError::TenantPending),
            _ => return Err(AuthError::Suspended),
        }
        let through_its_provider = claims.sso_tenant == Some(tenant.0);
        if entry.tenant.sso_enforced
            && !through_its_provider
            && !crate::accounts::break_glass(&entry.tenant).contains(&user.0)
        {
            return Err(AuthError::SsoEnforced(format!(
                "{} signs in through its identity provider: sign in with single sign-on to work here",
                entry.tenant.name
            )));
        }
        let (project, env_key, environment) = choose_place(&entry, credentials)?;
        let granted = self.policy.granted(user, tenant, &env_key).await;
        if !granted.contains_index(need.index) {
            let role = self.policy.role_of(user, tenant).await.unwrap_or_default();
            let place = if need.per_environment {
                format!(" in {env_key}")
            } else {
                String::new()
            };
            return Err(AuthError::Forbidden(format!(
                "your role {role:?} does not grant {}{place}",
                need.permission
            )));
        }
        let principal = Principal::User {
            id: user,
            email: claims.email.clone(),
        };
        // A member's scope carries what their role grants, the per-environment part in this environment.
        #[allow(clippy::disallowed_methods)]
        let scope = TenantScope::assume_authenticated(
            tenant,
            ProjectId(project),
            EnvironmentId(environment),
            principal,
            Grant::Member {
                permissions: granted,
                environment: EnvironmentId(environment),
            },
        );
        Ok(Authenticated {
            scope,
            session: Some(claims),
        })
    }

    /// The tenant a user's request acts in: the one named (by id or key) if they are a member, else
    /// their only one.
    async fn choose_tenant(
        &self,
        user: UserId,
        asked: Option<&str>,
    ) -> Result<TenantId, AuthError> {
        match asked.map(str::trim).filter(|t| !t.is_empty()) {
            Some(asked) => {
                let id = match asked.parse::<i64>() {
                    Ok(id) => Some(TenantId(id)),
                    Err(_) => self
                        .db
                        .system(&self.system)
                        .tenant_by_key(asked)
                        .await?
                        .map(|t| TenantId(t.id)),
                };
                match id {
                    Some(id) if self.policy.role_of(user, id).await.is_some() => Ok(id),
                    _ => Err(AuthError::TenantNotFound(asked.to_owned())),
                }
            }
            None => match self.policy.tenants_of(user).await.as_slice() {
                [] => Err(AuthError::TenantNotFound(String::new())),
                [only] => Ok(*only),
                _ => Err(AuthError::TenantRequired),
            },
        }
    }

    async fn tenant_entry(&self, tenant: i64) -> Result<Arc<TenantEntry>, AuthError> {
        let cached = self
            .tenants
            .read()
            .ok()
            .and_then(|t| t.get(&tenant).cloned());
        if let Some(entry) = cached.as_ref().filter(|e| e.fresh(self.ttl)) {
            return Ok(entry.clone());
        }
        match (self.load_tenant(tenant).await, cached) {
            (Ok(entry), _) => {
                let entry = Arc::new(entry);
                self.cache_tenant(tenant, entry.clone());
                Ok(entry)
            }
            (Err(AuthError::Unavailable(_)), Some(stale)) => Ok(stale),
            (Err(AuthError::TenantNotFound(id)), _) => {
                if let Ok(mut t) = self.tenants.write() {
                    t.remove(&tenant);
                }
                Err(AuthError::TenantNotFound(id))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Keeps `entry`; when the cache is full, the entry read longest ago leaves first.
    pub(super) fn cache_tenant(&self, tenant: i64, entry: Arc<TenantEntry>) {
        let Ok(mut t) = self.tenants.write() else {
            return;
        };
        if t.len() >= TENANT_CAPACITY && !t.contains_key(&tenant) {
            let oldest = t.iter().min_by_key(|(_, e)| e.fetched).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                t.remove(&oldest);
            }
        }
        t.insert(tenant, entry);
    }

    async fn load_tenant(&self, id: i64) -> Result<TenantEntry, AuthError> {
        let tenant = self
            .db
            .system(&self.system)
            .tenant(id)
            .await?
            .ok_or_else(|| AuthError::TenantNotFound(id.to_string()))?;
        let db = self.db.scoped_for_system(&self.system, TenantId(id));
        let mut projects = Vec::new();
        for project in db.projects().await? {
            let environments = db
                .environments_of_project(project.id)
                .await?
                .into_iter()
                .map(|e| (e.key, e.id))
                .collect();
            projects.push((project.key, project.id, environments));
        }
        Ok(TenantEntry {
            tenant,
            projects,
            fetched: Instant::now(),
            stale: AtomicBool::new(false),
        })
    }
}

/// The project and environment a user's request acts in: the named ones, else the tenant's first
/// project and its first environment. Returns (project id, environment key, environment id).
fn choose_place(
    entry: &TenantEntry,
    credentials: &Credentials<'_>,
) -> Result<(i64, String, i64), AuthError> {
    let (project, environments) = match credentials.project.filter(|p| !p.is_empty()) {
        Some(key) => entry
            .projects
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, id, envs)| (*id, envs))
            .ok_or_else(|| AuthError::ProjectNotFound(key.to_owned()))?,
        None => entry
            .projects
            .first()
            .map(|(_, id, envs)| (*id, envs))
            .ok_or_else(|| AuthError::ProjectNotFound(String::new()))?,
    };
    let (env_key, environment) = match credentials.environment.filter(|e| !e.is_empty()) {
        Some(name) => environments
            .iter()
            .find(|(k, _)| k == name)
            .cloned()
            .ok_or_else(|| AuthError::EnvironmentNotFound(name.to_owned()))?,
        None => environments
            .first()
            .cloned()
            .ok_or_else(|| AuthError::EnvironmentNotFound(String::new()))?,
    };
    Ok((project, env_key, environment))
}
