//! Tenants, projects, environments and the first-start bootstrap.
