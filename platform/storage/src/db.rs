//! The database handle: connecting, and the two doors to data ([`Db::scoped`] and [`Db::system`]).

use crate::{StorageError, SystemDb, TenantDb};
use flagent_types::{SystemScope, TenantId, TenantScope};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::time::Duration;

/// Which database engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

/// A pool of connections to the configured database.
#[derive(Clone)]
pub struct Db {
    pub(crate) conn: DatabaseConnection,
}

impl Db {
    /// Connects to `url` (`sqlite://…`, `postgres://…` or `mysql://…`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StorageError> {
        let conn = Database::connect(Self::options(url, max_connections)).await?;
        Ok(Db { conn })
    }

    /// A pool for `url` that connects on first use, for a node that starts while the database is
    /// unreachable; every use fails with [`StorageError::Unavailable`] until it is back.
    pub async fn connect_lazy(url: &str, max_connections: u32) -> Result<Db, StorageError> {
        let mut options = Self::options(url, max_connections);
        options.connect_lazy(true);
        let conn = Database::connect(options).await?;
        Ok(Db { conn })
    }

    fn options(url: &str, max_connections: u32) -> ConnectOptions {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        options
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self.conn.get_database_backend() {
            sea_orm::DbBackend::Postgres => Backend::Postgres,
            sea_orm::DbBackend::MySql => Backend::MySql,
            _ => Backend::Sqlite,
        }
    }

    /// Tenant data, filtered by the scope's tenant in every statement and, on PostgreSQL, behind
    /// row-level security for that tenant.
    pub fn scoped(&self, scope: &TenantScope) -> TenantDb {
        TenantDb::for_tenant(self.conn.clone(), scope.tenant_id())
    }

    /// Tenant data for a tenant named by the system (bootstrap, cache warm-up): filtered by the tenant,
    /// running as the connecting user (not behind row-level security), like [`Db::system`].
    /// Each use is logged (debug level) with the system scope's reason.
    pub fn scoped_for_system(&self, system: &SystemScope, tenant: TenantId) -> TenantDb {
        tracing::debug!(
            reason = system.reason(),
            tenant_id = tenant.0,
            "system scope used for tenant data"
        );
        TenantDb::for_system(self.conn.clone(), tenant)
    }

    /// Cross-tenant access; each use is logged (debug level) with the system scope's reason.
    pub fn system(&self, system: &SystemScope) -> SystemDb<'_> {
        tracing::debug!(reason = system.reason(), "system scope used");
        SystemDb { db: self }
    }

    /// The raw connection, for running migrations only.
    pub fn migration_connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        Ok(self.conn.ping().await?)
    }

    /// Closes every connection; later statements fail with [`StorageError::Unavailable`].
    pub async fn close(&self) -> Result<(), StorageError> {
        Ok(self.conn.close_by_ref().await?)
    }

    /// Runs a statement that needs no tenant (used by health checks).
    pub async fn execute_health_probe(&self) -> Result<(), StorageError> {
        #[allow(clippy::disallowed_methods)] // `SELECT 1` reads no tenant data.
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(())
    }
}
