//! Writing the evaluation cache: per-environment writers that hold the environment's lock across the
//! commit whose result they apply.
//!
//! Invariant: a writer holds the lock of every environment it may change, taken in ascending
//! environment order (so two writers of overlapping environments cannot deadlock); it changes no
//! other environment, and it never waits for a writer of another environment.

use crate::cache::{EvalCache, Key, Slot, lock};
use crate::feed::Change;
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{EnvironmentId, TenantId};
use std::sync::Arc;
use tokio::sync::{OwnedMutexGuard, watch};

/// A change to one environment's snapshot: the flags to add or replace and the flags to drop, at the
/// environment's new revision.
#[derive(Debug, Clone)]
pub struct EnvUpdate {
    /// The environment.
    pub environment: EnvironmentId,
    /// Its revision after the change.
    pub revision: u64,
    /// Flags whose configuration changed or which appeared.
    pub upserts: Vec<FlagConfig>,
    /// Ids of the flags that left the environment.
    pub removed: Vec<i64>,
}

/// Exclusive right to change one environment's snapshot; hold it across the commit whose result is
/// applied.
pub struct EnvWriter<'a> {
    cache: &'a EvalCache,
    key: Key,
    slot: Arc<Slot>,
    _guard: OwnedMutexGuard<()>,
}

/// Exclusive right to change several environments of one tenant (a change that touches each of them).
pub struct CacheWriter<'a> {
    held: Vec<EnvWriter<'a>>,
}

impl EvalCache {
    /// Waits for the right to change one environment (only writers of the same environment wait for
    /// each other).
    pub async fn writer(&self, tenant: TenantId, environment: EnvironmentId) -> EnvWriter<'_> {
        let key = (tenant, environment);
        loop {
            let slot = self.slot(key);
            let guard = slot.write.clone().lock_owned().await;
            // The environment may have been removed while this writer waited; then take its new slot.
            if self.holds(key, &slot) {
                return EnvWriter {
                    cache: self,
                    key,
                    slot,
                    _guard: guard,
                };
            }
        }
    }

    /// Waits for the right to change each of `environments` of `tenant`, in ascending order.
    pub async fn writers(
        &self,
        tenant: TenantId,
        environments: impl IntoIterator<Item = EnvironmentId>,
    ) -> CacheWriter<'_> {
        let mut environments: Vec<EnvironmentId> = environments.into_iter().collect();
        environments.sort_unstable();
        environments.dedup();
        let mut held = Vec::with_capacity(environments.len());
        for environment in environments {
            held.push(self.writer(tenant, environment).await);
        }
        CacheWriter { held }
    }
}

impl EnvWriter<'_> {
    /// The revision of the environment's snapshot, if it is loaded.
    pub fn revision(&self) -> Option<u64> {
        self.slot.snapshot.load().as_ref().map(|s| s.revision())
    }

    /// Replaces the environment's snapshot; the flags whose configuration differs from the cached
    /// snapshot's are recorded as the change.
    pub fn replace(&self, snapshot: Snapshot) {
        let change = self
            .slot
            .snapshot
            .load()
            .as_ref()
            .filter(|old| old.revision() != snapshot.revision())
            .map(|old| Change::between(old, &snapshot));
        self.cache.store(self.key, &self.slot, snapshot, change);
    }

    /// Drops the environment from the cache (archived, or its tenant deleted); its subscribers'
    /// channel closes.
    pub fn remove(self) {
        self.cache.drop_slot(self.key);
        let mut feed = lock(&self.slot.feed);
        // Dropping the sender closes every receiver, even while a reader still holds the slot.
        drop(std::mem::replace(&mut feed.revision, watch::Sender::new(0)));
    }

    /// Applies an incremental change. Returns false when the environment is not loaded: the caller
    /// must load it whole (a partial snapshot would hide its other flags).
    fn apply(&self, update: EnvUpdate) -> bool {
        let Some(current) = self.slot.snapshot.load_full() else {
            return false;
        };
        let revision = update.revision.max(current.revision());
        let change = Change {
            from: current.revision(),
            to: revision,
            updated: update.upserts.iter().map(|f| f.id).collect(),
            deleted: update
                .removed
                .iter()
                .filter_map(|id| current.flag_by_id(*id).map(|f| (*id, f.key().to_owned())))
                .collect(),
        };
        let next = current.updated(revision, update.upserts, &update.removed);
        let change = (change.to != change.from).then_some(change);
        self.cache.store(self.key, &self.slot, next, change);
        true
    }
}

impl CacheWriter<'_> {
    /// Applies incremental changes to the held environments. Returns the environments that were not
    /// loaded (or not held), which the caller must load whole.
    pub fn apply(&self, updates: Vec<EnvUpdate>) -> Vec<EnvironmentId> {
        let mut missing = Vec::new();
        for update in updates {
            let environment = update.environment;
            let held = self.held.iter().find(|w| w.key.1 == environment);
            if !held.is_some_and(|writer| writer.apply(update)) {
                missing.push(environment);
            }
        }
        missing
    }
}
