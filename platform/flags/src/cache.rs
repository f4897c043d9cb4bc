//! The evaluation cache: one compiled [`Snapshot`] per (tenant, environment), swapped atomically.
//!
//! Invariant: readers never wait. A reader takes the current map with one atomic load; writers build a
//! new snapshot beside the old one and swap the map. Writers are serialised by [`EvalCache::writer`] and
//! hold it across commit and apply, so snapshots are applied in commit order.

use arc_swap::ArcSwap;
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{EnvironmentId, TenantId};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

type Key = (TenantId, EnvironmentId);

/// Compiled snapshots of every environment this node serves.
#[derive(Default)]
pub struct EvalCache {
    map: ArcSwap<HashMap<Key, Arc<Snapshot>>>,
    write: Mutex<()>,
}

/// A change to one environment's snapshot.
pub(crate) struct EnvUpdate {
    pub(crate) environment: EnvironmentId,
    pub(crate) revision: u64,
    pub(crate) upserts: Vec<FlagConfig>,
    pub(crate) removed: Vec<i64>,
}

/// Exclusive right to change the cache; hold it across the commit whose result is applied.
pub struct CacheWriter<'a> {
    cache: &'a EvalCache,
    _guard: MutexGuard<'a, ()>,
}

impl EvalCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current snapshot of an environment, if it has been loaded.
    pub fn snapshot(&self, tenant: TenantId, environment: EnvironmentId) -> Option<Arc<Snapshot>> {
        self.map.load().get(&(tenant, environment)).cloned()
    }

    /// How many environments are loaded.
    pub fn environments(&self) -> usize {
        self.map.load().len()
    }

    /// Waits for the right to change the cache.
    pub async fn writer(&self) -> CacheWriter<'_> {
        CacheWriter {
            cache: self,
            _guard: self.write.lock().await,
        }
    }
}

impl CacheWriter<'_> {
    /// Replaces an environment's snapshot.
    pub fn replace(&self, tenant: TenantId, environment: EnvironmentId, snapshot: Snapshot) {
        let mut next = HashMap::clone(&self.cache.map.load());
        next.insert((tenant, environment), Arc::new(snapshot));
        self.cache.map.store(Arc::new(next));
    }

    /// Applies incremental changes to one tenant's environments. Returns the environments that were not
    /// loaded, which the caller must load whole (a partial snapshot would hide their other flags).
    pub(crate) fn apply(&self, tenant: TenantId, updates: Vec<EnvUpdate>) -> Vec<EnvironmentId> {
        let mut next = HashMap::clone(&self.cache.map.load());
        let mut missing = Vec::new();
        for u in updates {
            let key = (tenant, u.environment);
            let Some(current) = next.get(&key).cloned() else {
                missing.push(u.environment);
                continue;
            };
            let revision = u.revision.max(current.revision());
            let updated = current.updated(revision, u.upserts, &u.removed);
            next.insert(key, Arc::new(updated));
        }
        self.cache.map.store(Arc::new(next));
        missing
    }
}
