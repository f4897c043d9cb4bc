//! Integer identifier newtypes.
//!
//! Identifiers are database row ids. They are globally unique, so a Flagr client can keep addressing
//! `/flags/{id}`, but they carry no authority: every lookup is also filtered by the caller's tenant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }
    )*};
}

id_type!(
    /// A tenant: one customer organisation of the hosted service, or the single tenant of a self-hosted one.
    TenantId,
    /// A project inside a tenant; flags are defined once per project.
    ProjectId,
    /// An environment (development, production…) of a project; flag configuration lives per environment.
    EnvironmentId,
    /// A flag.
    FlagId,
    /// A variant of a flag (shared by every environment).
    VariantId,
    /// A segment of a flag in one environment.
    SegmentId,
    /// A constraint of a segment.
    ConstraintId,
    /// A distribution of a segment.
    DistributionId,
    /// A tag.
    TagId,
    /// A saved flag snapshot.
    SnapshotId,
    /// A person with an account; one user may be a member of several tenants.
    UserId,
    /// A sign-in session of a user.
    SessionId,
);
