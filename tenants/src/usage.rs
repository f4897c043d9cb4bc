//! Usage: what evaluations are counted for, in two parts recorded together on the hot path and written
//! together by [`Usage::flush`]: metering (`usage/metering.rs`: evaluations per tenant and UTC month in
//! `usage_counters`, what plans limit and billing reads) and served counts (`usage/served.rs`: flag,
//! segment and variant per environment and hour in `variant_counts`, for the experiments view).
//!
//! Invariant: recording is one uncontended lock per request for each part (both are
//! [`ShardedCounts`](flagent_types::ShardedCounts), so workers never wait on each other) and never
//! touches the database. A flush adds each delta with one insert-or-add statement, so several servers
//! flushing the same counter lose nothing; a delta that could not be written is kept for the next flush.

mod metering;
mod served;

pub use metering::Period;
pub use served::{HOUR, Served, VariantCount, hour_of};

use crate::TenantsError;
use flagent_storage::Db;
use flagent_types::{EnvironmentId, SystemScope, TenantId, TenantScope, perm};
use std::sync::{Mutex, MutexGuard};

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
    metering: metering::Metering,
    served: served::ServedCounts,
}

impl Usage {
    /// Counters written to `db`; `system` lets a flush write every tenant's counter.
    pub fn new(db: Db, system: SystemScope) -> Self {
        Self {
            db,
            system,
            metering: metering::Metering::default(),
            served: served::ServedCounts::default(),
        }
    }

    /// Counts `evaluations` flag evaluations of `tenant` now (the hot path: memory only).
    pub fn record(&self, tenant: TenantId, evaluations: u64) {
        self.record_in(tenant, Period::now(), evaluations);
    }

    /// Counts `evaluations` flag evaluations of `tenant` in `period`.
    pub fn record_in(&self, tenant: TenantId, period: Period, evaluations: u64) {
        self.metering.record(tenant, period, evaluations);
    }

    /// Counts what a request's evaluations in `environment` served, in the current hour (the hot
    /// path: memory only, one clock reading and one lock per request).
    pub fn record_served(&self, tenant: TenantId, environment: EnvironmentId, served: &[Served]) {
        if served.is_empty() {
            return;
        }
        let hour = hour_of(chrono::Utc::now().timestamp());
        self.served.record(tenant, environment, hour, served);
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
        self.served.of_flag(&self.db, scope, flag, since).await
    }

    /// Evaluations of `tenant` in `period` recorded on this server and not written yet.
    pub fn unflushed(&self, tenant: TenantId, period: Period) -> u64 {
        self.metering.unflushed(tenant, period)
    }

    /// Adds every unwritten count to `usage_counters` (one statement per tenant and month), then every
    /// variant count to `variant_counts`, and returns how many monthly counters were written. When the
    /// database fails, what was not written is kept for the next flush and the error is returned.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self) -> Result<usize, TenantsError> {
        let counters = self.metering.flush(&self.db, &self.system).await?;
        let variants = self.served.flush(&self.db, &self.system).await?;
        tracing::debug!(counters, variants, "recorded the evaluation counts");
        Ok(counters)
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
