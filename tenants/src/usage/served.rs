//! Served counts: what each evaluation served (flag, segment and variant per environment and UTC
//! hour), added to `variant_counts` for the experiments view, and read back with this server's
//! unwritten counts added.

use crate::TenantsError;
use flagent_storage::Db;
use flagent_types::{EnvironmentId, ShardedCounts, SystemScope, TenantId, TenantScope};
use std::collections::BTreeMap;

/// What one evaluation of an existing flag served (the evaluation domain's type).
pub use flagent_evaluation::Served;

/// Seconds in an hour, the resolution of variant counts.
pub const HOUR: i64 = 3600;

/// The start of the hour `at` (Unix seconds) falls in.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(HOUR)
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

/// Served counts of every tenant on this server.
#[derive(Default)]
pub(super) struct ServedCounts {
    counts: ShardedCounts<ServedKey>,
}

impl ServedCounts {
    /// Counts what a request's evaluations in `environment` served in `hour` (memory only, one lock).
    pub(super) fn record(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        hour: i64,
        served: &[Served],
    ) {
        self.counts.add(served.iter().map(|s| {
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

    /// What `flag` served in the caller's environment from hour `since` on, oldest hour first: the
    /// written counts plus those not written yet. The caller checked the scope's permission.
    pub(super) async fn of_flag(
        &self,
        db: &Db,
        scope: &TenantScope,
        flag: i64,
        since: i64,
    ) -> Result<Vec<VariantCount>, TenantsError> {
        let (tenant, environment) = (scope.tenant_id(), scope.environment_id());
        let rows = db
            .scoped(scope)
            .variant_counts(environment.0, flag, since)
            .await?;
        let mut counts: BTreeMap<(i64, i64, i64), u64> = rows
            .into_iter()
            .map(|r| {
                let evaluations = u64::try_from(r.evaluations).unwrap_or(0);
                ((r.hour, r.segment_id, r.variant_id), evaluations)
            })
            .collect();
        let pending = self.counts.pending_where(|s| {
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

    /// Adds every unwritten count to `variant_counts`; returns how many rows were written. What could
    /// not be written is kept for the next flush.
    pub(super) async fn flush(&self, db: &Db, system: &SystemScope) -> Result<usize, TenantsError> {
        let pending: Vec<(ServedKey, u64)> = self.counts.take().into_iter().collect();
        for (done, &(s, count)) in pending.iter().enumerate() {
            let tdb = db.scoped_for_system(system, s.tenant);
            let written = tdb
                .add_variant_count(s.environment.0, s.flag, s.hour, s.segment, s.variant, count)
                .await;
            if let Err(err) = written {
                self.counts.put_back(pending[done..].iter().copied());
                return Err(err.into());
            }
        }
        Ok(pending.len())
    }
}
