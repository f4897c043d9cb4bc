//! Server-side exposures: the evaluation domain reports which entity was served what
//! ([`flagent_evaluation::ExposureSink`]); the recorder keeps them in memory and [`Recorder::flush`]
//! (the `exposure-flush` job) hashes and writes them, first exposures only.
//!
//! Invariant: recording is one uncontended lock and a push per request; it never touches the
//! database and holds at most [`Recorder::CAPACITY`] exposures, dropping (and counting) the rest
//! under overload: an entity dropped once is recorded on its next evaluation.
//! Invariant: an entity already written for a flag in an environment is skipped in memory (a bounded
//! set of recent keys) and, on any node, by the table's unique key.

use crate::entity::{Door, Salts, hash_entity};
use flagent_evaluation::{ExposureSink, Served};
use flagent_jobs::Clock;
use flagent_storage::entities::exposure;
use flagent_storage::{Db, GroupTx, StorageError};
use flagent_types::{EnvironmentId, SystemScope, TenantId};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Shards of the pending list, so request threads rarely share a lock.
const SHARDS: usize = 16;
/// Keys remembered as written before the set starts over.
const SEEN_CAPACITY: usize = 1_000_000;

/// An exposure not written yet.
struct Pending {
    tenant: TenantId,
    environment: EnvironmentId,
    flag: i64,
    variant: i64,
    entity: String,
    at: i64,
}

/// The server-side exposures of one node.
pub struct Recorder {
    shards: Vec<Mutex<Vec<Pending>>>,
    pending: AtomicUsize,
    dropped: AtomicU64,
    next: AtomicUsize,
    seen: Mutex<HashSet<u64>>,
    /// Held for a whole flush, so a flush that returns has seen every earlier one commit.
    flushing: tokio::sync::Mutex<()>,
    clock: Arc<dyn Clock>,
}

impl Recorder {
    /// Exposures held before new ones are dropped.
    pub const CAPACITY: usize = 200_000;

    /// A recorder reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Recorder {
        Recorder {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            pending: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            next: AtomicUsize::new(0),
            seen: Mutex::new(HashSet::new()),
            flushing: tokio::sync::Mutex::new(()),
            clock,
        }
    }

    /// Exposures dropped because the recorder was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes every pending exposure not known to be written; returns how many rows were new.
    /// What could not be written is dropped (the entity is recorded again on its next evaluation).
    ///
    /// The tenants' salts are read before the transaction opens: on SQLite the pool has one
    /// connection, which the transaction holds until it ends.
    pub(crate) async fn flush(
        &self,
        db: &Db,
        salts: &Salts,
        system: &SystemScope,
    ) -> Result<u64, StorageError> {
        let _flushing = self.flushing.lock().await;
        let taken = self.take();
        let mut keys = HashSet::new();
        let mut fresh: BTreeMap<TenantId, Vec<Pending>> = BTreeMap::new();
        {
            let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            for p in taken {
                let key = seen_key(&p);
                if !seen.contains(&key) && keys.insert(key) {
                    fresh.entry(p.tenant).or_default().push(p);
                }
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let mut batches = Vec::with_capacity(fresh.len());
        for (tenant, list) in fresh {
            let salt = salts.of(db, Door::System(system, tenant)).await?;
            let rows: Vec<exposure::Model> = list
                .into_iter()
                .map(|p| exposure::Model {
                    id: 0,
                    tenant_id: 0,
                    environment_id: p.environment.0,
                    flag_id: p.flag,
                    variant_id: p.variant,
                    entity: hash_entity(&salt, &p.entity),
                    exposed_at: p.at,
                })
                .collect();
            batches.push((tenant, rows));
        }
        let mut group = db.begin_system_group(system).await?;
        let written = match write(&mut group, batches).await {
            Ok(written) => written,
            Err(err) => {
                let _ = group.rollback().await;
                return Err(err);
            }
        };
        group.commit().await?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() + keys.len() > SEEN_CAPACITY {
            seen.clear();
        }
        seen.extend(keys);
        Ok(written)
    }

    fn take(&self) -> Vec<Pending> {
        let mut all = Vec::new();
        for shard in &self.shards {
            let mut list = shard.lock().unwrap_or_else(|p| p.into_inner());
            all.append(&mut list);
        }
        self.pending.fetch_sub(all.len(), Ordering::Relaxed);
        all
    }
}

/// Inserts each tenant's rows as first exposures; returns how many were new.
async fn write(
    group: &mut GroupTx,
    batches: Vec<(TenantId, Vec<exposure::Model>)>,
) -> Result<u64, StorageError> {
    let mut written = 0;
    for (tenant, rows) in batches {
        written += group
            .scoped_for_system(tenant)
            .await?
            .insert_exposures(rows)
            .await?;
    }
    Ok(written)
}

/// The recent-keys set's key of an exposure: (tenant, environment, flag, entity).
fn seen_key(p: &Pending) -> u64 {
    let mut hasher = DefaultHasher::new();
    (p.tenant.0, p.environment.0, p.flag, &p.entity).hash(&mut hasher);
    hasher.finish()
}

impl ExposureSink for Recorder {
    fn exposed(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        entity: &str,
        served: &[Served],
    ) {
        let exposures = served.iter().filter(|s| s.variant.is_some()).count();
        if exposures == 0 {
            return;
        }
        if self.pending.fetch_add(exposures, Ordering::Relaxed) + exposures > Self::CAPACITY {
            self.pending.fetch_sub(exposures, Ordering::Relaxed);
            self.dropped.fetch_add(exposures as u64, Ordering::Relaxed);
            return;
        }
        let at = self.clock.now_millis();
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let mut list = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        for s in served {
            if let Some(variant) = s.variant {
                list.push(Pending {
                    tenant,
                    environment,
                    flag: s.flag,
                    variant,
                    entity: entity.to_owned(),
                    at,
                });
            }
        }
    }
}
