//! The one module that touches tenant rows: every read, insert, update and delete of a tenant-owned table
//! goes through [`Scoped`], which adds `tenant_id = <scope's tenant>` by construction.
//!
//! Invariant: `EntityTrait::find*`, `update_many`, `delete_many` and `execute_unprepared` are called only
//! here (`clippy.toml` bans them elsewhere). Inserts take the tenant from the scope, never from input.
#![allow(clippy::disallowed_methods)] // This module is where the banned query entry points are wrapped.

use crate::{StorageError, entities::*};
use flagent_types::TenantId;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, ModelTrait, QueryFilter,
    Select, TransactionTrait,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};

/// A tenant-owned table: it has a `tenant_id` and an `id` column.
pub trait TenantOwned: EntityTrait {
    /// The `tenant_id` column.
    fn tenant_column() -> Self::Column;
    /// The `id` primary key column.
    fn id_column() -> Self::Column;
}

macro_rules! tenant_owned {
    ($($module:ident),* $(,)?) => {$(
        impl TenantOwned for $module::Entity {
            fn tenant_column() -> Self::Column {
                $module::Column::TenantId
            }
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
        }
    )*};
}

tenant_owned!(
    project,
    environment,
    flag,
    flag_state,
    variant,
    segment,
    constraint,
    distribution,
    tag,
    flag_tag,
    entity_type,
    flag_snapshot,
    api_key,
    audit_event,
    membership,
    role,
    invitation,
    usage_counter,
);

/// Access to one tenant's rows over a connection `C` (the pool, or an open transaction).
pub struct Scoped<C> {
    pub(crate) conn: C,
    tenant: TenantId,
}

/// Tenant-scoped access over the connection pool (each statement commits on its own).
pub type TenantDb = Scoped<DatabaseConnection>;

/// Tenant-scoped access inside a transaction; nothing is written unless [`Scoped::commit`] is called.
pub type TenantTx = Scoped<DatabaseTransaction>;

impl<C> Scoped<C> {
    pub(crate) fn new(conn: C, tenant: TenantId) -> Self {
        Self { conn, tenant }
    }

    /// The tenant every statement is filtered by.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }
}

impl TenantDb {
    /// Opens a write transaction for the same tenant.
    ///
    /// Invariant: its first statement locks the tenant's row, so a tenant's write transactions run one at
    /// a time and always take their row locks in the same order. Without it, two transactions that insert
    /// rows referencing the same environment (shared foreign-key locks on InnoDB) and then update that
    /// environment deadlock on MySQL/MariaDB.
    pub async fn begin(&self) -> Result<TenantTx, StorageError> {
        let tx = Scoped::new(self.conn.begin().await?, self.tenant);
        tx.lock_tenant().await?;
        Ok(tx)
    }
}

impl TenantTx {
    /// Commits everything written through this transaction.
    pub async fn commit(self) -> Result<(), StorageError> {
        Ok(self.conn.commit().await?)
    }
}

impl<C: ConnectionTrait> Scoped<C> {
    /// `SELECT … FROM E WHERE tenant_id = <tenant>`, ready for more filters.
    pub(crate) fn select<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant.0))
    }

    /// The row of `E` with this `id` in this tenant.
    pub(crate) async fn by_id<E: TenantOwned>(
        &self,
        id: i64,
    ) -> Result<Option<E::Model>, StorageError> {
        Ok(self
            .select::<E>()
            .filter(E::id_column().eq(id))
            .one(&self.conn)
            .await?)
    }

    /// Inserts `model` (its `id` and `tenant_id` are ignored) and returns the stored row.
    pub(crate) async fn insert<E>(&self, model: E::Model) -> Result<E::Model, StorageError>
    where
        E: TenantOwned,
        E::Model: IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let mut row = model.into_active_model().reset_all();
        row.not_set(E::id_column());
        row.set(E::tenant_column(), self.tenant.0.into());
        Ok(row.insert(&self.conn).await?)
    }

    /// Writes every column of `model` to the row with its `id` in this tenant.
    pub(crate) async fn update<E>(&self, model: E::Model) -> Result<(), StorageError>
    where
        E: TenantOwned,
        E::Model: IntoActiveModel<E::ActiveModel> + ModelTrait<Entity = E>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let id = model.get(E::id_column());
        let mut row = model.into_active_model().reset_all();
        row.not_set(E::id_column());
        row.not_set(E::tenant_column());
        E::update_many()
            .set(row)
            .filter(E::tenant_column().eq(self.tenant.0))
            .filter(E::id_column().eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Sets `columns` on this tenant's rows of `E` matching `condition`; returns how many changed.
    pub(crate) async fn update_columns<E: TenantOwned>(
        &self,
        condition: Condition,
        columns: Vec<(E::Column, SimpleExpr)>,
    ) -> Result<u64, StorageError> {
        let mut update = E::update_many()
            .filter(E::tenant_column().eq(self.tenant.0))
            .filter(condition);
        for (column, value) in columns {
            update = update.col_expr(column, value);
        }
        Ok(update.exec(&self.conn).await?.rows_affected)
    }

    /// Locks this tenant's row until the transaction ends (an update that changes nothing).
    async fn lock_tenant(&self) -> Result<(), StorageError> {
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::AuditSeq,
                Expr::col(tenant::Column::AuditSeq),
            )
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Advances this tenant's audit sequence and returns the new number and the chain head before it.
    /// The update locks the tenant row until the transaction ends, so appends within a tenant are
    /// serialised and the chain cannot fork.
    pub(crate) async fn advance_audit_seq(&self) -> Result<(i64, String), StorageError> {
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::AuditSeq,
                Expr::col(tenant::Column::AuditSeq).add(1),
            )
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        let row = self.tenant_row().await?;
        Ok((row.audit_seq, row.audit_head))
    }

    /// Records the hash of this tenant's newest audit event.
    pub(crate) async fn set_audit_head(&self, hash: &str) -> Result<(), StorageError> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::AuditHead, Expr::value(hash))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Sets this tenant's status (`active`, `pending`, `suspended`): platform administration.
    pub async fn set_tenant_status(&self, status: &str) -> Result<(), StorageError> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Status, Expr::value(status))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Moves this tenant to plan `plan`: platform administration.
    pub async fn set_tenant_plan(&self, plan: &str) -> Result<(), StorageError> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Plan, Expr::value(plan))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// This tenant's own row.
    pub async fn tenant(&self) -> Result<tenant::Model, StorageError> {
        self.tenant_row().await
    }

    /// This tenant's own row.
    pub(crate) async fn tenant_row(&self) -> Result<tenant::Model, StorageError> {
        tenant::Entity::find_by_id(self.tenant.0)
            .one(&self.conn)
            .await?
            .ok_or_else(|| {
                StorageError::Unexpected(anyhow::anyhow!("tenant {} vanished", self.tenant))
            })
    }

    /// Inserts an audit event (audit events have no update or delete).
    pub(crate) async fn insert_audit_event(
        &self,
        event: audit_event::Model,
    ) -> Result<audit_event::Model, StorageError> {
        self.insert::<audit_event::Entity>(event).await
    }

    /// Adds `count` to this tenant's evaluations in `period` (`YYYY-MM`), creating the counter at
    /// `count` when there is none: one insert-or-add statement (`ON CONFLICT … DO UPDATE` on SQLite and
    /// PostgreSQL, `ON DUPLICATE KEY UPDATE` on MySQL), atomic on every backend, so servers adding to
    /// the same counter at the same time lose nothing.
    pub async fn add_evaluations(&self, period: &str, count: u64) -> Result<(), StorageError> {
        use sea_orm::{ActiveValue::Set, sea_query::OnConflict};
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let row = usage_counter::ActiveModel {
            tenant_id: Set(self.tenant.0),
            period: Set(period.to_owned()),
            evaluations: Set(count),
            ..Default::default()
        };
        let current = Expr::col((usage_counter::Entity, usage_counter::Column::Evaluations));
        usage_counter::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    usage_counter::Column::TenantId,
                    usage_counter::Column::Period,
                ])
                .value(usage_counter::Column::Evaluations, current.add(count))
                .to_owned(),
            )
            .exec_without_returning(&self.conn)
            .await?;
        Ok(())
    }

    /// Deletes this tenant's rows of `E` matching `condition`; returns how many went.
    pub(crate) async fn delete_where<E: TenantOwned>(
        &self,
        condition: Condition,
    ) -> Result<u64, StorageError> {
        let res = E::delete_many()
            .filter(E::tenant_column().eq(self.tenant.0))
            .filter(condition)
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected)
    }
}

/// A connection tenant data can be read over: the pool or an open transaction.
///
/// Domain crates use it as a bound (`Scoped<impl Connection>`) without naming sea-orm.
pub trait Connection: ConnectionTrait {}

impl<T: ConnectionTrait> Connection for T {}
