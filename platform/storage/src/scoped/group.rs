//! Group commit: one transaction that writes the rows of several tenants ([`GroupTx`]), each through its
//! own [`Scoped`] view, so many requests share one commit.
//!
//! Invariant (PostgreSQL): a group opened for tenant scopes ([`crate::Db::begin_group`]) switches to
//! [`TENANT_ROLE`] once and names each tenant in `app.tenant_id` before its rows are written, so
//! row-level security checks every row against the tenant whose scope wrote it. A group for the system
//! ([`crate::Db::begin_system_group`]) runs as the connecting user, like [`crate::SystemDb`].

use super::{Scoped, TENANT_ROLE, TenantOwned};
use crate::StorageError;
use flagent_types::{SystemScope, TenantId, TenantScope};
pub(crate) use sea_orm::sea_query::OnConflict;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseExecutor, DatabaseTransaction,
    DbBackend, IntoActiveModel, TransactionTrait,
};

/// Rows inserted per statement: well under every backend's limit on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// One tenant's rows inside a [`GroupTx`].
pub type GroupScoped<'a> = Scoped<DatabaseExecutor<'a>>;

/// One transaction writing the rows of several tenants; nothing is written unless
/// [`GroupTx::commit`] is called.
pub struct GroupTx {
    pub(crate) tx: DatabaseTransaction,
    walled: bool,
    current: Option<TenantId>,
}

impl crate::Db {
    /// A group transaction for tenant scopes (behind row-level security on PostgreSQL).
    pub async fn begin_group(&self) -> Result<GroupTx, StorageError> {
        let tx = self.conn.begin().await?;
        let walled = tx.get_database_backend() == DbBackend::Postgres;
        if walled {
            tx.execute_unprepared(&format!("SET LOCAL ROLE {TENANT_ROLE}"))
                .await?;
        }
        Ok(GroupTx {
            tx,
            walled,
            current: None,
        })
    }

    /// A group transaction for the system: any tenant's rows, as the connecting user. Its use is
    /// logged (debug level) with the system scope's reason.
    pub async fn begin_system_group(&self, system: &SystemScope) -> Result<GroupTx, StorageError> {
        tracing::debug!(reason = system.reason(), "system group transaction");
        Ok(GroupTx {
            tx: self.conn.begin().await?,
            walled: false,
            current: None,
        })
    }
}

impl GroupTx {
    /// The rows of `scope`'s tenant, inside this transaction.
    pub async fn scoped(&mut self, scope: &TenantScope) -> Result<GroupScoped<'_>, StorageError> {
        self.enter(scope.tenant_id()).await
    }

    /// The rows of `tenant`, for a system group.
    pub async fn scoped_for_system(
        &mut self,
        tenant: TenantId,
    ) -> Result<GroupScoped<'_>, StorageError> {
        if self.walled {
            return Err(anyhow::anyhow!("a tenant group has no system access").into());
        }
        self.enter(tenant).await
    }

    async fn enter(&mut self, tenant: TenantId) -> Result<GroupScoped<'_>, StorageError> {
        if self.walled && self.current != Some(tenant) {
            // The tenant id is a number, so formatting it into the text is safe.
            self.tx
                .execute_unprepared(&format!(
                    "SELECT set_config('app.tenant_id', '{}', true)",
                    tenant.0
                ))
                .await?;
        }
        self.current = Some(tenant);
        Ok(Scoped::new(DatabaseExecutor::Transaction(&self.tx), tenant))
    }

    /// Commits every tenant's rows at once.
    pub async fn commit(self) -> Result<(), StorageError> {
        Ok(self.tx.commit().await?)
    }

    /// Undoes the transaction now. (Dropping it only queues the rollback for the connection's next
    /// use, and on MySQL an idle connection keeps its transaction, and the locks it took, open until
    /// then.)
    pub async fn rollback(self) -> Result<(), StorageError> {
        Ok(self.tx.rollback().await?)
    }
}

impl<C: ConnectionTrait> Scoped<C> {
    /// Inserts `models` into this tenant (their `id` and `tenant_id` are ignored), several rows per
    /// statement; a row colliding with a unique key is handled by `on_conflict` (skipped, or the
    /// existing row updated). Returns how many rows were written.
    pub(crate) async fn insert_all<E>(
        &self,
        models: Vec<E::Model>,
        on_conflict: Option<OnConflict>,
    ) -> Result<u64, StorageError>
    where
        E: TenantOwned,
        E::Model: IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let mut inserted = 0;
        let mut models = models.into_iter().peekable();
        while models.peek().is_some() {
            let rows: Vec<E::ActiveModel> = models
                .by_ref()
                .take(ROWS_PER_STATEMENT)
                .map(|model| {
                    let mut row = model.into_active_model().reset_all();
                    row.not_set(E::id_column());
                    row.set(E::tenant_column(), self.tenant.0.into());
                    row
                })
                .collect();
            let mut insert = E::insert_many(rows);
            if let Some(action) = &on_conflict {
                insert = insert.on_conflict(action.clone());
            }
            inserted += insert.exec_without_returning(&self.conn).await?;
        }
        Ok(inserted)
    }

    /// Inserts `models` into this tenant with the amounts in their `counter` column, several rows
    /// per statement; a row whose `keys` match an existing row adds its amount to that row's `counter`
    /// instead (`ON CONFLICT … DO UPDATE` with `excluded` on SQLite and PostgreSQL, `ON DUPLICATE KEY
    /// UPDATE` with `VALUES()` on MySQL): like [`Scoped::insert_or_add`], atomic on every backend, for
    /// many rows at once. The rows must have distinct keys (PostgreSQL updates a row once per
    /// statement); pass them in key order, so concurrent writers lock rows in one order.
    pub(crate) async fn insert_or_add_all<E>(
        &self,
        models: Vec<E::Model>,
        keys: Vec<E::Column>,
        counter: E::Column,
    ) -> Result<u64, StorageError>
    where
        E: TenantOwned + Default,
        E::Model: IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let incoming = match self.conn.get_database_backend() {
            DbBackend::MySql => {
                Expr::from(Func::cust(Alias::new("VALUES")).arg(Expr::col(counter)))
            }
            _ => Expr::col((Alias::new("excluded"), counter)),
        };
        let add = Expr::col((E::default(), counter)).add(incoming);
        let on_conflict = OnConflict::columns(keys).value(counter, add).to_owned();
        self.insert_all::<E>(models, Some(on_conflict)).await
    }
}
