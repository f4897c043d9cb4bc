//! The ports the [`crate::Evaluator`] reports through: where counted evaluations go (usage metering),
//! the "evaluations by reason" metric, and which entity was served what (exposures, for experiment
//! results). The composition root plugs in the real implementations.
//!
//! Invariant: all are called on the hot path, in memory, and never wait on I/O.

use flagent_eval::Reason;
use flagent_types::{EnvironmentId, TenantId};

/// What one evaluation of an existing flag served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The flag.
    pub flag: i64,
    /// The segment that matched, if any.
    pub segment: Option<i64>,
    /// The variant served, if any.
    pub variant: Option<i64>,
}

/// Where a request's evaluations are counted: once per answered request, with how many evaluations
/// it made and what those of existing flags served.
pub trait UsageSink: Send + Sync {
    /// Counts `evaluations` in `tenant` and what they `served` in `environment`.
    fn record(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        evaluations: u64,
        served: &[Served],
    );
}

/// Counts each evaluation by the engine's reason (Prometheus' `evaluations_total`).
pub trait ReasonCounter: Send + Sync {
    /// One evaluation ended with `reason`.
    fn evaluated(&self, reason: Reason);
}

/// Where exposures go: which variants one entity was served, once per answered request and entity.
/// Evaluations of a randomly generated entity id (none was given) are not reported.
pub trait ExposureSink: Send + Sync {
    /// `entity` was served `served` in `environment` of `tenant` (entries without a variant served
    /// nothing to expose).
    fn exposed(
        &self,
        tenant: TenantId,
        environment: EnvironmentId,
        entity: &str,
        served: &[Served],
    );
}
