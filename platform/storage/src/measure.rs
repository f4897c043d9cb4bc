//! Measurement rows of one tenant: ingested exposures, events and crashes (written in group commits),
//! metric definitions and experiments, and the daily sufficient statistics results read.
//!
//! Invariant: every statement goes through [`Scoped`], so it carries the scope's tenant.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

impl<C: ConnectionTrait> Scoped<C> {
    /// Inserts `rows` as first exposures; an entity already exposed to the flag in the environment
    /// keeps its first row. Returns how many were new.
    pub async fn insert_exposures(&self, rows: Vec<exposure::Model>) -> Result<u64, StorageError> {
        let keys = vec![
            exposure::Column::TenantId,
            exposure::Column::EnvironmentId,
            exposure::Column::FlagId,
            exposure::Column::Entity,
        ];
        let skip = OnConflict::columns(keys)
            .do_nothing_on([exposure::Column::FlagId])
            .to_owned();
        self.insert_all::<exposure::Entity>(rows, Some(skip)).await
    }

    /// Inserts raw events.
    pub async fn insert_events(&self, rows: Vec<event::Model>) -> Result<u64, StorageError> {
        self.insert_all::<event::Entity>(rows, None).await
    }

    /// The project's metrics, by key.
    pub async fn metrics_of_project(
        &self,
        project: i64,
    ) -> Result<Vec<metric::Model>, StorageError> {
        Ok(self
            .select::<metric::Entity>()
            .filter(metric::Column::ProjectId.eq(project))
            .order_by_asc(metric::Column::Key)
            .all(&self.conn)
            .await?)
    }

    /// The metric with `key` in `project`.
    pub async fn metric_by_key(
        &self,
        project: i64,
        key: &str,
    ) -> Result<Option<metric::Model>, StorageError> {
        Ok(self
            .select::<metric::Entity>()
            .filter(metric::Column::ProjectId.eq(project))
            .filter(metric::Column::Key.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// The ratio metrics reading `metric` as their numerator or denominator.
    pub async fn ratios_reading(&self, metric: i64) -> Result<Vec<metric::Model>, StorageError> {
        Ok(self
            .select::<metric::Entity>()
            .filter(
                Condition::any()
                    .add(metric::Column::NumeratorId.eq(metric))
                    .add(metric::Column::DenominatorId.eq(metric)),
            )
            .all(&self.conn)
            .await?)
    }

    /// Deletes a metric and what the rollup computed for it.
    pub async fn delete_metric(&self, metric: i64) -> Result<(), StorageError> {
        self.delete_where::<metric_day::Entity>(
            Condition::all().add(metric_day::Column::MetricId.eq(metric)),
        )
        .await?;
        self.delete_where::<metric_entity::Entity>(
            Condition::all().add(metric_entity::Column::MetricId.eq(metric)),
        )
        .await?;
        self.delete_where::<metric::Entity>(Condition::all().add(metric::Column::Id.eq(metric)))
            .await?;
        Ok(())
    }

    /// The flags whose experiments read `metric`.
    pub async fn experiments_reading(
        &self,
        metric: i64,
    ) -> Result<Vec<experiment_metric::Model>, StorageError> {
        Ok(self
            .select::<experiment_metric::Entity>()
            .filter(experiment_metric::Column::MetricId.eq(metric))
            .all(&self.conn)
            .await?)
    }

    /// A flag's experiment settings, if it has any.
    pub async fn experiment_of(
        &self,
        flag: i64,
    ) -> Result<Option<experiment::Model>, StorageError> {
        Ok(self
            .select::<experiment::Entity>()
            .filter(experiment::Column::FlagId.eq(flag))
            .one(&self.conn)
            .await?)
    }

    /// The metrics a flag's experiment reads, primary first.
    pub async fn experiment_metrics(
        &self,
        flag: i64,
    ) -> Result<Vec<experiment_metric::Model>, StorageError> {
        Ok(self
            .select::<experiment_metric::Entity>()
            .filter(experiment_metric::Column::FlagId.eq(flag))
            .order_by_asc(experiment_metric::Column::Position)
            .all(&self.conn)
            .await?)
    }

    /// Replaces the metrics a flag's experiment reads.
    pub async fn set_experiment_metrics(
        &self,
        flag: i64,
        rows: Vec<experiment_metric::New>,
    ) -> Result<(), StorageError> {
        self.delete_where::<experiment_metric::Entity>(
            Condition::all().add(experiment_metric::Column::FlagId.eq(flag)),
        )
        .await?;
        for row in rows {
            self.insert_row(row).await?;
        }
        Ok(())
    }

    /// Entities first exposed to `flag` in `environment`, per variant and day.
    pub async fn exposure_days(
        &self,
        environment: i64,
        flag: i64,
    ) -> Result<Vec<exposure_day::Model>, StorageError> {
        Ok(self
            .select::<exposure_day::Entity>()
            .filter(exposure_day::Column::EnvironmentId.eq(environment))
            .filter(exposure_day::Column::FlagId.eq(flag))
            .order_by_asc(exposure_day::Column::Day)
            .all(&self.conn)
            .await?)
    }

    /// The daily sums of `metrics` for `flag` in `environment`.
    pub async fn metric_days(
        &self,
        environment: i64,
        flag: i64,
        metrics: &[i64],
    ) -> Result<Vec<metric_day::Model>, StorageError> {
        Ok(self
            .select::<metric_day::Entity>()
            .filter(metric_day::Column::EnvironmentId.eq(environment))
            .filter(metric_day::Column::FlagId.eq(flag))
            .filter(metric_day::Column::MetricId.is_in(metrics.iter().copied()))
            .order_by_asc(metric_day::Column::Day)
            .all(&self.conn)
            .await?)
    }

    /// The entities of `flag` in `environment` that did `metrics` after exposure: (metric, variant,
    /// entity, first time), for funnels.
    pub async fn metric_first_times(
        &self,
        environment: i64,
        flag: i64,
        metrics: &[i64],
    ) -> Result<Vec<(i64, i64, i64, i64)>, StorageError> {
        use metric_entity::Column as C;
        let rows: Vec<(i64, i64, i64, Option<i64>)> = self
            .select::<metric_entity::Entity>()
            .select_only()
            .columns([C::MetricId, C::VariantId, C::Entity, C::FirstAt])
            .filter(C::EnvironmentId.eq(environment))
            .filter(C::FlagId.eq(flag))
            .filter(C::MetricId.is_in(metrics.iter().copied()))
            .filter(C::FirstAt.is_not_null())
            .into_tuple()
            .all(&self.conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(m, v, e, at)| Some((m, v, e, at?)))
            .collect())
    }
}
