//! Retention of raw events and crash reports (the `analytics-retention` job): each tenant keeps them for
//! its plan's `event_retention_days`; what is older is deleted in small batches, so no statement holds
//! locks for long. Results are unaffected: they read the rollup's sums, which are kept.
//!
//! On PostgreSQL the raw tables are partitioned by day: each run makes the partitions the days
//! ingestion accepts will need (7 days back to 2 days ahead), and drops a day's partition once the day
//! is past the longest retention of any plan a tenant is on, which removes its rows without deleting
//! them one by one. Nothing is dropped while a tenant is on a plan that keeps rows for ever.
//!
//! Invariant: a row goes only once its tenant's plan no longer keeps it.

use crate::ingest::validate::{MAX_AGE_MS, MAX_AHEAD_MS};
use crate::time::{DAY_MS, day_of};
use crate::{Analytics, AnalyticsError};
use flagent_storage::RawTable;
use flagent_types::SystemScope;

/// What one retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    /// Events deleted row by row.
    pub events: u64,
    /// Crash reports deleted row by row.
    pub crashes: u64,
    /// Day partitions made (PostgreSQL).
    pub partitions_added: usize,
    /// Day partitions dropped with their rows (PostgreSQL).
    pub partitions_dropped: usize,
}

/// How much one run deletes at most.
#[derive(Debug, Clone, Copy)]
pub struct RetentionLimits {
    /// Rows per delete statement.
    pub batch: u64,
    /// Statements per plan and table.
    pub batches: usize,
}

impl Default for RetentionLimits {
    fn default() -> Self {
        RetentionLimits {
            batch: 5_000,
            batches: 20,
        }
    }
}

/// Days after today for which partitions are made ahead.
const DAYS_AHEAD: i64 = 2;

impl Analytics {
    /// At `now` (epoch ms): on PostgreSQL, drops the day partitions past every plan's retention and
    /// makes those ingestion needs; then deletes the raw rows each tenant's plan no longer keeps.
    pub async fn expire(
        &self,
        system: &SystemScope,
        now: i64,
        limits: RetentionLimits,
    ) -> Result<Expired, AnalyticsError> {
        let db = self.db.system(system);
        let plans = db.retention_of_plans_in_use().await?;
        let mut expired = Expired::default();
        let first_needed = day_of(now - MAX_AGE_MS);
        let last_needed = day_of(now + MAX_AHEAD_MS) + DAYS_AHEAD;
        // The newest day whose rows every plan in use has given up (none while a plan keeps them).
        let longest = plans
            .iter()
            .map(|p| p.days)
            .collect::<Option<Vec<i64>>>()
            .and_then(|days| days.into_iter().max());
        let droppable =
            longest.map(|days| day_of(now.saturating_sub(days.saturating_mul(DAY_MS))) - 1);
        for table in RawTable::ALL {
            let existing = db.day_partitions(table).await?;
            if let Some(last_gone) = droppable {
                for &day in existing.iter().filter(|&&d| d <= last_gone) {
                    db.drop_day_partition(table, day).await?;
                    expired.partitions_dropped += 1;
                }
            }
            if self.db.backend() == flagent_storage::Backend::Postgres {
                for day in first_needed..=last_needed {
                    if !existing.contains(&day) && droppable.is_none_or(|gone| day > gone) {
                        db.add_day_partition(table, day).await?;
                        expired.partitions_added += 1;
                    }
                }
            }
        }
        for plan in &plans {
            let Some(days) = plan.days else { continue };
            let before = now.saturating_sub(days.saturating_mul(DAY_MS));
            for table in RawTable::ALL {
                for _ in 0..limits.batches {
                    let gone = db
                        .expire_raw(table, &plan.plan, before, limits.batch)
                        .await?;
                    match table {
                        RawTable::Events => expired.events += gone,
                        RawTable::Crashes => expired.crashes += gone,
                    }
                    if gone < limits.batch {
                        break;
                    }
                }
            }
        }
        Ok(expired)
    }
}
