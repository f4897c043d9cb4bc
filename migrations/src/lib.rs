//! The database schema as a history of migrations, run on SQLite, PostgreSQL and MySQL/MariaDB alike.
//!
//! Invariant: migrations never import entities; the schema is history and must not change when code does.
//! Every tenant-owned table has its own `tenant_id NOT NULL`, its unique keys start with the tenant, and
//! its foreign keys are composite `(tenant_id, parent_id)` so no row can point into another tenant.
//! Timestamps are milliseconds since the Unix epoch in `BIGINT` columns, identical on every backend.
//! On PostgreSQL, row-level security on `tenant_id` is a second wall (migration 000006).

mod m20261124_000001_core;
mod m20261124_000002_audit;
mod m20261124_000003_archive;
mod m20261124_000004_identity;
mod m20261124_000006_row_level_security;
mod m20261125_000007_variant_counts;
mod m20261206_000009_environment_revised_at;
mod m20261207_000010_job_leases;
mod m20261207_000011_sso;
mod m20261207_000012_sso_domains;
mod m20261208_000013_saml_assertions;
mod m20261208_000014_scim;
mod m20261209_000015_analytics;
mod schema;

pub use m20261124_000006_row_level_security::TENANT_ROLE;
pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

/// Every tenant-owned table behind PostgreSQL row-level security: those of migration 000006, then
/// each later migration's.
///
/// A later migration that adds a tenant-owned table must enable row-level security on it
/// (`m20261124_000006_row_level_security::secure`) and extend this list; `flagent-storage` tests that it
/// equals its `TENANT_TABLES`.
pub fn row_level_security_tables() -> Vec<&'static str> {
    let mut tables = m20261124_000006_row_level_security::TENANT_TABLES.to_vec();
    tables.push(m20261125_000007_variant_counts::TABLE);
    tables.extend(m20261207_000011_sso::TABLES);
    tables.extend(m20261207_000012_sso_domains::TABLES);
    tables.extend(m20261208_000013_saml_assertions::TABLES);
    tables.extend(m20261208_000014_scim::TABLES);
    tables.extend(m20261209_000015_analytics::TABLES);
    tables
}

/// Runs every migration in order.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_core::Migration),
            Box::new(m20261124_000002_audit::Migration),
            Box::new(m20261124_000003_archive::Migration),
            Box::new(m20261124_000004_identity::Migration),
            Box::new(m20261124_000006_row_level_security::Migration),
            Box::new(m20261125_000007_variant_counts::Migration),
            Box::new(m20261206_000009_environment_revised_at::Migration),
            Box::new(m20261207_000010_job_leases::Migration),
            Box::new(m20261207_000011_sso::Migration),
            Box::new(m20261207_000012_sso_domains::Migration),
            Box::new(m20261208_000013_saml_assertions::Migration),
            Box::new(m20261208_000014_scim::Migration),
            Box::new(m20261209_000015_analytics::Migration),
        ]
    }
}
