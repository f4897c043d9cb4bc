//! The evaluation cache: one compiled [`Snapshot`] per (tenant, environment), swapped atomically, and
//! the change feed that streams to SDKs follow.
//!
//! Invariant: readers never wait. A reader takes the current map with one atomic load; writers build a
//! new snapshot beside the old one and swap the map. Writers are serialised by [`EvalCache::writer`] and
//! hold it across commit and apply, so snapshots are applied in commit order.
//!
//! Invariant: every swap that changes an environment's revision records which flags changed (by id; a
//! whole reload is compared flag by flag) in that environment's [`Feed`], under the same lock that
//! [`EvalCache::changes_since`] reads with, so a reader sees a snapshot and a change log that agree.
//! Subscribers ([`EvalCache::subscribe`]) are woken with the new revision through a `watch` channel:
//! a slow one misses nothing, it asks for everything since the revision it last sent.

use arc_swap::ArcSwap;
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{EnvironmentId, TenantId};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};
use tokio::sync::{Mutex, MutexGuard, broadcast, watch};

type Key = (TenantId, EnvironmentId);

/// How many changes each environment's feed remembers for replay.
pub const FEED_LENGTH: usize = 256;

/// Compiled snapshots of every environment this node serves.
pub struct EvalCache {
    map: ArcSwap<HashMap<Key, Arc<Snapshot>>>,
    write: Mutex<()>,
    feeds: SyncMutex<HashMap<Key, Feed>>,
    revisions: broadcast::Sender<Revised>,
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
            map: ArcSwap::default(),
            write: Mutex::default(),
            feeds: SyncMutex::default(),
            revisions: broadcast::Sender::new(1024),
        }
    }
}

/// One environment's recent changes and its subscribers' wake-up channel.
struct Feed {
    log: VecDeque<Change>,
    revision: watch::Sender<u64>,
}

/// Ids of the flags updated, and ids and keys of the flags deleted, over several changes.
type Merged = (Vec<i64>, Vec<(i64, String)>);

/// One swap of an environment's snapshot, from revision `from` to `to`.
#[derive(Debug, Clone)]
struct Change {
    from: u64,
    to: u64,
    /// Ids of flags whose configuration changed or which appeared.
    updated: Vec<i64>,
    /// Ids and keys of flags that left the environment.
    deleted: Vec<(i64, String)>,
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

    /// Every loaded environment's snapshot.
    pub fn snapshots(&self) -> Vec<(TenantId, EnvironmentId, Arc<Snapshot>)> {
        self.map
            .load()
            .iter()
            .map(|((tenant, environment), snapshot)| (*tenant, *environment, snapshot.clone()))
            .collect()
    }

    /// The revision of every loaded environment.
    pub fn revisions(&self) -> HashMap<(TenantId, EnvironmentId), u64> {
        self.map
            .load()
            .iter()
            .map(|(key, snapshot)| (*key, snapshot.revision()))
            .collect()
    }

    /// Every new revision any environment reaches on this node from now on (for telling other nodes);
    /// a receiver that lags loses the oldest, which the other nodes' revision polling repairs.
    pub fn revised(&self) -> broadcast::Receiver<Revised> {
        self.revisions.subscribe()
    }

    /// How many environments are loaded.
    pub fn environments(&self) -> usize {
        self.map.load().len()
    }

    /// A channel that holds the environment's newest revision and wakes its receivers when it changes;
    /// it closes when the environment is removed from the cache.
    pub fn subscribe(&self, tenant: TenantId, environment: EnvironmentId) -> watch::Receiver<u64> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.snapshot(tenant, environment).map(|s| s.revision());
        feeds
            .entry((tenant, environment))
            .or_insert_with(|| Feed::new(current.unwrap_or(0)))
            .revision
            .subscribe()
    }

    /// What changed in an environment since `revision`, read consistently with the current snapshot.
    pub fn changes_since(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        revision: u64,
    ) -> Since {
        let feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(snapshot) = self.snapshot(tenant, environment) else {
            return Since::Gone;
        };
        if snapshot.revision() == revision {
            return Since::Current;
        }
        let Some(feed) = feeds.get(&(tenant, environment)) else {
            return Since::Snapshot(snapshot);
        };
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

    /// Stores `next` as the map, recording `changes` in their environments' feeds, atomically with
    /// respect to [`EvalCache::changes_since`].
    fn store(&self, next: HashMap<Key, Arc<Snapshot>>, changes: Vec<(Key, Change)>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        self.map.store(Arc::new(next));
        for (key, change) in changes {
            let feed = feeds.entry(key).or_insert_with(|| Feed::new(change.from));
            let to = change.to;
            feed.log.push_back(change);
            while feed.log.len() > FEED_LENGTH {
                feed.log.pop_front();
            }
            feed.revision.send_replace(to);
            // Nobody listening is fine: a single node has no one to tell.
            let _ = self.revisions.send(Revised {
                tenant: key.0,
                environment: key.1,
                revision: to,
            });
        }
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
    /// Replaces an environment's snapshot; the flags whose configuration differs from the cached
    /// snapshot's are recorded as the change.
    pub fn replace(&self, tenant: TenantId, environment: EnvironmentId, snapshot: Snapshot) {
        let key = (tenant, environment);
        let mut next = HashMap::clone(&self.cache.map.load());
        let change = next
            .get(&key)
            .filter(|old| old.revision() != snapshot.revision())
            .map(|old| Change::between(old, &snapshot));
        next.insert(key, Arc::new(snapshot));
        self.cache
            .store(next, change.map(|c| (key, c)).into_iter().collect());
    }

    /// Drops an environment from the cache (archived, or its tenant deleted); its subscribers' channel
    /// closes.
    pub fn remove(&self, tenant: TenantId, environment: EnvironmentId) {
        let key = (tenant, environment);
        let mut feeds = self
            .cache
            .feeds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = HashMap::clone(&self.cache.map.load());
        if next.remove(&key).is_some() {
            self.cache.map.store(Arc::new(next));
        }
        feeds.remove(&key);
    }

    /// Applies incremental changes to one tenant's environments. Returns the environments that were not
    /// loaded, which the caller must load whole (a partial snapshot would hide their other flags).
    pub(crate) fn apply(&self, tenant: TenantId, updates: Vec<EnvUpdate>) -> Vec<EnvironmentId> {
        let mut next = HashMap::clone(&self.cache.map.load());
        let mut missing = Vec::new();
        let mut changes = Vec::new();
        for u in updates {
            let key = (tenant, u.environment);
            let Some(current) = next.get(&key).cloned() else {
                missing.push(u.environment);
                continue;
            };
            let revision = u.revision.max(current.revision());
            let change = Change {
                from: current.revision(),
                to: revision,
                updated: u.upserts.iter().map(|f| f.id).collect(),
                deleted: u
                    .removed
                    .iter()
                    .filter_map(|id| current.flag_by_id(*id).map(|f| (*id, f.key().to_owned())))
                    .collect(),
            };
            let updated = current.updated(revision, u.upserts, &u.removed);
            next.insert(key, Arc::new(updated));
            if change.to != change.from {
                changes.push((key, change));
            }
        }
        self.cache.store(next, changes);
        missing
    }
}

impl Feed {
    fn new(revision: u64) -> Self {
        Feed {
            log: VecDeque::new(),
            revision: watch::Sender::new(revision),
        }
    }

    /// The flags changed and deleted between `revision` and `current`, if the log covers that span
    /// without a gap.
    fn since(&self, revision: u64, current: u64) -> Option<Merged> {
        if revision > current {
            return None;
        }
        let start = self.log.iter().position(|c| c.from == revision)?;
        // Later state wins: a flag deleted then re-added is updated, and the other way round.
        let mut state: BTreeMap<i64, Option<String>> = BTreeMap::new();
        let mut reached = revision;
        for change in self.log.iter().skip(start) {
            if change.from != reached {
                return None;
            }
            reached = change.to;
            for id in &change.updated {
                state.insert(*id, None);
            }
            for (id, key) in &change.deleted {
                state.insert(*id, Some(key.clone()));
            }
        }
        if reached != current {
            return None;
        }
        let mut updated = Vec::new();
        let mut deleted = Vec::new();
        for (id, gone) in state {
            match gone {
                Some(key) => deleted.push((id, key)),
                None => updated.push(id),
            }
        }
        Some((updated, deleted))
    }
}

impl Change {
    /// The difference between two snapshots of one environment, flag by flag.
    fn between(old: &Snapshot, new: &Snapshot) -> Change {
        let updated = new
            .flags()
            .filter(|f| {
                old.flag_by_id(f.id())
                    .is_none_or(|o| o.config() != f.config())
            })
            .map(|f| f.id())
            .collect();
        let deleted = old
            .flags()
            .filter(|f| new.flag_by_id(f.id()).is_none())
            .map(|f| (f.id(), f.key().to_owned()))
            .collect();
        Change {
            from: old.revision(),
            to: new.revision(),
            updated,
            deleted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TenantId = TenantId(1);
    const E: EnvironmentId = EnvironmentId(2);

    fn flag(id: i64, enabled: bool) -> FlagConfig {
        serde_json::from_value(serde_json::json!({
            "id": id, "key": format!("f{id}"), "salt": format!("f{id}"), "enabled": enabled
        }))
        .expect("a minimal flag configuration")
    }

    fn update(revision: u64, upserts: Vec<FlagConfig>, removed: Vec<i64>) -> EnvUpdate {
        EnvUpdate {
            environment: E,
            revision,
            upserts,
            removed,
        }
    }

    fn ids(since: &Since) -> (Vec<i64>, Vec<i64>) {
        match since {
            Since::Changes {
                updated, deleted, ..
            } => (
                updated.iter().map(|f| f.id).collect(),
                deleted.iter().map(|(id, _)| *id).collect(),
            ),
            other => panic!("expected changes, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn changes_since_merges_the_log_and_later_state_wins() {
        let cache = EvalCache::new();
        let w = cache.writer().await;
        w.replace(T, E, Snapshot::build(1, vec![flag(1, true), flag(2, true)]));
        let mut rx = cache.subscribe(T, E);
        assert_eq!(*rx.borrow_and_update(), 1);
        w.apply(T, vec![update(2, vec![flag(1, false)], vec![])]);
        w.apply(T, vec![update(3, vec![], vec![2])]);
        w.apply(T, vec![update(4, vec![flag(3, true)], vec![1])]);
        assert!(rx.has_changed().expect("the feed is open"));
        assert_eq!(*rx.borrow_and_update(), 4);

        assert!(matches!(cache.changes_since(T, E, 4), Since::Current));
        assert_eq!(ids(&cache.changes_since(T, E, 1)), (vec![3], vec![1, 2]));
        assert_eq!(ids(&cache.changes_since(T, E, 3)), (vec![3], vec![1]));
        // A revision the log never held (between, ahead, or another history) needs a snapshot.
        assert!(matches!(cache.changes_since(T, E, 0), Since::Snapshot(_)));
        assert!(matches!(cache.changes_since(T, E, 9), Since::Snapshot(_)));
        assert!(matches!(
            cache.changes_since(T, EnvironmentId(99), 1),
            Since::Gone
        ));
    }

    #[tokio::test]
    async fn a_reload_records_only_the_flags_that_differ() {
        let cache = EvalCache::new();
        let w = cache.writer().await;
        w.replace(T, E, Snapshot::build(5, vec![flag(1, true), flag(2, true)]));
        w.replace(
            T,
            E,
            Snapshot::build(7, vec![flag(1, true), flag(3, false)]),
        );
        assert_eq!(ids(&cache.changes_since(T, E, 5)), (vec![3], vec![2]));
        let Since::Changes { deleted, .. } = cache.changes_since(T, E, 5) else {
            unreachable!()
        };
        assert_eq!(deleted, vec![(2, "f2".to_owned())]);
    }

    #[tokio::test]
    async fn the_log_forgets_beyond_its_length_and_removal_closes_the_feed() {
        let cache = EvalCache::new();
        let w = cache.writer().await;
        w.replace(T, E, Snapshot::build(0, vec![flag(1, true)]));
        for r in 1..=(FEED_LENGTH as u64 + 1) {
            w.apply(T, vec![update(r, vec![flag(1, r % 2 == 0)], vec![])]);
        }
        assert!(matches!(cache.changes_since(T, E, 0), Since::Snapshot(_)));
        assert_eq!(ids(&cache.changes_since(T, E, 1)), (vec![1], vec![]));
        let mut rx = cache.subscribe(T, E);
        w.remove(T, E);
        assert!(rx.changed().await.is_err(), "the channel closes");
        assert!(matches!(cache.changes_since(T, E, 1), Since::Gone));
    }
}
