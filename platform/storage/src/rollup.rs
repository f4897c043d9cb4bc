//! What the measurement rollup reads and writes inside one system group transaction: the new exposures
//! and events of every tenant after its cursors, the flags and metrics they concern, each entity's
//! metric values so far and the daily sums.
//!
//! Invariant: the cursors move only with a compare-and-set inside the same transaction as the sums, so
//! each exposure and event is added exactly once, even if two nodes ever ran the rollup at once.
#![allow(clippy::disallowed_methods)] // Cross-tenant by design; reached only through a system group.

use crate::scoped::group::OnConflict;
use crate::{GroupTx, Scoped, StorageError, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

impl GroupTx {
    /// Where the cursor `name` stands (0 before its first move).
    pub async fn cursor(&self, name: &str) -> Result<i64, StorageError> {
        let row = system_setting::Entity::find()
            .filter(system_setting::Column::Key.eq(cursor_key(name)))
            .one(&self.tx)
            .await?;
        Ok(row.and_then(|r| r.value.parse().ok()).unwrap_or(0))
    }

    /// Moves the cursor `name` from `from` to `to`; false when it no longer stood at `from` (another
    /// run moved it), in which case the transaction must be dropped.
    pub async fn move_cursor(&self, name: &str, from: i64, to: i64) -> Result<bool, StorageError> {
        let key = cursor_key(name);
        let moved = system_setting::Entity::update_many()
            .col_expr(system_setting::Column::Value, Expr::value(to.to_string()))
            .filter(system_setting::Column::Key.eq(&key))
            .filter(system_setting::Column::Value.eq(from.to_string()))
            .exec(&self.tx)
            .await?
            .rows_affected;
        if moved == 1 {
            return Ok(true);
        }
        if from != 0 {
            return Ok(false);
        }
        let exists = system_setting::Entity::find()
            .filter(system_setting::Column::Key.eq(&key))
            .one(&self.tx)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        let mut row = system_setting::Model {
            id: 0,
            key,
            value: to.to_string(),
        }
        .into_active_model()
        .reset_all();
        row.not_set(system_setting::Column::Id);
        row.insert(&self.tx).await?;
        Ok(true)
    }

    /// Every tenant's exposures with an id above `after`, oldest first, at most `limit`.
    pub async fn exposures_after(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<exposure::Model>, StorageError> {
        Ok(exposure::Entity::find()
            .filter(exposure::Column::Id.gt(after))
            .order_by_asc(exposure::Column::Id)
            .limit(limit)
            .all(&self.tx)
            .await?)
    }

    /// Every tenant's events with an id above `after`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<event::Model>, StorageError> {
        Ok(event::Entity::find()
            .filter(event::Column::Id.gt(after))
            .order_by_asc(event::Column::Id)
            .limit(limit)
            .all(&self.tx)
            .await?)
    }

    /// The highest exposure and event ids so far: how far a run may read.
    pub async fn newest_ids(&self) -> Result<(i64, i64), StorageError> {
        let exposure = exposure::Entity::find()
            .order_by_desc(exposure::Column::Id)
            .one(&self.tx)
            .await?
            .map_or(0, |r| r.id);
        let event = event::Entity::find()
            .order_by_desc(event::Column::Id)
            .one(&self.tx)
            .await?
            .map_or(0, |r| r.id);
        Ok((exposure, event))
    }

    /// The flags with these ids, in whichever tenant holds them.
    pub async fn flags_by_ids(&self, ids: &[i64]) -> Result<Vec<flag::Model>, StorageError> {
        Ok(flag::Entity::find()
            .filter(flag::Column::Id.is_in(ids.iter().copied()))
            .all(&self.tx)
            .await?)
    }

    /// The metrics of these projects, in whichever tenant holds them.
    pub async fn metrics_of_projects(
        &self,
        projects: &[i64],
    ) -> Result<Vec<metric::Model>, StorageError> {
        Ok(metric::Entity::find()
            .filter(metric::Column::ProjectId.is_in(projects.iter().copied()))
            .all(&self.tx)
            .await?)
    }
}

fn cursor_key(name: &str) -> String {
    format!("rollup.{name}")
}

impl<C: ConnectionTrait> Scoped<C> {
    /// The exposures of `entities` in `environment` with an id up to `up_to`.
    pub async fn exposures_of_entities(
        &self,
        environment: i64,
        entities: &[i64],
        up_to: i64,
    ) -> Result<Vec<exposure::Model>, StorageError> {
        Ok(self
            .select::<exposure::Entity>()
            .filter(exposure::Column::EnvironmentId.eq(environment))
            .filter(exposure::Column::Entity.is_in(entities.iter().copied()))
            .filter(exposure::Column::Id.lte(up_to))
            .all(&self.conn)
            .await?)
    }

    /// The events of `entities` in `environment` with an id up to `up_to` that happened in
    /// `[from, to)` (milliseconds).
    pub async fn events_of_entities(
        &self,
        environment: i64,
        entities: &[i64],
        up_to: i64,
        (from, to): (i64, i64),
    ) -> Result<Vec<event::Model>, StorageError> {
        Ok(self
            .select::<event::Entity>()
            .filter(event::Column::EnvironmentId.eq(environment))
            .filter(event::Column::Entity.is_in(entities.iter().copied()))
            .filter(event::Column::Id.lte(up_to))
            .filter(event::Column::OccurredAt.gte(from))
            .filter(event::Column::OccurredAt.lt(to))
            .all(&self.conn)
            .await?)
    }

    /// The metric values so far of `entities` for `flags` in `environment`.
    pub async fn metric_entities_of(
        &self,
        environment: i64,
        flags: &[i64],
        entities: &[i64],
    ) -> Result<Vec<metric_entity::Model>, StorageError> {
        Ok(self
            .select::<metric_entity::Entity>()
            .filter(metric_entity::Column::EnvironmentId.eq(environment))
            .filter(metric_entity::Column::FlagId.is_in(flags.iter().copied()))
            .filter(metric_entity::Column::Entity.is_in(entities.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Writes entity metric values: new rows are inserted, existing ones (same environment, flag,
    /// metric and entity) overwritten.
    pub async fn save_metric_entities(
        &self,
        rows: Vec<metric_entity::Model>,
    ) -> Result<u64, StorageError> {
        use metric_entity::Column as C;
        let upsert = OnConflict::columns([
            C::TenantId,
            C::EnvironmentId,
            C::FlagId,
            C::MetricId,
            C::Entity,
        ])
        .update_columns([C::X, C::Y, C::VariantId, C::Day, C::FirstAt])
        .to_owned();
        self.insert_all::<metric_entity::Entity>(rows, Some(upsert))
            .await
    }

    /// The exposure counts of `flags` in `environment` on `days`.
    pub async fn exposure_days_of(
        &self,
        environment: i64,
        flags: &[i64],
        days: &[i64],
    ) -> Result<Vec<exposure_day::Model>, StorageError> {
        Ok(self
            .select::<exposure_day::Entity>()
            .filter(exposure_day::Column::EnvironmentId.eq(environment))
            .filter(exposure_day::Column::FlagId.is_in(flags.iter().copied()))
            .filter(exposure_day::Column::Day.is_in(days.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Writes exposure counts, overwriting the rows with the same key.
    pub async fn save_exposure_days(
        &self,
        rows: Vec<exposure_day::Model>,
    ) -> Result<u64, StorageError> {
        use exposure_day::Column as C;
        let upsert = OnConflict::columns([
            C::TenantId,
            C::EnvironmentId,
            C::FlagId,
            C::VariantId,
            C::Day,
        ])
        .update_columns([C::Entities])
        .to_owned();
        self.insert_all::<exposure_day::Entity>(rows, Some(upsert))
            .await
    }

    /// The daily sums of `flags` in `environment` on `days`.
    pub async fn metric_days_of(
        &self,
        environment: i64,
        flags: &[i64],
        days: &[i64],
    ) -> Result<Vec<metric_day::Model>, StorageError> {
        Ok(self
            .select::<metric_day::Entity>()
            .filter(metric_day::Column::EnvironmentId.eq(environment))
            .filter(metric_day::Column::FlagId.is_in(flags.iter().copied()))
            .filter(metric_day::Column::Day.is_in(days.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// Writes daily sums, overwriting the rows with the same key.
    pub async fn save_metric_days(
        &self,
        rows: Vec<metric_day::Model>,
    ) -> Result<u64, StorageError> {
        use metric_day::Column as C;
        let upsert = OnConflict::columns([
            C::TenantId,
            C::EnvironmentId,
            C::FlagId,
            C::MetricId,
            C::VariantId,
            C::Day,
        ])
        .update_columns([
            C::SumX,
            C::SumXSq,
            C::SumY,
            C::SumYSq,
            C::SumXy,
            C::Nonzero,
            C::Sketch,
        ])
        .to_owned();
        self.insert_all::<metric_day::Entity>(rows, Some(upsert))
            .await
    }
}
