//! The evaluation cache: one compiled [`Snapshot`] per (tenant, environment), swapped atomically, and
//! the change feed that streams to SDKs follow.
//!
//! Layout: an outer map from (tenant, environment) to that environment's [`Slot`], swapped only when an
//! environment is added or removed; each slot holds its snapshot in its own `ArcSwapOption`, its
//! change feed, and its own write lock. Changing one environment never copies the outer map.
//!
//! Invariant: readers never wait. A reader takes the outer map and then the environment's snapshot with
//! one atomic load each; writers build a new snapshot beside the old one and swap it in.
//! Invariant: writers of one environment are serialised by that environment's lock (see
//! [`crate::CacheWriter`]) and hold it across the commit whose result they apply, so snapshots are
//! applied in commit order per environment; writers of different environments never wait for each
//! other.
//! Invariant: every swap that changes an environment's revision records which flags changed (by id; a
//! whole reload is compared flag by flag) in that environment's feed, under the feed lock that
//! [`EvalCache::changes_since`] reads with, so a reader sees a snapshot and a change log that agree.
//! Subscribers ([`EvalCache::subscribe`]) are woken with the new revision through a `watch` channel:
//! a slow one misses nothing, it asks for everything since the revision it last sent.

use crate::feed::{Change, Feed};
use arc_swap::{ArcSwap, ArcSwapOption};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{EnvironmentId, TenantId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex, MutexGuard, PoisonError};
use tokio::sync::{Mutex, broadcast, watch};

pub(crate) type Key = (TenantId, EnvironmentId);

/// How many changes each environment's feed remembers for replay.
pub const FEED_LENGTH: usize = 256;

/// Compiled snapshots of every environment this node serves.
pub struct EvalCache {
    slots: ArcSwap<HashMap<Key, Arc<Slot>>>,
    /// Serialises changes to the outer map and subscriptions to environments not loaded yet.
    membership: SyncMutex<HashMap<Key, watch::Sender<u64>>>,
    revisions: broadcast::Sender<Revised>,
}

/// One environment: its snapshot (none until first loaded), its feed and its write lock.
pub(crate) struct Slot {
    pub(crate) snapshot: ArcSwapOption<Snapshot>,
    pub(crate) feed: SyncMutex<Feed>,
    pub(crate) write: Arc<Mutex<()>>,
}

/// An environment's snapshot reached a new revision on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revised {
    /// The tenant.
    pub tenant: TenantId,
    /// The environment.
    pub environment: EnvironmentId,
    /// Its new revision.
    pub revision: u64,
}

impl Default for EvalCache {
    fn default() -> Self {
        EvalCache {
            slots: ArcSwap::default(),
            membership: SyncMutex::default(),
            revisions: broadcast::Sender::new(1024),
        }
    }
}

/// What changed in an environment since a revision a subscriber holds.
#[derive(Debug)]
pub enum Since {
    /// Nothing: the revision is current.
    Current,
    /// The environment is not loaded (unknown, or removed).
    Gone,
    /// These flags changed; `snapshot` is the current state they are read from.
    Changes {
        /// The current snapshot.
        snapshot: Arc<Snapshot>,
        /// Current configurations of the flags changed or added since, by ascending id.
        updated: Vec<FlagConfig>,
        /// Ids and keys of the flags gone since, by ascending id.
        deleted: Vec<(i64, String)>,
    },
    /// The change log does not reach back that far (or the revision is not this node's history):
    /// send the whole snapshot.
    Snapshot(Arc<Snapshot>),
}

/// A lock whose holder panicked is still usable.
pub(crate) fn lock<T>(mutex: &SyncMutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EvalCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current snapshot of an environment, if it has been loaded.
    pub fn snapshot(&self, tenant: TenantId, environment: EnvironmentId) -> Option<Arc<Snapshot>> {
        self.slots
            .load()
            .get(&(tenant, environment))
            .and_then(|slot| slot.snapshot.load_full())
    }

    /// Every loaded environment's snapshot.
    pub fn snapshots(&self) -> Vec<(TenantId, EnvironmentId, Arc<Snapshot>)> {
        self.slots
            .load()
            .iter()
            .filter_map(|((tenant, environment), slot)| {
                Some((*tenant, *environment, slot.snapshot.load_full()?))
            })
            .collect()
    }

    /// The revision of every loaded environment.
    pub fn revisions(&self) -> HashMap<(TenantId, EnvironmentId), u64> {
        self.slots
            .load()
            .iter()
            .filter_map(|(key, slot)| Some((*key, slot.snapshot.load().as_ref()?.revision())))
            .collect()
    }

    /// Every new revision any environment reaches on this node from now on (for telling other nodes);
    /// a receiver that lags loses the oldest, which the other nodes' revision polling repairs.
    pub fn revised(&self) -> broadcast::Receiver<Revised> {
        self.revisions.subscribe()
    }

    /// How many environments are loaded.
    pub fn environments(&self) -> usize {
        self.slots
            .load()
            .values()
            .filter(|slot| slot.snapshot.load().is_some())
            .count()
    }

    /// A channel that holds the environment's newest revision and wakes its receivers when it changes;
    /// it closes when the environment is removed from the cache.
    pub fn subscribe(&self, tenant: TenantId, environment: EnvironmentId) -> watch::Receiver<u64> {
        let mut waiting = lock(&self.membership);
        if let Some(slot) = self.slots.load().get(&(tenant, environment)) {
            return lock(&slot.feed).revision.subscribe();
        }
        waiting
            .entry((tenant, environment))
            .or_insert_with(|| watch::Sender::new(0))
            .subscribe()
    }

    /// What changed in an environment since `revision`, read consistently with the current snapshot.
    pub fn changes_since(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        revision: u64,
    ) -> Since {
        let slots = self.slots.load();
        let Some(slot) = slots.get(&(tenant, environment)) else {
            return Since::Gone;
        };
        let feed = lock(&slot.feed);
        let Some(snapshot) = slot.snapshot.load_full() else {
            return Since::Gone;
        };
        if snapshot.revision() == revision {
            return Since::Current;
        }
        match feed.since(revision, snapshot.revision()) {
            Some((updated, deleted)) => Since::Changes {
                updated: updated
                    .into_iter()
                    .filter_map(|id| snapshot.flag_by_id(id).map(|f| f.config().clone()))
                    .collect(),
                deleted,
                snapshot,
            },
            None => Since::Snapshot(snapshot),
        }
    }

    /// The slot of an environment, created (without a snapshot) if it has none yet.
    pub(crate) fn slot(&self, key: Key) -> Arc<Slot> {
        if let Some(slot) = self.slots.load().get(&key) {
            return slot.clone();
        }
        let mut waiting = lock(&self.membership);
        let current = self.slots.load_full();
        if let Some(slot) = current.get(&key) {
            return slot.clone();
        }
        let revision = waiting
            .remove(&key)
            .unwrap_or_else(|| watch::Sender::new(0));
        let slot = Arc::new(Slot {
            snapshot: ArcSwapOption::empty(),
            feed: SyncMutex::new(Feed::new(revision)),
            write: Arc::default(),
        });
        let mut next = HashMap::clone(&current);
        next.insert(key, slot.clone());
        self.slots.store(Arc::new(next));
        slot
    }

    /// Whether `slot` is still the environment's slot (not removed since it was taken).
    pub(crate) fn holds(&self, key: Key, slot: &Arc<Slot>) -> bool {
        self.slots
            .load()
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, slot))
    }

    /// Drops an environment's slot; its feed's channel closes with it.
    pub(crate) fn drop_slot(&self, key: Key) {
        let mut waiting = lock(&self.membership);
        waiting.remove(&key);
        let current = self.slots.load_full();
        if current.contains_key(&key) {
            let mut next = HashMap::clone(&current);
            next.remove(&key);
            self.slots.store(Arc::new(next));
        }
    }

    /// Stores `snapshot` as the environment's, recording `change` in its feed, atomically with respect
    /// to [`EvalCache::changes_since`], and announces the new revision.
    pub(crate) fn store(&self, key: Key, slot: &Slot, snapshot: Snapshot, change: Option<Change>) {
        let mut feed = lock(&slot.feed);
        let revision = snapshot.revision();
        slot.snapshot.store(Some(Arc::new(snapshot)));
        let Some(change) = change else {
            // A first load is no change: the channel learns the revision without waking anyone.
            feed.revision.send_if_modified(|held| {
                *held = revision;
                false
            });
            return;
        };
        feed.record(change);
        // Nobody listening is fine: a single node has no one to tell.
        let _ = self.revisions.send(Revised {
            tenant: key.0,
            environment: key.1,
            revision,
        });
    }
}
