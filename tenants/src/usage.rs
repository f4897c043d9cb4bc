//! Usage metering: flag evaluations counted in memory per (tenant, calendar month in UTC) and written to
//! `usage_counters` in batches by [`Usage::flush`]; and what each evaluation served (flag, segment and
//! variant per environment and hour), written to `variant_counts` by the same flush, for the
//! experiments view.
//!
//! Invariant: recording is one uncontended lock per request (the counters are [`ShardedCounts`], so
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
use flagent_types::{EnvironmentId, ShardedCounts, SystemScope, TenantId, TenantScope, perm};
use std::collections::HashSet;
use std::fmt;
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

/// What one evaluation of an existing flag served (the evaluation domain's type).
pub use flagent_evaluation::Served;

/// What one evaluation served, in which hour: the key variant counts are kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ServedKey {
    tenant: TenantId,
    environment: EnvironmentId,
    flag: i64,
    /// Unix seconds at the start of the hour (UTC).
    hour: i64,
    /// 0 when no segment matched.
    segment: i64,
    /// 0 when no variant was served.
    variant: i64,
}

/// Evaluations of a flag in one hour that one segment and variant served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantCount {
    /// Unix seconds at the start of the hour (UTC).
    pub hour: i64,
    /// The segment that matched; 0 for none.
    pub segment_id: i64,
    /// The variant served; 0 for none.
    pub variant_id: i64,
    /// How many evaluations.
    pub evaluations: u64,
}

/// Seconds in an hour, the resolution of variant counts.
pub const HOUR: i64 = 3600;

/// The start of the hour `at` (Unix seconds) falls in.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(HOUR)
}

/// A set whose holder panicked is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Evaluation counters of every tenant on this server.
pub struct Usage {
    db: Db,
    system: SystemScope,
    counts: ShardedCounts<(TenantId, Period)>,
    served: ShardedCounts<ServedKey>,
    /// (tenant, month) pairs already warned about being over the monthly evaluations.
    warned: Mutex<HashSet<(TenantId, Period)>>,
}

impl Usage {
    /// Counters written to `db`; `system` lets a flush write every tenant's counter.
    pub fn new(db: Db, system: SystemScope) -> Self {
        Self {
            db,
            system,
            counts: ShardedCounts::default(),
            served: ShardedCounts::default(),
            warned: Mutex::default(),
        }
    }

    /// Counts `evaluations` flag evaluations of `tenant` now (the hot path: memory only).
    pub fn record(&self, tenant: TenantId, evaluations: u64) {
        self.record_in(tenant, Period::now(), evaluations);
    }

    /// Counts `evaluations` flag evaluations of `tenant` in `period`.
    pub fn record_in(&self, tenant: TenantId, period: Period, evaluations: u64) {
        self.counts.add([((tenant, period), evaluations)]);
    }

    /// Counts what a request's evaluations in `environment` served, in the current hour (the hot
    /// path: memory only, one clock reading and one lock per request).
    pub fn record_served(&self, tenant: TenantId, environment: EnvironmentId, served: &[Served]) {
        if served.is_empty() {
            return;
        }
        let hour = hour_of(chrono::Utc::now().timestamp());
        self.served.add(served.iter().map(|s| {
            let key = ServedKey {
                tenant,
                environment,
                flag: s.flag,
                hour,
                segment: s.segment.unwrap_or(0),
                variant: s.variant.unwrap_or(0),
            };
            (key, 1)
        }));
    }

    /// What `flag` served in the caller's environment from hour `since` (Unix seconds) on, oldest hour
    /// first: the written counts plus those this server has not written yet.
    pub async fn variant_counts(
        &self,
        scope: &TenantScope,
        flag: i64,
        since: i64,
    ) -> Result<Vec<VariantCount>, TenantsError> {
        scope.require::<perm::Read>()?;
        let (tenant, environment) = (scope.tenant_id(), scope.environment_id());
        let rows = self
            .db
            .scoped(scope)
            .variant_counts(environment.0, flag, since)
            .await?;
        let mut counts: std::collections::BTreeMap<(i64, i64, i64), u64> = rows
            .into_iter()
            .map(|r| {
                let evaluations = u64::try_from(r.evaluations).unwrap_or(0);
                ((r.hour, r.segment_id, r.variant_id), evaluations)
            })
            .collect();
        let pending = self.served.pending_where(|s| {
            s.tenant == tenant && s.environment == environment && s.flag == flag && s.hour >= since
        });
        for (s, n) in pending {
            *counts.entry((s.hour, s.segment, s.variant)).or_insert(0) += n;
        }
        Ok(counts
            .into_iter()
            .map(
                |((hour, segment_id, variant_id), evaluations)| VariantCount {
                    hour,
                    segment_id,
                    variant_id,
                    evaluations,
                },
            )
            .collect())
    }

    /// Evaluations of `tenant` in `period` recorded on this server and not written yet.
    pub fn unflushed(&self, tenant: TenantId, period: Period) -> u64 {
        self.counts.pending(&(tenant, period))
    }

    /// Adds every unwritten count to `usage_counters` (one statement per tenant and month), then every
    /// variant count to `variant_counts`, and returns how many monthly counters were written. When the database fails, what was not written is kept for the
    /// next flush and the error is returned.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self) -> Result<usize, TenantsError> {
        let merged = self.counts.take();
        let pending: Vec<((TenantId, Period), u64)> = merged.into_iter().collect();
        for (done, &((tenant, period), count)) in pending.iter().enumerate() {
            let tdb = self.db.scoped_for_system(&self.system, tenant);
            if let Err(err) = tdb.add_evaluations(&period.to_string(), count).await {
                self.keep(&pending[done..]);
                return Err(err.into());
            }
            self.warn_once_if_over(&tdb, tenant, period).await;
        }
        let variants = self.flush_served().await?;
        tracing::debug!(variants, "recorded the variant counts");
        Ok(pending.len())
    }

    /// Adds every unwritten variant count to `variant_counts`; what could not be written is kept.
    async fn flush_served(&self) -> Result<usize, TenantsError> {
        let pending: Vec<(ServedKey, u64)> = self.served.take().into_iter().collect();
        for (done, &(s, count)) in pending.iter().enumerate() {
            let tdb = self.db.scoped_for_system(&self.system, s.tenant);
            let written = tdb
                .add_variant_count(s.environment.0, s.flag, s.hour, s.segment, s.variant, count)
                .await;
            if let Err(err) = written {
                self.served.put_back(pending[done..].iter().copied());
                return Err(err.into());
            }
        }
        Ok(pending.len())
    }

    /// Puts counts that could not be written back, adding to whatever was recorded meanwhile.
    fn keep(&self, counts: &[((TenantId, Period), u64)]) {
        self.counts.put_back(counts.iter().copied());
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

/// The evaluation domain counts each answered request here: its evaluations for metering, and what
/// they served for the experiments view.
impl flagent_evaluation::UsageSink for Usage {
    fn record(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        evaluations: u64,
        served: &[Served],
    ) {
        Usage::record(self, tenant, evaluations);
        self.record_served(tenant, environment, served);
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
