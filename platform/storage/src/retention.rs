//! Retention of the raw measurement tables (`events`, `crashes`): deleting the rows a tenant's plan no
//! longer keeps, one small batch per statement, and on PostgreSQL the day partitions of both tables:
//! made ahead of the rows they will hold, dropped once every row in them is past every plan's
//! retention.
//!
//! Invariant: a batch deletes only rows of tenants on the plan it names, older than the instant it is
//! given; a partition is dropped only when the caller says no tenant keeps rows that old.
#![allow(clippy::disallowed_methods)] // Cross-tenant by design; reached only through SystemDb.

use crate::{StorageError, SystemDb, entities::*};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// A raw measurement table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawTable {
    /// `events`.
    Events,
    /// `crashes`.
    Crashes,
}

impl RawTable {
    /// Both raw tables.
    pub const ALL: [RawTable; 2] = [RawTable::Events, RawTable::Crashes];

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            RawTable::Events => "events",
            RawTable::Crashes => "crashes",
        }
    }

    fn partition(self, day: i64) -> String {
        format!("{}_day_{day}", self.name())
    }
}

/// A plan some tenant is on, with how long it keeps raw rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRetention {
    /// The plan's key.
    pub plan: String,
    /// Days raw rows are kept; `None` keeps them for ever.
    pub days: Option<i64>,
}

impl SystemDb<'_> {
    /// The plans at least one tenant is on, with their retention.
    pub async fn retention_of_plans_in_use(&self) -> Result<Vec<PlanRetention>, StorageError> {
        let in_use: Vec<String> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Plan)
            .distinct()
            .into_tuple()
            .all(&self.db.conn)
            .await?;
        let plans = plan::Entity::find()
            .filter(plan::Column::Key.is_in(in_use))
            .all(&self.db.conn)
            .await?;
        Ok(plans
            .into_iter()
            .map(|p| PlanRetention {
                plan: p.key,
                days: p.event_retention_days,
            })
            .collect())
    }

    /// Deletes at most `batch` rows of `table` that happened before `before` (epoch ms) and belong to
    /// tenants on `plan`; returns how many went.
    pub async fn expire_raw(
        &self,
        table: RawTable,
        plan: &str,
        before: i64,
        batch: u64,
    ) -> Result<u64, StorageError> {
        let conn = &self.db.conn;
        match table {
            RawTable::Events => {
                use event::Column as C;
                expire::<event::Entity, _>(
                    conn,
                    (C::Id, C::TenantId, C::OccurredAt),
                    plan,
                    before,
                    batch,
                )
                .await
            }
            RawTable::Crashes => {
                use crash::Column as C;
                expire::<crash::Entity, _>(
                    conn,
                    (C::Id, C::TenantId, C::OccurredAt),
                    plan,
                    before,
                    batch,
                )
                .await
            }
        }
    }

    /// The days (since the Unix epoch) `table` has a partition for, in order (PostgreSQL only; none
    /// elsewhere).
    pub async fn day_partitions(&self, table: RawTable) -> Result<Vec<i64>, StorageError> {
        if self.db.backend() != crate::Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows = self
            .db
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT c.relname::text AS name FROM pg_inherits i \
                     JOIN pg_class c ON c.oid = i.inhrelid \
                     JOIN pg_class p ON p.oid = i.inhparent \
                     WHERE p.relname = '{}' AND p.relnamespace = current_schema()::regnamespace",
                    table.name()
                ),
            ))
            .await?;
        let prefix = format!("{}_day_", table.name());
        let mut days: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "name").ok())
            .filter_map(|name| name.strip_prefix(&prefix)?.parse().ok())
            .collect();
        days.sort_unstable();
        Ok(days)
    }

    /// Makes `table`'s partition of `day` (PostgreSQL only), moving into it the rows of that day the
    /// default partition holds, in one transaction.
    pub async fn add_day_partition(&self, table: RawTable, day: i64) -> Result<(), StorageError> {
        if self.db.backend() != crate::Backend::Postgres {
            return Ok(());
        }
        let (name, part) = (table.name(), table.partition(day));
        let (lo, hi) = (day * DAY_MS, (day + 1) * DAY_MS);
        let tx = self.db.conn.begin().await?;
        let statements = [
            // No row lands in the default partition between the move and the attach.
            format!("LOCK TABLE {name}_default IN ACCESS EXCLUSIVE MODE"),
            format!("CREATE TABLE {part} (LIKE {name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"),
            format!(
                "INSERT INTO {part} SELECT * FROM {name}_default \
                 WHERE occurred_at >= {lo} AND occurred_at < {hi}"
            ),
            format!("DELETE FROM {name}_default WHERE occurred_at >= {lo} AND occurred_at < {hi}"),
            format!("ALTER TABLE {name} ATTACH PARTITION {part} FOR VALUES FROM ({lo}) TO ({hi})"),
        ];
        for sql in statements {
            if let Err(err) = tx.execute_unprepared(&sql).await {
                // At once: the lock on the default partition must not outlive the failure.
                let _ = tx.rollback().await;
                return Err(err.into());
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops `table`'s partition of `day` with every row in it (PostgreSQL only).
    pub async fn drop_day_partition(&self, table: RawTable, day: i64) -> Result<(), StorageError> {
        if self.db.backend() != crate::Backend::Postgres {
            return Ok(());
        }
        self.db
            .conn
            .execute_unprepared(&format!("DROP TABLE IF EXISTS {}", table.partition(day)))
            .await?;
        Ok(())
    }
}

/// One batch of [`SystemDb::expire_raw`] over entity `E` with its (id, tenant, time) columns.
async fn expire<E, C>(
    conn: &sea_orm::DatabaseConnection,
    (id, tenant, at): (C, C, C),
    plan: &str,
    before: i64,
    batch: u64,
) -> Result<u64, StorageError>
where
    E: EntityTrait<Column = C>,
    C: ColumnTrait,
{
    let on_plan = Query::select()
        .column(tenant::Column::Id)
        .from(tenant::Entity)
        .and_where(tenant::Column::Plan.eq(plan))
        .to_owned();
    let ids: Vec<i64> = E::find()
        .select_only()
        .column(id)
        .filter(at.lt(before))
        .filter(tenant.in_subquery(on_plan))
        .limit(batch)
        .into_tuple()
        .all(conn)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let deleted = E::delete_many().filter(id.is_in(ids)).exec(conn).await?;
    Ok(deleted.rows_affected)
}
