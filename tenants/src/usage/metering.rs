//! Metering: flag evaluations counted in memory per (tenant, calendar month in UTC) and added to
//! `usage_counters`, the figure plans limit and billing reads.
//!
//! Invariant: the monthly evaluations limit is never enforced on evaluation (evaluation is "never
//! down"): over it, evaluations keep being served, `GET /usage` lists it as exceeded, and a flush logs a
//! warning once per tenant and month on each server.

use super::lock;
use crate::TenantsError;
use crate::plans::Limit;
use chrono::Datelike;
use flagent_storage::{Db, TenantDb};
use flagent_types::{ShardedCounts, SystemScope, TenantId};
use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

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

/// Monthly evaluation counters of every tenant on this server.
#[derive(Default)]
pub(super) struct Metering {
    counts: ShardedCounts<(TenantId, Period)>,
    /// (tenant, month) pairs already warned about being over the monthly evaluations.
    warned: Mutex<HashSet<(TenantId, Period)>>,
}

impl Metering {
    /// Counts `evaluations` of `tenant` in `period` (memory only).
    pub(super) fn record(&self, tenant: TenantId, period: Period, evaluations: u64) {
        self.counts.add([((tenant, period), evaluations)]);
    }

    /// Evaluations of `tenant` in `period` recorded and not written yet.
    pub(super) fn unflushed(&self, tenant: TenantId, period: Period) -> u64 {
        self.counts.pending(&(tenant, period))
    }

    /// Adds every unwritten count to `usage_counters` (one statement per tenant and month); returns how
    /// many counters were written. What was not written is kept for the next flush.
    pub(super) async fn flush(&self, db: &Db, system: &SystemScope) -> Result<usize, TenantsError> {
        let pending: Vec<((TenantId, Period), u64)> = self.counts.take().into_iter().collect();
        for (done, &((tenant, period), count)) in pending.iter().enumerate() {
            let tdb = db.scoped_for_system(system, tenant);
            if let Err(err) = tdb.add_evaluations(&period.to_string(), count).await {
                self.counts.put_back(pending[done..].iter().copied());
                return Err(err.into());
            }
            self.warn_once_if_over(&tdb, tenant, period).await;
        }
        Ok(pending.len())
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
