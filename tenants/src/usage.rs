//! Usage metering: flag evaluations counted in memory per (tenant, calendar month in UTC) and written to
//! `usage_counters` in batches by [`Usage::flush`].
//!
//! Invariant: recording is one uncontended lock per request (the counters are sharded by thread, so
//! workers never wait on each other) and never touches the database. A flush adds each delta with one
//! insert-or-add statement, so several servers flushing the same counter lose nothing; a delta that
//! could not be written is kept for the next flush.
//! Invariant: the monthly evaluations limit is never enforced on evaluation (evaluation is "never
//! down"): over it, evaluations keep being served, `GET /usage` lists it as exceeded, and a flush logs a
//! warning once per tenant and month on each server.

use crate::TenantsError;
use crate::plans::Limit;
use chrono::Datelike;
use flagent_storage::{Db, TenantDb};
use flagent_types::{SystemScope, TenantId};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A calendar month in UTC, shown as `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    /// The month `at` falls in.
    pub fn of(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// The current month.
    pub fn now() -> Self {
        Self::of(chrono::Utc::now())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Unwritten evaluation counts by tenant and month.
type Counts = HashMap<(TenantId, Period), u64>;

/// How many maps the counters are spread over; a thread always uses the same one.
const SHARDS: usize = 16;

/// Hands each thread its shard, round robin.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// Counts of a map whose holder panicked are still counts: keep using them.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Evaluation counters of every tenant on this server.
pub struct Usage {
    db: Db,
    system: SystemScope,
    shards: [Mutex<Counts>; SHARDS],
    /// (tenant, month) pairs already warned about being over the monthly evaluations.
    warned: Mutex<HashSet<(TenantId, Period)>>,
}

impl Usage {
    /// Counters written to `db`; `system` lets a flush write every tenant's counter.
    pub fn new(db: Db, system: SystemScope) -> Self {
        Self {
            db,
            system,
            shards: Default::default(),
            warned: Mutex::default(),
        }
    }

    /// Counts `evaluations` flag evaluations of `tenant` now (the hot path: memory only).
    pub fn record(&self, tenant: TenantId, evaluations: u64) {
        self.record_in(tenant, Period::now(), evaluations);
    }

    /// Counts `evaluations` flag evaluations of `tenant` in `period`.
    pub fn record_in(&self, tenant: TenantId, period: Period, evaluations: u64) {
        if evaluations == 0 {
            return;
        }
        let shard = SHARD.with(|s| *s);
        *lock(&self.shards[shard])
            .entry((tenant, period))
            .or_insert(0) += evaluations;
    }

    /// Evaluations of `tenant` in `period` recorded on this server and not written yet.
    pub fn unflushed(&self, tenant: TenantId, period: Period) -> u64 {
        self.shards
            .iter()
            .map(|s| lock(s).get(&(tenant, period)).copied().unwrap_or(0))
            .sum()
    }

    /// Adds every unwritten count to `usage_counters` (one statement per tenant and month) and returns
    /// how many counters were written. When the database fails, what was not written is kept for the
    /// next flush and the error is returned.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self) -> Result<usize, TenantsError> {
        let mut merged = Counts::new();
        for shard in &self.shards {
            for (key, count) in std::mem::take(&mut *lock(shard)) {
                *merged.entry(key).or_insert(0) += count;
            }
        }
        let pending: Vec<((TenantId, Period), u64)> = merged.into_iter().collect();
        for (done, &((tenant, period), count)) in pending.iter().enumerate() {
            let tdb = self.db.scoped_for_system(&self.system, tenant);
            if let Err(err) = tdb.add_evaluations(&period.to_string(), count).await {
                self.keep(&pending[done..]);
                return Err(err.into());
            }
            self.warn_once_if_over(&tdb, tenant, period).await;
        }
        Ok(pending.len())
    }

    /// Puts counts that could not be written back, adding to whatever was recorded meanwhile.
    fn keep(&self, counts: &[((TenantId, Period), u64)]) {
        let shard = SHARD.with(|s| *s);
        let mut kept = lock(&self.shards[shard]);
        for &(key, count) in counts {
            *kept.entry(key).or_insert(0) += count;
        }
    }

    /// Logs a warning the first time this server sees `tenant` over its plan's monthly evaluations in
    /// `period`. Evaluations keep being served; a failed check is retried at the next flush.
    async fn warn_once_if_over(&self, tdb: &TenantDb, tenant: TenantId, period: Period) {
        if lock(&self.warned).contains(&(tenant, period)) {
            return;
        }
        let checked = async {
            let plan = tdb.tenant_plan().await?;
            let Some(allowed) = plan.limits.allowed(Limit::MonthlyEvaluations) else {
                return Ok(None);
            };
            let used = tdb.evaluations_in(&period.to_string()).await?;
            Ok::<_, flagent_storage::StorageError>(
                (used > allowed).then_some((plan, allowed, used)),
            )
        };
        match checked.await {
            Ok(Some((plan, allowed, used))) => {
                let mut warned = lock(&self.warned);
                warned.retain(|(_, p)| *p >= period);
                if warned.insert((tenant, period)) {
                    tracing::warn!(
                        tenant_id = %tenant,
                        plan = %plan.key,
                        period = %period,
                        evaluations = used,
                        allowed,
                        "tenant is over its plan's monthly evaluations; evaluations keep being served"
                    );
                }
            }
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, tenant_id = %tenant, "check monthly evaluations"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Period;
    use chrono::TimeZone;

    #[test]
    fn period_is_the_utc_calendar_month() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 23, 59, 59)
            .unwrap();
        assert_eq!(Period::of(at).to_string(), "2026-11");
        let next = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::of(next).to_string(), "2026-12");
        assert!(Period::of(at) < Period::of(next));
        let early = chrono::Utc.with_ymd_and_hms(987, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::of(early).to_string(), "0987-03");
    }
}
