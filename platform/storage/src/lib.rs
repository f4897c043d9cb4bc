//! Storage: sea-orm entities, the [`Db`] handle, tenant-scoped access ([`TenantDb`], [`TenantTx`]) and
//! [`StorageError`].
//!
//! Architecture Invariant: only this crate and `flagent-migrations` name sea-orm. Tenant rows are reached
//! only through [`Db::scoped`], whose every statement carries the scope's tenant (see `scoped.rs`) and, on
//! PostgreSQL, runs behind row-level security for that tenant.

pub mod admin;
mod audit;
mod crashes;
mod db;
pub mod entities;
mod error;
mod flag_rows;
mod flags;
mod identity;
mod keys;
mod leases;
mod measure;
mod members;
mod plans;
mod projects;
mod retention;
#[cfg(test)]
#[allow(clippy::disallowed_methods)] // The tests attack the second wall with raw SQL.
mod rls_tests;
mod rollup;
mod row;
mod scim;
mod scoped;
mod sso;
mod system;
mod tenancy;
mod usage;
mod variant_counts;

pub use audit::{AuditQuery, NewAuditEvent, chain_hash, event_fields};
pub use crashes::{CrashGroupQuery, MAX_APP_VERSIONS, NewCrash};
pub use db::{Backend, Db};
pub use error::StorageError;
pub use flag_rows::{FlagRows, FlagSelection};
pub use identity::UserMembership;
pub use retention::{PlanRetention, RawTable};
pub use row::{Insert, Row};
pub use scoped::{
    Connection, GroupScoped, GroupTx, Scoped, TENANT_ROLE, TenantDb, TenantOwned, TenantPool,
    TenantTx,
};
pub use system::{EnvironmentMark, SystemDb};

/// Milliseconds since the Unix epoch, as timestamps are stored.
pub type Millis = i64;
