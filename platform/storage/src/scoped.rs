//! The one module that touches tenant rows: every read, insert, update and delete of a tenant-owned table
//! goes through [`Scoped`], which adds `tenant_id = <scope's tenant>` by construction.
//!
//! Invariant: `EntityTrait::find*`, `update_many`, `delete_many` and `execute_unprepared` are called only
//! here (`clippy.toml` bans them elsewhere). Inserts take the tenant from the scope, never from input.
//!
//! Invariant (PostgreSQL, second wall): every statement of a tenant scope runs inside a transaction that
//! has switched to the [`TENANT_ROLE`] role and named its tenant in `app.tenant_id`, so row-level
//! security (migration 000006) hides every other tenant's rows even from a statement without the filter.
//! A [`TenantTx`] does it right after `BEGIN`; a [`TenantDb`] runs each statement in its own short
//! transaction that does it ([`TenantPool`]). Scopes for the system (`Db::scoped_for_system`) run as the
//! connecting user, like [`crate::SystemDb`].
#![allow(clippy::disallowed_methods)] // This module is where the banned query entry points are wrapped.

pub(crate) mod group;

pub use group::{GroupScoped, GroupTx};

use crate::{StorageError, entities::*};
use flagent_types::{SystemScope, TenantId, TenantStatus};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult,
    IntoActiveModel, ModelTrait, QueryFilter, QueryResult, Select, Statement, TransactionTrait,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};

/// The PostgreSQL role tenant-scoped transactions switch to; row-level security applies to it.
pub const TENANT_ROLE: &str = "flagent_tenant";

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
    variant_count,
    sso_provider,
    sso_identity,
    sso_login,
    sso_domain,
    sso_assertion,
    scim_user,
    scim_group,
    scim_group_member,
    exposure,
    event,
    crash_group,
    crash,
    crash_group_variant,
    metric,
    experiment,
    experiment_metric,
    exposure_day,
    metric_entity,
    metric_day,
);

/// Access to one tenant's rows over a connection `C` (the pool, or an open transaction).
pub struct Scoped<C> {
    pub(crate) conn: C,
    tenant: TenantId,
}

/// Tenant-scoped access over the connection pool (each statement commits on its own).
pub type TenantDb = Scoped<TenantPool>;

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
    /// Tenant-scoped access over `pool`, behind row-level security on PostgreSQL.
    pub(crate) fn for_tenant(pool: DatabaseConnection, tenant: TenantId) -> Self {
        let wall = (pool.get_database_backend() == DbBackend::Postgres).then_some(tenant);
        Scoped::new(TenantPool { pool, wall }, tenant)
    }

    /// Access to `tenant`'s rows for the system: filtered by the tenant, but running as the connecting
    /// user (the tables' owner), which row-level security does not restrict.
    pub(crate) fn for_system(pool: DatabaseConnection, tenant: TenantId) -> Self {
        Scoped::new(TenantPool { pool, wall: None }, tenant)
    }

    /// Opens a write transaction for the same tenant.
    ///
    /// Invariant: on PostgreSQL (tenant scopes), its first statement switches to [`TENANT_ROLE`] and
    /// names the tenant, so row-level security covers the whole transaction.
    ///
    /// Invariant: its next statement locks the tenant's row, so a tenant's write transactions run one at
    /// a time and always take their row locks in the same order. Without it, two transactions that insert
    /// rows referencing the same environment (shared foreign-key locks on InnoDB) and then update that
    /// environment deadlock on MySQL/MariaDB.
    pub async fn begin(&self) -> Result<TenantTx, StorageError> {
        let tx = Scoped::new(self.conn.begin_walled().await?, self.tenant);
        tx.lock_tenant().await?;
        Ok(tx)
    }
}

/// The connection pool as one scope sees it.
///
/// For a tenant scope on PostgreSQL, every statement runs in its own transaction: `BEGIN`, one round
/// trip that runs `SET LOCAL ROLE` [`TENANT_ROLE`] and sets `app.tenant_id` (both end with the
/// transaction, so nothing leaks to the pooled connection's next user), the statement, `COMMIT`.
/// Otherwise (SQLite, MySQL/MariaDB, system scopes) statements go straight to the pool.
pub struct TenantPool {
    pool: DatabaseConnection,
    /// The tenant to name behind row-level security, when the wall applies.
    wall: Option<TenantId>,
}

impl TenantPool {
    /// A transaction on the pool, behind the wall when it applies.
    async fn begin_walled(&self) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.pool.begin().await?;
        if let Some(tenant) = self.wall {
            tx.execute_unprepared(&enter_wall(tenant)).await?;
        }
        Ok(tx)
    }
}

/// The statements that put the current transaction behind row-level security for `tenant`. Both are
/// transaction-local. (The tenant id is a number, so formatting it into the text is safe.)
fn enter_wall(tenant: TenantId) -> String {
    format!(
        "SET LOCAL ROLE {TENANT_ROLE}; SELECT set_config('app.tenant_id', '{}', true)",
        tenant.0
    )
}

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for TenantPool {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        if self.wall.is_none() {
            return self.pool.execute_raw(stmt).await;
        }
        let tx = self.begin_walled().await?;
        let result = tx.execute_raw(stmt).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        if self.wall.is_none() {
            return self.pool.execute_unprepared(sql).await;
        }
        let tx = self.begin_walled().await?;
        let result = tx.execute_unprepared(sql).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if self.wall.is_none() {
            return self.pool.query_one_raw(stmt).await;
        }
        let tx = self.begin_walled().await?;
        let result = tx.query_one_raw(stmt).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if self.wall.is_none() {
            return self.pool.query_all_raw(stmt).await;
        }
        let tx = self.begin_walled().await?;
        let result = tx.query_all_raw(stmt).await?;
        tx.commit().await?;
        Ok(result)
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

    /// This tenant's entity salt; `fresh` becomes it when it has none yet (the first caller wins on
    /// every node).
    pub async fn entity_salt(&self, fresh: &str) -> Result<String, StorageError> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::EntitySalt, Expr::value(fresh))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .filter(tenant::Column::EntitySalt.is_null())
            .exec(&self.conn)
            .await?;
        let row = self.tenant_row().await?;
        row.entity_salt
            .ok_or_else(|| anyhow::anyhow!("tenant {} has no entity salt", self.tenant.0).into())
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

    /// Sets whether this tenant enforces single sign-on, and its exceptions (a JSON array of user ids).
    pub async fn set_sso_enforcement(
        &self,
        enforced: bool,
        break_glass: &str,
    ) -> Result<(), StorageError> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::SsoEnforced, Expr::value(enforced))
            .col_expr(tenant::Column::SsoBreakGlass, Expr::value(break_glass))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Sets this tenant's status (`active`, `pending`, `suspended`): platform administration, which
    /// the system vouches for (a tenant's own members and keys cannot reach it).
    pub async fn set_tenant_status(
        &self,
        system: &SystemScope,
        status: TenantStatus,
    ) -> Result<(), StorageError> {
        tracing::info!(
            reason = system.reason(),
            tenant_id = self.tenant.0,
            status = status.as_str(),
            "tenant status set"
        );
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Status, Expr::value(status.as_str()))
            .filter(tenant::Column::Id.eq(self.tenant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Moves this tenant to plan `plan`: platform administration, which the system vouches for.
    pub async fn set_tenant_plan(
        &self,
        system: &SystemScope,
        plan: &str,
    ) -> Result<(), StorageError> {
        tracing::info!(
            reason = system.reason(),
            tenant_id = self.tenant.0,
            plan,
            "tenant plan set"
        );
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
    /// `count` when there is none: one insert-or-add statement ([`Scoped::insert_or_add`]).
    pub async fn add_evaluations(&self, period: &str, count: u64) -> Result<(), StorageError> {
        let row = usage_counter::Model {
            id: 0,
            tenant_id: 0,
            period: period.to_owned(),
            evaluations: 0,
        };
        let keys = vec![
            usage_counter::Column::TenantId,
            usage_counter::Column::Period,
        ];
        let counter = usage_counter::Column::Evaluations;
        self.insert_or_add::<usage_counter::Entity>(row, keys, counter, count)
            .await
    }

    /// Inserts `model` into this tenant with `amount` in its `counter` column, or, when a row with the
    /// same `keys` exists, adds `amount` to that row's `counter`: one statement (`ON CONFLICT … DO
    /// UPDATE` on SQLite and PostgreSQL, `ON DUPLICATE KEY UPDATE` on MySQL), atomic on every backend,
    /// so servers adding to the same row at the same time lose nothing.
    pub(crate) async fn insert_or_add<E>(
        &self,
        model: E::Model,
        keys: Vec<E::Column>,
        counter: E::Column,
        amount: u64,
    ) -> Result<(), StorageError>
    where
        E: TenantOwned + Default,
        E::Model: IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        use sea_orm::sea_query::OnConflict;
        let amount = i64::try_from(amount).unwrap_or(i64::MAX);
        let mut row = model.into_active_model().reset_all();
        row.not_set(E::id_column());
        row.set(E::tenant_column(), self.tenant.0.into());
        row.set(counter, amount.into());
        let current = Expr::col((E::default(), counter));
        E::insert(row)
            .on_conflict(
                OnConflict::columns(keys)
                    .value(counter, current.add(amount))
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

/// A connection tenant data can be read over: the pool ([`TenantPool`]) or an open transaction.
///
/// Domain crates use it as a bound (`Scoped<impl Connection>`) without naming sea-orm.
pub trait Connection: ConnectionTrait + batch::Batch {}

impl Connection for DatabaseTransaction {}

impl Connection for TenantPool {}

/// Running the statements of one storage method together.
pub(crate) mod batch {
    use super::TenantPool;
    use sea_orm::{
        ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    };
    use std::future::Future;

    /// How a connection runs several statements as one unit.
    pub trait Batch: Sized + Sync {
        /// A connection for several statements: behind the wall, one transaction instead of one per
        /// statement (saving three round trips per statement); otherwise this connection itself.
        fn batch(&self) -> impl Future<Output = Result<Batched<'_, Self>, DbErr>> + Send;
    }

    impl Batch for DatabaseTransaction {
        async fn batch(&self) -> Result<Batched<'_, Self>, DbErr> {
            Ok(Batched::Same(self))
        }
    }

    impl Batch for TenantPool {
        async fn batch(&self) -> Result<Batched<'_, Self>, DbErr> {
            if self.wall.is_none() {
                return Ok(Batched::Same(self));
            }
            Ok(Batched::Walled(self.begin_walled().await?))
        }
    }

    /// See [`Batch::batch`]; [`Batched::finish`] ends it.
    pub enum Batched<'a, C> {
        /// The connection itself.
        Same(&'a C),
        /// A transaction behind the wall (rolled back if dropped unfinished).
        Walled(DatabaseTransaction),
    }

    impl<C: ConnectionTrait> Batched<'_, C> {
        /// Commits the transaction, if there is one.
        pub(crate) async fn finish(self) -> Result<(), DbErr> {
            match self {
                Batched::Same(_) => Ok(()),
                Batched::Walled(tx) => tx.commit().await,
            }
        }
    }

    #[sea_orm::prelude::async_trait::async_trait]
    impl<C: ConnectionTrait> ConnectionTrait for Batched<'_, C> {
        fn get_database_backend(&self) -> DbBackend {
            match self {
                Batched::Same(c) => c.get_database_backend(),
                Batched::Walled(tx) => tx.get_database_backend(),
            }
        }

        async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
            match self {
                Batched::Same(c) => c.execute_raw(stmt).await,
                Batched::Walled(tx) => tx.execute_raw(stmt).await,
            }
        }

        async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
            match self {
                Batched::Same(c) => c.execute_unprepared(sql).await,
                Batched::Walled(tx) => tx.execute_unprepared(sql).await,
            }
        }

        async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
            match self {
                Batched::Same(c) => c.query_one_raw(stmt).await,
                Batched::Walled(tx) => tx.query_one_raw(stmt).await,
            }
        }

        async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
            match self {
                Batched::Same(c) => c.query_all_raw(stmt).await,
                Batched::Walled(tx) => tx.query_all_raw(stmt).await,
            }
        }
    }
}

#[cfg(test)]
impl<C: ConnectionTrait> Scoped<C> {
    /// Test hook: runs `sql` exactly as written on this scope's connection, without any tenant filter
    /// (a simulated bug in a query), and returns its rows.
    pub(crate) async fn unfiltered_query(
        &self,
        sql: &str,
    ) -> Result<Vec<QueryResult>, StorageError> {
        let backend = self.conn.get_database_backend();
        Ok(self
            .conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?)
    }

    /// Test hook: executes `sql` exactly as written on this scope's connection.
    pub(crate) async fn unfiltered_execute(&self, sql: &str) -> Result<u64, StorageError> {
        let backend = self.conn.get_database_backend();
        Ok(self
            .conn
            .execute_raw(Statement::from_string(backend, sql))
            .await?
            .rows_affected())
    }
}
