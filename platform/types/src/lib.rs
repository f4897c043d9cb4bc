//! Identifier newtypes, validated values, plans and their limits, the scopes through which tenant
//! data is reached, and the sharded counters evaluation metering adds to.
//!
//! This crate is the ground floor: it depends on no other workspace crate.
//! Invariant: a [`TenantScope`] can only be minted by [`TenantScope::assume_authenticated`], which
//! `clippy.toml` bans everywhere except the authentication code and the test kit.

mod counts;
mod ids;
mod key;
mod plan;
mod scope;
mod vocabulary;

pub use counts::ShardedCounts;
pub use ids::{
    ConstraintId, DistributionId, EnvironmentId, FlagId, ProjectId, SegmentId, SessionId,
    SnapshotId, TagId, TenantId, UserId, VariantId,
};
pub use key::{FlagKey, KeyError, valid_key};
pub use plan::{Feature, FeatureNotIncluded, Limit, LimitReached, Plan, PlanLimits};
pub use scope::{
    Denied, Grant, Origin, Permission, Permissions, Principal, Scope, ScopeSet, SystemScope,
    TenantScope, perm,
};
pub use vocabulary::{ActorType, AuditAction, BuiltInRole, TenantStatus, UnknownValue};
