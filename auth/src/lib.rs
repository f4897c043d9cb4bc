//! Principals and API keys: the only code that mints a TenantScope.
