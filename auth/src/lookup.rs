//! Turning presented credentials into a [`TenantScope`], with positive and negative caching.
//!
//! Invariant: a key found in the cache is served without the database. When the database is unreachable
//! a stale entry keeps being served, so evaluation never depends on it.
//! Invariant: a key revoked through this node is refused by it from the next request on, whatever the
//! cache holds; other nodes refuse it once their cached entry is re-checked.
//! Uses are recorded in memory and written by [`Authenticator::flush_last_used`], never per request.

use crate::{AuthError, hash_key};
use flagent_storage::Db;
use flagent_storage::entities::api_key;
use flagent_types::{
    EnvironmentId, Principal, ProjectId, ScopeSet, SystemScope, TenantId, TenantScope,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// What a request presented.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The API key, from `Authorization: Bearer` or `X-API-Key`.
    pub key: Option<&'a str>,
    /// The environment asked for with `X-Environment` or `?environment=`.
    pub environment: Option<&'a str>,
}

/// A key as cached: the row, its tenant's status and its project's environments in order.
struct Entry {
    key: api_key::Model,
    tenant_active: bool,
    environments: Vec<(String, i64)>,
    fetched: Instant,
}

/// Most negative entries kept before the negative cache is emptied.
const NEGATIVE_CAPACITY: usize = 100_000;

/// Authenticates API keys.
pub struct Authenticator {
    db: Db,
    system: SystemScope,
    ttl: Duration,
    positive: RwLock<HashMap<String, Arc<Entry>>>,
    negative: RwLock<HashMap<String, Instant>>,
    /// Ids of keys revoked through this node: refused even if a lookup racing the revocation cached them.
    revoked: RwLock<HashSet<i64>>,
    /// The last use of each key since the previous flush: key id → (tenant id, milliseconds).
    used: Mutex<HashMap<i64, (i64, i64)>>,
}

fn poisoned() -> AuthError {
    AuthError::Unexpected(anyhow::anyhow!("the key cache lock was poisoned"))
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Authenticator {
    /// An authenticator over `db`, re-checking cached keys every `ttl`.
    pub fn new(db: Db, system: SystemScope, ttl: Duration) -> Self {
        Self {
            db,
            system,
            ttl,
            positive: RwLock::default(),
            negative: RwLock::default(),
            revoked: RwLock::default(),
            used: Mutex::default(),
        }
    }

    /// Resolves `credentials` to a scope in the key's tenant, project and environment.
    pub async fn authenticate(
        &self,
        credentials: Credentials<'_>,
    ) -> Result<TenantScope, AuthError> {
        let key = credentials
            .key
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        if !key.starts_with("flg_") || key.len() > 128 {
            return Err(AuthError::Invalid);
        }
        let entry = self
            .lookup(&hash_key(key))
            .await?
            .ok_or(AuthError::Invalid)?;
        let row = &entry.key;
        let now = now_millis();
        let revoked_here = self
            .revoked
            .read()
            .map_err(|_| poisoned())?
            .contains(&row.id);
        if row.revoked_at.is_some() || revoked_here || row.expires_at.is_some_and(|e| e <= now) {
            return Err(AuthError::Invalid);
        }
        if !entry.tenant_active {
            return Err(AuthError::Suspended);
        }
        let environment = resolve_environment(&entry, credentials.environment)?;
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
            scopes,
        );
        Ok(scope)
    }

    /// Loads every live key into the cache, so keys are served from memory from the first request on,
    /// even if the database becomes unreachable later. Returns how many keys were loaded.
    pub async fn warm(&self) -> Result<usize, AuthError> {
        let system = self.db.system(&self.system);
        let active: HashMap<i64, bool> = system
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.status == "active"))
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
        let fetched = Instant::now();
        let mut positive = self.positive.write().map_err(|_| poisoned())?;
        for key in keys {
            let entry = Entry {
                tenant_active: active.get(&key.tenant_id).copied().unwrap_or(false),
                environments: environments
                    .get(&key.project_id)
                    .cloned()
                    .unwrap_or_default(),
                fetched,
                key,
            };
            positive.insert(entry.key.key_hash.clone(), Arc::new(entry));
        }
        Ok(count)
    }

    /// Drops every cached entry (after keys, tenants or environments change).
    pub fn forget_all(&self) {
        if let Ok(mut p) = self.positive.write() {
            p.clear();
        }
        if let Ok(mut n) = self.negative.write() {
            n.clear();
        }
    }

    /// Stops accepting key `id` on this node at once, after it was revoked: its cached entry is dropped
    /// and the id is refused from now on, even if a lookup that raced the revocation caches the old row.
    pub fn forget_revoked_key(&self, id: i64) {
        if let Ok(mut revoked) = self.revoked.write() {
            revoked.insert(id);
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

    /// The database keys are managed in.
    pub(crate) fn db(&self) -> &Db {
        &self.db
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

    async fn lookup(&self, hash: &str) -> Result<Option<Arc<Entry>>, AuthError> {
        let cached = self.positive.read().ok().and_then(|p| p.get(hash).cloned());
        if let Some(entry) = cached.as_ref().filter(|e| e.fetched.elapsed() < self.ttl) {
            return Ok(Some(entry.clone()));
        }
        let negative = self.negative.read().ok().and_then(|n| n.get(hash).copied());
        if cached.is_none() && negative.is_some_and(|at| at.elapsed() < self.ttl) {
            return Ok(None);
        }
        match self.load(hash).await {
            Ok(Some(entry)) => {
                let entry = Arc::new(entry);
                if let Ok(mut p) = self.positive.write() {
                    p.insert(hash.to_owned(), entry.clone());
                }
                Ok(Some(entry))
            }
            Ok(None) => {
                if let Ok(mut n) = self.negative.write() {
                    if n.len() >= NEGATIVE_CAPACITY {
                        n.clear();
                    }
                    n.insert(hash.to_owned(), Instant::now());
                }
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
            .is_some_and(|t| t.status == "active");
        let environments = self
            .db
            .scoped_for_system(&self.system, TenantId(key.tenant_id))
            .environments_of_project(key.project_id)
            .await?
            .into_iter()
            .map(|e| (e.key, e.id))
            .collect();
        Ok(Some(Entry {
            key,
            tenant_active,
            environments,
            fetched: Instant::now(),
        }))
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
