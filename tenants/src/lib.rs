//! Tenants, projects and environments: creating a tenant, the first-start bootstrap that gives a
//! self-hosted server its `default` tenant, project and environments, the audit log's use cases, plan
//! limits (`plans`) and usage metering (`usage`).

pub mod audit;
mod bootstrap;
pub mod members;
pub mod operators;
pub mod plans;
pub mod projects;
pub mod signup;
pub mod usage;

pub use bootstrap::{BootstrapOutcome, TenantsError, bootstrap, create_tenant};
