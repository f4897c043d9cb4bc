//! Variant counts (`variant_counts`): evaluations per flag, environment, hour, segment and variant,
//! written in batches by the evaluation counters and read by the experiments view.
//!
//! Invariant: writing adds to a row with one insert-or-add statement, so several servers writing the
//! same hour lose nothing.

use crate::{Scoped, StorageError, entities::variant_count};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// Adds `evaluations` to the count of (`environment`, `flag`, `hour`, `segment`, `variant`).
    pub async fn add_variant_count(
        &self,
        environment: i64,
        flag: i64,
        hour: i64,
        segment: i64,
        variant: i64,
        evaluations: u64,
    ) -> Result<(), StorageError> {
        let row = variant_count::Model {
            id: 0,
            tenant_id: 0,
            environment_id: environment,
            flag_id: flag,
            hour,
            segment_id: segment,
            variant_id: variant,
            evaluations: 0,
        };
        let keys = vec![
            variant_count::Column::TenantId,
            variant_count::Column::EnvironmentId,
            variant_count::Column::FlagId,
            variant_count::Column::Hour,
            variant_count::Column::SegmentId,
            variant_count::Column::VariantId,
        ];
        let counter = variant_count::Column::Evaluations;
        self.insert_or_add::<variant_count::Entity>(row, keys, counter, evaluations)
            .await
    }

    /// The counts of `flag` in `environment` from `since` (Unix seconds) on, oldest hour first.
    pub async fn variant_counts(
        &self,
        environment: i64,
        flag: i64,
        since: i64,
    ) -> Result<Vec<variant_count::Model>, StorageError> {
        Ok(self
            .select::<variant_count::Entity>()
            .filter(variant_count::Column::EnvironmentId.eq(environment))
            .filter(variant_count::Column::FlagId.eq(flag))
            .filter(variant_count::Column::Hour.gte(since))
            .order_by_asc(variant_count::Column::Hour)
            .all(&self.conn)
            .await?)
    }
}
