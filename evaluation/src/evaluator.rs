//! The [`Evaluator`]: the one place that decides evaluation answers, for every caller (HTTP handlers,
//! the Debug Console, and later the MCP `evaluate` tool and edge nodes).
//!
//! Invariant: every method works in the tenant and environment of the `TenantScope` it is given (the
//! caller has authorised it), reads that environment's snapshot from the [`EvalCache`] with one atomic
//! load, and never touches the database. Methods that answer an application count what they
//! evaluated through the [`UsageSink`] once per request (a refused request counts nothing) and each
//! evaluation through the [`ReasonCounter`]; explanations and SDK snapshots count nothing.

use crate::cache::EvalCache;
use crate::ports::{ExposureSink, ReasonCounter, Served, UsageSink};
use flagent_eval::{Evaluation, Snapshot};
use flagent_types::TenantScope;
use std::sync::Arc;

/// Decides evaluation answers from the evaluation cache.
#[derive(Clone)]
pub struct Evaluator {
    cache: Arc<EvalCache>,
    usage: Arc<dyn UsageSink>,
    reasons: Arc<dyn ReasonCounter>,
    exposures: Option<Arc<dyn ExposureSink>>,
    max_batch_results: usize,
}

impl Evaluator {
    /// An evaluator over `cache`, counting into `usage` and `reasons`, refusing batches of more than
    /// `max_batch_results` results.
    pub fn new(
        cache: Arc<EvalCache>,
        usage: Arc<dyn UsageSink>,
        reasons: Arc<dyn ReasonCounter>,
        max_batch_results: usize,
    ) -> Self {
        Evaluator {
            cache,
            usage,
            reasons,
            exposures: None,
            max_batch_results,
        }
    }

    /// The same evaluator, reporting which entity was served what to `sink`.
    pub fn with_exposures(mut self, sink: Arc<dyn ExposureSink>) -> Self {
        self.exposures = Some(sink);
        self
    }

    /// The evaluation cache this evaluator reads.
    pub fn cache(&self) -> &Arc<EvalCache> {
        &self.cache
    }

    /// The most results one batch may produce.
    pub fn max_batch_results(&self) -> usize {
        self.max_batch_results
    }

    /// The compiled configuration of the caller's environment (empty when it has none yet).
    pub fn snapshot(&self, scope: &TenantScope) -> Arc<Snapshot> {
        self.cache
            .snapshot(scope.tenant_id(), scope.environment_id())
            .unwrap_or_default()
    }

    /// Counts an evaluation by reason and, for a flag that exists, notes what it served in `served`,
    /// which the request hands to [`Evaluator::record`] once.
    pub(crate) fn count(&self, eval: &Evaluation<'_>, served: &mut Vec<Served>) {
        self.reasons.evaluated(eval.reason);
        if let Some(flag) = eval.flag {
            served.push(Served {
                flag: flag.id(),
                segment: eval.segment_id,
                variant: eval.variant.map(|v| v.id),
            });
        }
    }

    /// Counts a request's evaluations for the tenant's usage, and what they served.
    pub(crate) fn record(&self, scope: &TenantScope, evaluations: u64, served: &[Served]) {
        let (tenant, environment) = (scope.tenant_id(), scope.environment_id());
        self.usage.record(tenant, environment, evaluations, served);
    }

    /// Reports that `entity` was served `served` in the caller's environment.
    pub(crate) fn expose(&self, scope: &TenantScope, entity: &str, served: &[Served]) {
        if let Some(sink) = &self.exposures {
            sink.exposed(scope.tenant_id(), scope.environment_id(), entity, served);
        }
    }
}
