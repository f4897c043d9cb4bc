//! sea-orm entities, one module per table, and the list of which tables are tenant-owned.
//!
//! Invariant: every entity is either [`TenantOwned`](crate::scoped::TenantOwned) (listed in
//! [`TENANT_TABLES`]) or global (listed in [`GLOBAL_TABLES`]); a test checks the two lists cover the schema.

pub mod api_key;
pub mod audit_event;
pub mod constraint;
pub mod crash;
pub mod crash_group;
pub mod crash_group_variant;
pub mod distribution;
pub mod entity_type;
pub mod environment;
pub mod event;
pub mod experiment;
pub mod experiment_metric;
pub mod exposure;
pub mod exposure_day;
pub mod flag;
pub mod flag_snapshot;
pub mod flag_state;
pub mod flag_tag;
pub mod invitation;
pub mod job_lease;
pub mod membership;
pub mod metric;
pub mod metric_day;
pub mod metric_entity;
pub mod outbox;
pub mod plan;
pub mod project;
pub mod role;
pub mod scim_group;
pub mod scim_group_member;
pub mod scim_user;
pub mod segment;
pub mod session;
pub mod sso_assertion;
pub mod sso_domain;
pub mod sso_identity;
pub mod sso_login;
pub mod sso_provider;
pub mod system_setting;
pub mod tag;
pub mod tenant;
pub mod usage_counter;
pub mod user;
pub mod user_token;
pub mod variant;
pub mod variant_count;

/// Tables that hold no tenant's data.
pub const GLOBAL_TABLES: &[&str] = &[
    "tenants",
    "seaql_migrations",
    "users",
    "user_tokens",
    "sessions",
    "outbox",
    "plans",
    "system_settings",
    "job_leases",
];

/// Tables whose every row belongs to one tenant and is reached only through a tenant scope.
pub const TENANT_TABLES: &[&str] = &[
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
    "variant_counts",
    "sso_providers",
    "sso_identities",
    "sso_logins",
    "sso_domains",
    "sso_assertions",
    "scim_users",
    "scim_groups",
    "scim_group_members",
    "exposures",
    "events",
    "crash_groups",
    "crashes",
    "crash_group_variants",
    "metrics",
    "experiments",
    "experiment_metrics",
    "exposure_daily",
    "metric_entities",
    "metric_daily",
];

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // The tests read the schema catalogue with raw SQL.
mod tests {
    use super::*;
    use crate::TenantOwned;
    use flagent_migrations::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database, Statement};
    use std::collections::BTreeSet;

    fn table<E: TenantOwned + Default>() -> &'static str {
        E::default().table_name()
    }

    /// Every entity listed as tenant-owned implements `TenantOwned` (this does not compile otherwise).
    fn tenant_owned_entities() -> BTreeSet<&'static str> {
        BTreeSet::from([
            table::<project::Entity>(),
            table::<environment::Entity>(),
            table::<flag::Entity>(),
            table::<flag_state::Entity>(),
            table::<variant::Entity>(),
            table::<segment::Entity>(),
            table::<constraint::Entity>(),
            table::<distribution::Entity>(),
            table::<tag::Entity>(),
            table::<flag_tag::Entity>(),
            table::<entity_type::Entity>(),
            table::<flag_snapshot::Entity>(),
            table::<api_key::Entity>(),
            table::<audit_event::Entity>(),
            table::<membership::Entity>(),
            table::<role::Entity>(),
            table::<invitation::Entity>(),
            table::<usage_counter::Entity>(),
            table::<variant_count::Entity>(),
            table::<sso_provider::Entity>(),
            table::<sso_identity::Entity>(),
            table::<sso_login::Entity>(),
            table::<sso_domain::Entity>(),
            table::<sso_assertion::Entity>(),
            table::<scim_user::Entity>(),
            table::<scim_group::Entity>(),
            table::<scim_group_member::Entity>(),
            table::<exposure::Entity>(),
            table::<event::Entity>(),
            table::<crash_group::Entity>(),
            table::<crash::Entity>(),
            table::<crash_group_variant::Entity>(),
            table::<metric::Entity>(),
            table::<experiment::Entity>(),
            table::<experiment_metric::Entity>(),
            table::<exposure_day::Entity>(),
            table::<metric_entity::Entity>(),
            table::<metric_day::Entity>(),
        ])
    }

    #[tokio::test]
    async fn every_table_is_tenant_owned_or_global() {
        let conn = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        let rows = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap();
        let tables: BTreeSet<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "name").unwrap())
            .collect();
        let listed: BTreeSet<String> = TENANT_TABLES
            .iter()
            .chain(GLOBAL_TABLES)
            .map(|t| (*t).to_owned())
            .collect();
        assert_eq!(
            tables, listed,
            "classify every table as tenant-owned or global"
        );
        let owned: BTreeSet<&str> = TENANT_TABLES.iter().copied().collect();
        assert_eq!(owned, tenant_owned_entities());
        for t in TENANT_TABLES {
            let cols = conn
                .query_all_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("SELECT name FROM pragma_table_info('{t}') WHERE name = 'tenant_id' AND \"notnull\" = 1"),
                ))
                .await
                .unwrap();
            assert_eq!(cols.len(), 1, "{t} needs tenant_id NOT NULL");
        }
    }
}
