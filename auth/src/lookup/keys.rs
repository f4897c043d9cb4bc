//! API keys: resolving a presented key through the positive and negative caches, revocations, the local
//! copy (export and import), and recording last uses for [`Authenticator::flush_last_used`].
//!
//! Invariant: a key found in the cache is served without the database; an entry past the cache period or
//! marked stale is read again, and while the database is unreachable the last good entry keeps serving.
//! Invariant: a key revoked through (or announced to) this node is refused by it from the next request
//! on: its entry is dropped, and no lookup that raced the revocation can cache the old row again, since
//! an entry is only cached under the cache's write lock after checking the revocations.
//! Invariant: the negative cache holds at most [`NEGATIVE_CAPACITY`] misses (it is emptied when full),
//! and the revocations at most [`REVOKED_CAPACITY`] ids, each for one cache period.
//! Uses are recorded in memory and written by [`Authenticator::flush_last_used`], never per request.

use super::{Authenticator, poisoned};
use crate::{AuthError, KeyRecord, hash_key, now_millis};
use flagent_storage::entities::api_key;
use flagent_types::{
    EnvironmentId, Grant, Principal, ProjectId, ScopeSet, TenantId, TenantScope, TenantStatus,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most negative entries kept before the negative cache is emptied.
pub(super) const NEGATIVE_CAPACITY: usize = 100_000;

/// Most revocations remembered; past it, the oldest is forgotten first (its entry is long dropped and its
/// row says it is revoked).
pub(super) const REVOKED_CAPACITY: usize = 10_000;

/// A key as cached: the row, its tenant's status and its project's environments in order.
pub(super) struct Entry {
    pub(super) key: api_key::Model,
    pub(super) tenant_active: bool,
    pub(super) environments: Vec<(String, i64)>,
    pub(super) fetched: Instant,
    /// Set when the key's tenant changed: read it again on next use.
    pub(super) stale: AtomicBool,
}

impl Entry {
    pub(super) fn new(
        key: api_key::Model,
        tenant_active: bool,
        environments: Vec<(String, i64)>,
    ) -> Self {
        Entry {
            key,
            tenant_active,
            environments,
            fetched: Instant::now(),
            stale: AtomicBool::new(false),
        }
    }

    fn fresh(&self, ttl: Duration) -> bool {
        !self.stale.load(Ordering::Relaxed) && self.fetched.elapsed() < ttl
    }
}

impl Authenticator {
    /// Resolves an API key to a scope in its tenant, project and environment.
    pub(super) async fn authenticate_key(
        &self,
        key: &str,
        environment: Option<&str>,
    ) -> Result<TenantScope, AuthError> {
        if key.len() > 128 {
            return Err(AuthError::Invalid);
        }
        let entry = self
            .lookup(&hash_key(key))
            .await?
            .ok_or(AuthError::Invalid)?;
        let row = &entry.key;
        let now = now_millis();
        let revoked = row.revoked_at.is_some() || self.is_revoked(row.id)?;
        if revoked || row.expires_at.is_some_and(|e| e <= now) {
            return Err(AuthError::Invalid);
        }
        if !entry.tenant_active {
            return Err(AuthError::Suspended);
        }
        let environment = resolve_environment(&entry, environment)?;
        let scopes = ScopeSet::from_csv(&row.scopes).map_err(|_| AuthError::Invalid)?;
        self.record_use(row.tenant_id, row.id, now);
        let principal = Principal::ApiKey {
            id: row.id,
            name: row.name.clone(),
            prefix: row.prefix.clone(),
        };
        #[allow(clippy::disallowed_methods)]
        let scope = TenantScope::assume_authenticated(
            TenantId(row.tenant_id),
            ProjectId(row.project_id),
            EnvironmentId(environment),
            principal,
            Grant::Key {
                scopes,
                bound: row.environment_id.map(EnvironmentId),
            },
        );
        Ok(scope)
    }

    fn is_revoked(&self, id: i64) -> Result<bool, AuthError> {
        Ok(self
            .revoked
            .read()
            .map_err(|_| poisoned())?
            .contains_key(&id))
    }

    /// Loads every live key into the cache, so keys are served from memory from the first request on,
    /// even if the database becomes unreachable later. Returns how many keys were loaded.
    pub async fn warm(&self) -> Result<usize, AuthError> {
        let system = self.db.system(&self.system);
        let active: HashMap<i64, bool> = system
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.status == TenantStatus::Active.as_str()))
            .collect();
        let mut environments: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for e in system.all_environments().await? {
            environments
                .entry(e.project_id)
                .or_default()
                .push((e.key, e.id));
        }
        let keys = system.live_api_keys().await?;
        let count = keys.len();
        for key in keys {
            let tenant_active = active.get(&key.tenant_id).copied().unwrap_or(false);
            let envs = environments
                .get(&key.project_id)
                .cloned()
                .unwrap_or_default();
            self.cache_key(Arc::new(Entry::new(key, tenant_active, envs)))?;
        }
        Ok(count)
    }

    /// Every live key this node holds in its cache, for the local copy a node starts from while the
    /// database is unreachable (hashes only: a key cannot be recovered from its record).
    pub fn export_keys(&self) -> Vec<KeyRecord> {
        let Ok(positive) = self.positive.read() else {
            return Vec::new();
        };
        let revoked = self.revoked.read().map(|r| r.clone()).unwrap_or_default();
        let mut records: Vec<KeyRecord> = positive
            .values()
            .filter(|e| e.key.revoked_at.is_none() && !revoked.contains_key(&e.key.id))
            .map(|e| KeyRecord {
                id: e.key.id,
                tenant_id: e.key.tenant_id,
                project_id: e.key.project_id,
                environment_id: e.key.environment_id,
                name: e.key.name.clone(),
                prefix: e.key.prefix.clone(),
                key_hash: e.key.key_hash.clone(),
                scopes: e.key.scopes.clone(),
                expires_at: e.key.expires_at,
                tenant_active: e.tenant_active,
                environments: e.environments.clone(),
            })
            .collect();
        records.sort_by_key(|r| r.id);
        records
    }

    /// Fills the cache from a local copy ([`Authenticator::export_keys`]) when the database cannot be
    /// reached at start; entries are re-checked against the database once it answers.
    pub fn import_keys(&self, records: Vec<KeyRecord>) -> usize {
        let count = records.len();
        for r in records {
            let key = api_key::Model {
                id: r.id,
                tenant_id: r.tenant_id,
                project_id: r.project_id,
                environment_id: r.environment_id,
                name: r.name,
                prefix: r.prefix,
                key_hash: r.key_hash,
                scopes: r.scopes,
                created_at: 0,
                expires_at: r.expires_at,
                revoked_at: None,
                last_used_at: None,
            };
            if self
                .cache_key(Arc::new(Entry::new(key, r.tenant_active, r.environments)))
                .is_err()
            {
                return 0;
            }
        }
        count
    }

    /// Caches `entry` under its hash unless it is a row read before its key was revoked here: checked
    /// under the cache's write lock, so a lookup that read the row before a revocation cannot cache it
    /// after the revocation dropped it. A row that says it is revoked is cached, so the key is refused
    /// from memory from then on.
    pub(super) fn cache_key(&self, entry: Arc<Entry>) -> Result<(), AuthError> {
        let mut positive = self.positive.write().map_err(|_| poisoned())?;
        if entry.key.revoked_at.is_some() || !self.is_revoked(entry.key.id)? {
            positive.insert(entry.key.key_hash.clone(), entry);
        }
        Ok(())
    }

    /// Stops accepting key `id` on this node at once, after it was revoked: its cached entry is dropped
    /// and the id is refused from now on, even if a lookup that raced the revocation read the old row.
    pub fn forget_revoked_key(&self, id: i64) {
        self.drop_revoked_key(id);
        self.announce(crate::AuthEvent::KeyRevoked { id });
    }

    pub(super) fn drop_revoked_key(&self, id: i64) {
        if let Ok(mut revoked) = self.revoked.write() {
            let ttl = self.ttl;
            revoked.retain(|_, at| at.elapsed() < ttl);
            if revoked.len() >= REVOKED_CAPACITY {
                let oldest = revoked.iter().min_by_key(|(_, at)| **at).map(|(id, _)| *id);
                if let Some(oldest) = oldest {
                    revoked.remove(&oldest);
                }
            }
            revoked.insert(id, Instant::now());
        }
        if let Ok(mut p) = self.positive.write() {
            p.retain(|_, entry| entry.key.id != id);
        }
    }

    /// Writes the last use of every key used since the previous flush (one update per key) and returns
    /// how many keys were written. The server calls it every minute, so `last_used_at` moves at most once
    /// a minute per key and no request waits for it; tests call it directly. When the database fails,
    /// the unwritten uses are kept for the next flush.
    #[tracing::instrument(skip_all)]
    pub async fn flush_last_used(&self) -> Result<usize, AuthError> {
        let pending: Vec<(i64, (i64, i64))> =
            std::mem::take(&mut *self.used.lock().map_err(|_| poisoned())?)
                .into_iter()
                .collect();
        for (done, &(id, (tenant, at))) in pending.iter().enumerate() {
            let db = self.db.scoped_for_system(&self.system, TenantId(tenant));
            if let Err(err) = db.record_api_key_use(id, at).await {
                self.keep_uses(&pending[done..]);
                return Err(err.into());
            }
        }
        Ok(pending.len())
    }

    fn record_use(&self, tenant: i64, id: i64, at: i64) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(id, (tenant, at));
        }
    }

    fn keep_uses(&self, uses: &[(i64, (i64, i64))]) {
        if let Ok(mut used) = self.used.lock() {
            for &(id, (tenant, at)) in uses {
                let kept = used.entry(id).or_insert((tenant, at));
                kept.1 = kept.1.max(at);
            }
        }
    }

    /// Remembers that no key has hash `hash`; a full negative cache is emptied first.
    pub(super) fn remember_missing(&self, hash: &str) {
        if let Ok(mut n) = self.negative.write() {
            if n.len() >= NEGATIVE_CAPACITY {
                n.clear();
            }
            n.insert(hash.to_owned(), Instant::now());
        }
    }

    async fn lookup(&self, hash: &str) -> Result<Option<Arc<Entry>>, AuthError> {
        let cached = self.positive.read().ok().and_then(|p| p.get(hash).cloned());
        if let Some(entry) = cached.as_ref().filter(|e| e.fresh(self.ttl)) {
            return Ok(Some(entry.clone()));
        }
        let negative = self.negative.read().ok().and_then(|n| n.get(hash).copied());
        if cached.is_none() && negative.is_some_and(|at| at.elapsed() < self.ttl) {
            return Ok(None);
        }
        match self.load(hash).await {
            Ok(Some(entry)) => {
                let entry = Arc::new(entry);
                self.cache_key(entry.clone())?;
                Ok(Some(entry))
            }
            Ok(None) => {
                self.remember_missing(hash);
                if let Ok(mut p) = self.positive.write() {
                    p.remove(hash);
                }
                Ok(None)
            }
            Err(AuthError::Unavailable(_)) if cached.is_some() => Ok(cached),
            Err(e) => Err(e),
        }
    }

    async fn load(&self, hash: &str) -> Result<Option<Entry>, AuthError> {
        let system = self.db.system(&self.system);
        let Some(key) = system.api_key_by_hash(hash).await? else {
            return Ok(None);
        };
        let tenant_active = system
            .tenant(key.tenant_id)
            .await?
            .is_some_and(|t| t.status == TenantStatus::Active.as_str());
        let environments = self
            .db
            .scoped_for_system(&self.system, TenantId(key.tenant_id))
            .environments_of_project(key.project_id)
            .await?
            .into_iter()
            .map(|e| (e.key, e.id))
            .collect();
        Ok(Some(Entry::new(key, tenant_active, environments)))
    }
}

/// The environment a request acts in: the key's own, or the requested one of its project, or the
/// project's first.
fn resolve_environment(entry: &Entry, requested: Option<&str>) -> Result<i64, AuthError> {
    let requested = requested.filter(|r| !r.is_empty());
    match (entry.key.environment_id, requested) {
        (Some(bound), None) => Ok(bound),
        (Some(bound), Some(name)) => match entry.environments.iter().find(|(k, _)| k == name) {
            Some((_, id)) if *id == bound => Ok(bound),
            _ => Err(AuthError::EnvironmentForbidden(name.to_owned())),
        },
        (None, Some(name)) => entry
            .environments
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| AuthError::EnvironmentNotFound(name.to_owned())),
        (None, None) => entry
            .environments
            .first()
            .map(|(_, id)| *id)
            .ok_or_else(|| AuthError::EnvironmentNotFound(String::new())),
    }
}
