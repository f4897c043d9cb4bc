//! Tenants, projects and environments. For now: creating a tenant, and the first-start bootstrap that gives a self-hosted server
//! its `default` tenant, `default` project and `development` / `production` environments.

mod bootstrap;

pub use bootstrap::{BootstrapOutcome, TenantsError, bootstrap, create_tenant};
