//! Tenants, projects and environments: creating a tenant, the first-start bootstrap that gives a
//! self-hosted server its `default` tenant, project and environments, and the audit log's use cases.

pub mod audit;
mod bootstrap;
pub mod members;
pub mod operators;
pub mod projects;
pub mod signup;

pub use bootstrap::{BootstrapOutcome, TenantsError, bootstrap, create_tenant};
