//! sea-orm entities, one module per table, and the list of which tables are tenant-owned.
//!
//! Invariant: every entity is either [`TenantOwned`](crate::scoped::TenantOwned) (listed in
//! [`TENANT_TABLES`]) or global (listed in [`GLOBAL_TABLES`]); a test checks the two lists cover the schema.

pub mod api_key;
pub mod constraint;
pub mod distribution;
pub mod entity_type;
pub mod environment;
pub mod flag;
pub mod flag_snapshot;
pub mod flag_state;
pub mod flag_tag;
pub mod project;
pub mod segment;
pub mod tag;
pub mod tenant;
pub mod variant;

/// Tables that hold no tenant's data.
pub const GLOBAL_TABLES: &[&str] = &["tenants", "seaql_migrations"];

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
];
