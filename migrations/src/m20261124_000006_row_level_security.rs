//! Row-level security on PostgreSQL: a second wall between tenants, independent of the application's
//! `tenant_id = …` filters. A no-op on SQLite and MySQL/MariaDB.
//!
//! Tenant-scoped work switches to the `NOLOGIN` role [`TENANT_ROLE`] for the length of a transaction
//! (`SET LOCAL ROLE`) and names its tenant in `app.tenant_id` (`set_config(…, true)`). That role is not
//! the tables' owner, so the policies below apply to it: it sees and writes only rows whose `tenant_id`
//! is the named tenant, and nothing when none is named. The owner (migrations, cross-tenant system
//! jobs) keeps bypassing row-level security: it is enabled, not forced.
//!
//! Roles are cluster-wide: the role is created once per cluster, tolerating a concurrent creation by
//! another database's migration; grants and policies belong to this database.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The role tenant-scoped transactions run as.
pub const TENANT_ROLE: &str = "flagent_tenant";

/// The tenant-owned tables this migration puts behind row-level security: exactly the tenant-owned
/// tables that exist at this point of the history.
pub(crate) const TENANT_TABLES: &[&str] = &[
    "projects",
    "environments",
    "flags",
    "flag_states",
    "variants",
    "segments",
    "segment_constraints",
    "distributions",
    "tags",
    "flag_tags",
    "entity_types",
    "flag_snapshots",
    "api_keys",
    "audit_events",
    "memberships",
    "roles",
    "invitations",
    "usage_counters",
];

/// The policy's name on every table.
const POLICY: &str = "tenant_isolation";

/// The tenant the current transaction named, or `NULL` when it named none. `current_setting(…, true)`
/// is `NULL` on a connection that never set the setting but `''` on one that set it in an earlier,
/// finished transaction; both mean "no tenant" and match no row.
const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::bigint";

/// Creates the role and puts every tenant-owned table behind row-level security.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Creates [`TENANT_ROLE`] unless it exists and makes the connecting user a member of it (so it may
/// `SET ROLE`). Another database's migration may create or grant the same at the same moment, which
/// surfaces as `duplicate_object` or `unique_violation`; both mean it is done. A user who may not
/// create or grant roles gets an error saying what an operator has to run once.
fn create_role() -> String {
    format!(
        r#"DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        BEGIN
            CREATE ROLE {role} NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role {role} does not exist and % may not create it; as a superuser, run once: CREATE ROLE {role} NOLOGIN; GRANT {role} TO %;',
                    current_user, quote_ident(current_user);
        END;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_auth_members m
        WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = '{role}')
          AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)
    ) THEN
        BEGIN
            GRANT {role} TO CURRENT_USER;
        EXCEPTION
            WHEN unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION '% is not a member of role {role} and may not grant it; as a superuser, run once: GRANT {role} TO %;',
                    current_user, quote_ident(current_user);
        END;
    END IF;
END
$$"#,
        role = TENANT_ROLE
    )
}

/// Runs `statement` (a `GRANT` or `REVOKE` on `SEQUENCE %s`, `%s` standing for its name) on the
/// sequence behind `table.id`, if the table has one.
fn on_id_sequence(table: &str, statement: &str) -> String {
    format!(
        r#"DO $$
DECLARE s text := pg_get_serial_sequence('{table}', 'id');
BEGIN
    IF s IS NOT NULL THEN
        EXECUTE format('{statement}', s);
    END IF;
END
$$"#
    )
}

/// Puts one tenant-owned table behind the wall: the role's grants (table and id sequence), row-level
/// security, and the policy. Later migrations that add a tenant-owned table run these too.
pub(crate) fn secure(table: &str) -> Vec<String> {
    vec![
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {table} TO {TENANT_ROLE}"),
        // Inserts draw ids from it.
        on_id_sequence(
            table,
            &format!("GRANT USAGE, SELECT ON SEQUENCE %s TO {TENANT_ROLE}"),
        ),
        format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY {POLICY} ON {table} \
             USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        ),
    ]
}

/// Undoes [`secure`] for one table.
pub(crate) fn unsecure(table: &str) -> Vec<String> {
    vec![
        format!("DROP POLICY IF EXISTS {POLICY} ON {table}"),
        format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
        format!("REVOKE ALL ON TABLE {table} FROM {TENANT_ROLE}"),
        on_id_sequence(
            table,
            &format!("REVOKE ALL ON SEQUENCE %s FROM {TENANT_ROLE}"),
        ),
    ]
}

fn up_statements() -> Vec<String> {
    let mut sql = vec![create_role()];
    for table in TENANT_TABLES {
        sql.extend(secure(table));
    }
    // The tenant's own row: every write transaction locks it, and audit appends advance its chain head.
    sql.extend([
        format!("GRANT SELECT ON TABLE tenants TO {TENANT_ROLE}"),
        format!("GRANT UPDATE (audit_seq, audit_head) ON TABLE tenants TO {TENANT_ROLE}"),
        "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY".to_owned(),
        format!(
            "CREATE POLICY {POLICY} ON tenants \
             USING (id = {CURRENT_TENANT}) WITH CHECK (id = {CURRENT_TENANT})"
        ),
        // Plan limits are global catalogue data that tenant-scoped checks read.
        format!("GRANT SELECT ON TABLE plans TO {TENANT_ROLE}"),
    ]);
    sql
}

fn down_statements() -> Vec<String> {
    let mut sql = vec![format!("REVOKE ALL ON TABLE plans FROM {TENANT_ROLE}")];
    for table in TENANT_TABLES {
        sql.extend(unsecure(table));
    }
    sql.extend([
        format!("DROP POLICY IF EXISTS {POLICY} ON tenants"),
        "ALTER TABLE tenants DISABLE ROW LEVEL SECURITY".to_owned(),
        format!("REVOKE ALL ON TABLE tenants FROM {TENANT_ROLE}"),
    ]);
    // The role stays: it is shared by every database of the cluster.
    sql
}

/// Runs `statements` on PostgreSQL.
pub(crate) async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for sql in statements {
        #[allow(clippy::disallowed_methods)]
        // Schema statements (roles, policies) hold no tenant rows.
        conn.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run(manager, up_statements()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run(manager, down_statements()).await
    }
}
