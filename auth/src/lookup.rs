//! Turning presented credentials into a [`TenantScope`](flagent_types::TenantScope): the
//! [`Authenticator`], its caches, and how changes reach them.
//!
//! API keys are resolved in [`keys`], signed-in users in [`users`]; the values both take and give are in
//! [`types`].
//! Invariant: a change never empties a cache. A revoked key is dropped (refused at once, here and, through
//! the announced [`AuthEvent`], on other nodes); any other change marks the entries it touches stale, so
//! they are read again on their next use, and the last good entry keeps serving while the database cannot
//! be reached (evaluation never depends on the database).
//! Invariant: every map here is bounded: the positive key cache by the keys that exist (an entry whose
//! row is gone is dropped on its next use), the negative cache by [`keys::NEGATIVE_CAPACITY`], the
//! revocations by [`keys::REVOKED_CAPACITY`] and the cache period, the tenant cache by
//! [`users::TENANT_CAPACITY`], and the pending uses by the cached keys.

mod keys;
#[cfg(test)]
mod tests;
mod types;
mod users;

pub use types::{AuthEvent, Authenticated, Credentials, KeyRecord, Need};

use crate::AuthError;
use crate::rbac::Policy;
use crate::sessions::Sessions;
use flagent_storage::Db;
use flagent_types::{Grant, SystemScope, TenantId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Authenticates API keys and signed-in users.
pub struct Authenticator {
    db: Db,
    system: SystemScope,
    ttl: Duration,
    positive: RwLock<HashMap<String, Arc<keys::Entry>>>,
    negative: RwLock<HashMap<String, Instant>>,
    /// Keys revoked through or announced to this node, with when: refused even if a lookup racing the
    /// revocation read the old row; kept for one cache period.
    revoked: RwLock<HashMap<i64, Instant>>,
    /// The last use of each key since the previous flush: key id → (tenant id, milliseconds).
    used: Mutex<HashMap<i64, (i64, i64)>>,
    sessions: Arc<Sessions>,
    policy: Arc<Policy>,
    /// Tenants as users' requests need them, by id.
    tenants: RwLock<HashMap<i64, Arc<users::TenantEntry>>>,
    /// Changes made through this node that other nodes must apply too.
    events: broadcast::Sender<AuthEvent>,
}

fn poisoned() -> AuthError {
    AuthError::Unexpected(anyhow::anyhow!("the key cache lock was poisoned"))
}

impl Authenticator {
    /// An authenticator over `db`, re-checking cached keys and tenants every `ttl`; users' sessions are
    /// checked by `sessions` and their roles by `policy`.
    pub fn new(
        db: Db,
        system: SystemScope,
        ttl: Duration,
        sessions: Arc<Sessions>,
        policy: Arc<Policy>,
    ) -> Self {
        Self {
            db,
            system,
            ttl,
            positive: RwLock::default(),
            negative: RwLock::default(),
            revoked: RwLock::default(),
            used: Mutex::default(),
            sessions,
            policy,
            tenants: RwLock::default(),
            events: broadcast::Sender::new(1024),
        }
    }

    /// Every [`AuthEvent`] this node causes from now on (revocations, [`Authenticator::tenant_changed`]),
    /// for telling other nodes; [`Authenticator::apply`] does not announce.
    pub fn events(&self) -> broadcast::Receiver<AuthEvent> {
        self.events.subscribe()
    }

    /// Applies a change another node announced.
    pub fn apply(&self, event: &AuthEvent) {
        match event {
            AuthEvent::KeyRevoked { id } => self.drop_revoked_key(*id),
            AuthEvent::TenantChanged { tenant } => self.mark_tenant_stale(*tenant),
            AuthEvent::Everything => self.mark_all_stale(),
        }
    }

    fn announce(&self, event: AuthEvent) {
        // Nobody listening is fine: a single node has no one to tell.
        let _ = self.events.send(event);
    }

    /// The role policy users are checked against.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The sessions users sign in with.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.sessions
    }

    /// The database keys are managed in.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Tenant `tenant` changed (its status, its existence or its environments): its cached keys and
    /// projects are read again on their next use, here and, through the announced event, on the other
    /// nodes. Until the database answers, the last good entries keep serving.
    pub fn tenant_changed(&self, tenant: TenantId) {
        self.mark_tenant_stale(tenant.0);
        self.announce(AuthEvent::TenantChanged { tenant: tenant.0 });
    }

    fn mark_tenant_stale(&self, tenant: i64) {
        if let Ok(p) = self.positive.read() {
            p.values()
                .filter(|e| e.key.tenant_id == tenant)
                .for_each(|e| e.stale.store(true, Ordering::Relaxed));
        }
        if let Ok(t) = self.tenants.read()
            && let Some(entry) = t.get(&tenant)
        {
            entry.stale.store(true, Ordering::Relaxed);
        }
    }

    /// Marks every cached entry stale; unknown keys are looked up again (a miss has no last good entry
    /// to keep).
    fn mark_all_stale(&self) {
        if let Ok(p) = self.positive.read() {
            p.values()
                .for_each(|e| e.stale.store(true, Ordering::Relaxed));
        }
        if let Ok(t) = self.tenants.read() {
            t.values()
                .for_each(|e| e.stale.store(true, Ordering::Relaxed));
        }
        if let Ok(mut n) = self.negative.write() {
            n.clear();
        }
    }

    /// Resolves `credentials` to a scope allowed to do what `need` guards: an API key in its tenant,
    /// project and environment, or a signed-in member in the tenant, project and environment they chose.
    pub async fn authenticate(
        &self,
        credentials: Credentials<'_>,
        need: Need,
    ) -> Result<Authenticated, AuthError> {
        if let Some(key) = credentials.key.filter(|k| k.starts_with("flg_")) {
            let scope = self.authenticate_key(key, credentials.environment).await?;
            let allowed =
                matches!(scope.grant(), Grant::Key { scopes, .. } if scopes.allows(need.scope));
            if !allowed {
                return Err(AuthError::Forbidden(format!(
                    "this API key lacks the {:?} scope this route needs",
                    need.scope.as_str()
                )));
            }
            return Ok(Authenticated {
                scope,
                session: None,
            });
        }
        let claims = self.session(&credentials).await?;
        self.authorize_user(claims, &credentials, need).await
    }
}
