//! OpenFeature Remote Evaluation Protocol decisions: typed values, OpenFeature's reasons, the
//! targeting-key rule, and the bulk answer with what its `ETag` hashes.
//!
//! Typed values: a flag whose variants are exactly `on`/`off` (or `true`/`false`) is boolean; any other
//! variant's value is its attachment's `value` field (any JSON type) or else its key. Without a picked
//! variant the answer is the flag's `defaultVariant`, else `false` for a boolean flag, else no `value`
//! (OFREP's "use the code default") and variant `""`.
//!
//! Without a targeting key, a flag evaluates with an empty entity id (not a random one, so answers and
//! the bulk `ETag` are stable), except that a flag whose matched segment splits or rolls out partially
//! answers `TARGETING_KEY_MISSING`: its answer would depend on the key.
//!
//! Invariant: OFREP adds no evaluation rule of its own: answers come from `flagent_eval::evaluate`.
//! An answered request counts its evaluations (one, or the bulk's number of flags); a refusal and an
//! error count none, and a bulk answer is counted only when [`Bulk::evaluate`] runs.

use crate::evaluator::Evaluator;
use crate::ports::Served;
use flagent_eval::{CompiledFlag, Evaluation, FlagRef, Reason, Request, SegmentConfig, Snapshot};
use flagent_types::{Denied, TenantScope, perm};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The evaluation context of an OFREP request: the targeting key (the entity id) and the rest.
#[derive(Debug, Default, Clone)]
pub struct OfrepContext {
    /// The entity id; `None` when absent or empty.
    pub targeting_key: Option<String>,
    /// Every other field of the context.
    pub attributes: Map<String, Value>,
}

impl OfrepContext {
    /// The context in one canonical text (`serde_json::Map` is ordered by key, so equal contexts give
    /// equal texts), for the bulk `ETag`.
    pub fn canonical(&self) -> String {
        json!({"targetingKey": self.targeting_key, "context": self.attributes}).to_string()
    }
}

/// OFREP's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfrepCode {
    /// The body is not the JSON object OFREP asks for.
    ParseError,
    /// The context is malformed.
    InvalidContext,
    /// The flag's answer depends on a targeting key that was not given.
    TargetingKeyMissing,
    /// No flag has the key.
    FlagNotFound,
    /// Anything else.
    General,
}

impl OfrepCode {
    /// The wire name (`PARSE_ERROR`…).
    pub fn as_str(self) -> &'static str {
        match self {
            OfrepCode::ParseError => "PARSE_ERROR",
            OfrepCode::InvalidContext => "INVALID_CONTEXT",
            OfrepCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            OfrepCode::FlagNotFound => "FLAG_NOT_FOUND",
            OfrepCode::General => "GENERAL",
        }
    }
}

/// An OFREP error about one flag (`key`) or about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfrepFailure {
    /// The flag it is about, if any.
    pub key: Option<String>,
    /// The code.
    pub code: OfrepCode,
    /// What went wrong, in words.
    pub details: String,
}

impl OfrepFailure {
    /// A failure of the request as a whole.
    pub fn new(code: OfrepCode, details: impl Into<String>) -> Self {
        OfrepFailure {
            key: None,
            code,
            details: details.into(),
        }
    }

    /// The same failure, about the flag `key`.
    pub fn about(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

/// OpenFeature's resolution reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFeatureReason {
    /// A targeted match that holds for everybody.
    Static,
    /// A segment's constraints matched.
    TargetingMatch,
    /// A split picked the variant.
    Split,
    /// No variant for this entity: the default applies.
    Default,
    /// The flag is off.
    Disabled,
    /// The evaluation failed.
    Error,
}

impl OpenFeatureReason {
    /// The wire name (`STATIC`…).
    pub fn as_str(self) -> &'static str {
        match self {
            OpenFeatureReason::Static => "STATIC",
            OpenFeatureReason::TargetingMatch => "TARGETING_MATCH",
            OpenFeatureReason::Split => "SPLIT",
            OpenFeatureReason::Default => "DEFAULT",
            OpenFeatureReason::Disabled => "DISABLED",
            OpenFeatureReason::Error => "ERROR",
        }
    }
}

/// One flag's OFREP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The flag's key.
    pub key: String,
    /// The typed value; `None` when the code default applies.
    pub value: Option<Value>,
    /// OpenFeature's reason.
    pub reason: OpenFeatureReason,
    /// The variant's key (`""` without one).
    pub variant: String,
    /// The flag's id.
    pub flag_id: i64,
    /// Its snapshot id.
    pub snapshot_id: i64,
    /// The segment that matched.
    pub segment_id: Option<i64>,
    /// The variant the engine picked (not the default variant).
    pub variant_id: Option<i64>,
    /// The engine's reason.
    pub evaluation_reason: Reason,
}

/// The segment an evaluation matched.
fn matched_segment<'f>(flag: &'f CompiledFlag, eval: &Evaluation<'_>) -> Option<&'f SegmentConfig> {
    let id = eval.segment_id?;
    flag.config().segments.iter().find(|s| s.id == id)
}

/// Whether a segment's answer depends on the entity id: it splits between variants, or its rollout
/// is partial.
pub fn buckets(segment: &SegmentConfig) -> bool {
    let owners = segment
        .distributions
        .iter()
        .filter(|d| d.percent > 0)
        .count();
    owners > 1 || (owners == 1 && (1..100).contains(&segment.rollout_percent))
}

/// Whether a targeted match holds for everybody: no prerequisites, and the matched segment is the
/// first visited, has no constraints and a full rollout (`STATIC`).
pub fn is_static(flag: &CompiledFlag, segment: Option<&SegmentConfig>) -> bool {
    let config = flag.config();
    let first = config.segments.iter().min_by_key(|s| (s.rank, s.id));
    match (segment, first) {
        (Some(segment), Some(first)) => {
            config.depends_on.is_empty()
                && segment.id == first.id
                && segment.constraints.is_empty()
                && segment.rollout_percent >= 100
        }
        _ => false,
    }
}

/// OpenFeature's name for an engine reason.
pub fn reason_name(flag: &CompiledFlag, eval: &Evaluation<'_>) -> OpenFeatureReason {
    match eval.reason {
        Reason::TargetingMatch if is_static(flag, matched_segment(flag, eval)) => {
            OpenFeatureReason::Static
        }
        Reason::TargetingMatch => OpenFeatureReason::TargetingMatch,
        Reason::Split => OpenFeatureReason::Split,
        Reason::Disabled => OpenFeatureReason::Disabled,
        Reason::Default | Reason::PrerequisiteFailed => OpenFeatureReason::Default,
        Reason::FlagNotFound | Reason::Error => OpenFeatureReason::Error,
    }
}

/// A bulk evaluation of every flag of the caller's environment, at one snapshot: its `ETag` input is
/// known before anything is evaluated (so an unchanged answer costs and counts nothing).
pub struct Bulk<'e> {
    evaluator: &'e Evaluator,
    scope: &'e TenantScope,
    snapshot: Arc<Snapshot>,
}

impl Bulk<'_> {
    /// The environment's configuration revision the answer is for.
    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }

    /// What the answer's strong `ETag` hashes: the tenant, the environment, the revision and the
    /// canonical context.
    pub fn etag_input(&self, context: &OfrepContext) -> [String; 4] {
        [
            self.scope.tenant_id().0.to_string(),
            self.scope.environment_id().0.to_string(),
            self.revision().to_string(),
            context.canonical(),
        ]
    }

    /// Evaluates every flag, by ascending id, and counts the answer.
    pub fn evaluate(&self, context: &OfrepContext) -> Vec<Result<Resolved, OfrepFailure>> {
        let attributes = Value::Object(context.attributes.clone());
        let mut served = Vec::with_capacity(self.snapshot.len());
        let answers: Vec<_> = self
            .snapshot
            .flags()
            .map(|flag| {
                let resolve = Resolve {
                    evaluator: self.evaluator,
                    snapshot: &self.snapshot,
                    context,
                    attributes: &attributes,
                };
                resolve.flag(flag, &mut served)
            })
            .collect();
        self.evaluator
            .record(self.scope, answers.len() as u64, &served);
        if let Some(entity) = &context.targeting_key {
            self.evaluator.expose(self.scope, entity, &served);
        }
        answers
    }
}

/// One OFREP evaluation's inputs.
struct Resolve<'a> {
    evaluator: &'a Evaluator,
    snapshot: &'a Snapshot,
    context: &'a OfrepContext,
    attributes: &'a Value,
}

impl Resolve<'_> {
    /// Evaluates `flag` (found in the snapshot): the typed answer, or an error about it.
    fn flag(
        &self,
        flag: &CompiledFlag,
        served: &mut Vec<Served>,
    ) -> Result<Resolved, OfrepFailure> {
        let request = Request {
            flag: FlagRef::Id(flag.id()),
            entity_id: self.context.targeting_key.as_deref().unwrap_or(""),
            context: Some(self.attributes),
            debug: false,
        };
        let eval = flagent_eval::evaluate(self.snapshot, &request);
        let segment = matched_segment(flag, &eval);
        if self.context.targeting_key.is_none() && segment.is_some_and(buckets) {
            return Err(OfrepFailure::new(
                OfrepCode::TargetingKeyMissing,
                "this flag splits or rolls out by targetingKey; give one in the context",
            )
            .about(flag.key()));
        }
        // Counted once answered: a refused evaluation served nothing.
        self.evaluator.count(&eval, served);
        let picked = eval.variant.or_else(|| flag.default_variant());
        let (value, variant) = match (picked, flag.boolean_keys()) {
            (Some(variant), _) => (Some(flag.value_of(variant)), variant.key.clone()),
            (None, Some((_, no))) => (Some(Value::Bool(false)), no.to_owned()),
            (None, None) => (None, String::new()),
        };
        Ok(Resolved {
            key: flag.key().to_owned(),
            value,
            reason: reason_name(flag, &eval),
            variant,
            flag_id: flag.id(),
            snapshot_id: flag.snapshot_id(),
            segment_id: segment.map(|s| s.id),
            variant_id: eval.variant.map(|v| v.id),
            evaluation_reason: eval.reason,
        })
    }
}

impl Evaluator {
    /// Evaluates the flag `key` of the caller's environment for `context` (OFREP single) and counts
    /// one evaluation when it answers; a scope without `flags:evaluate` (server side) is refused
    /// before anything is read.
    pub fn resolve(
        &self,
        scope: &TenantScope,
        key: &str,
        context: &OfrepContext,
    ) -> Result<Result<Resolved, OfrepFailure>, Denied> {
        scope.require::<perm::Evaluate>()?;
        let snapshot = self.snapshot(scope);
        let Some(flag) = snapshot.flag_by_key(key) else {
            return Ok(Err(OfrepFailure::new(
                OfrepCode::FlagNotFound,
                format!("no flag has the key {key:?}"),
            )
            .about(key)));
        };
        let attributes = Value::Object(context.attributes.clone());
        let mut served = Vec::with_capacity(1);
        let resolve = Resolve {
            evaluator: self,
            snapshot: &snapshot,
            context,
            attributes: &attributes,
        };
        let answer = resolve.flag(flag, &mut served);
        if answer.is_ok() {
            self.record(scope, 1, &served);
            if let Some(entity) = &context.targeting_key {
                self.expose(scope, entity, &served);
            }
        }
        Ok(answer)
    }

    /// A bulk evaluation of the caller's environment at its current snapshot (OFREP bulk), for a
    /// scope with `flags:evaluate` (server side).
    pub fn bulk<'e>(&'e self, scope: &'e TenantScope) -> Result<Bulk<'e>, Denied> {
        scope.require::<perm::Evaluate>()?;
        Ok(Bulk {
            evaluator: self,
            scope,
            snapshot: self.snapshot(scope),
        })
    }
}
