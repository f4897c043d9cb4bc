//! Database entities, the tenant-scoped access layer and storage errors.
