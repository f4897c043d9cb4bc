//! Flagr-compatible evaluation: one flag for one entity, and batches of flags (by id, key or tags) for
//! several entities.
//!
//! Invariant: an unknown flag is an answer with no variant (`FLAG_NOT_FOUND`), not an error; an
//! entity without an id gets a random one (`randomly_generated_<n>`), echoed in the answer; the
//! context must be a JSON object (or absent); a batch is refused whole, and counts nothing, when it
//! is empty, names no flag, has a bad tag operator or would exceed the batch limit.

use crate::error::{EvaluationError, Result};
use crate::evaluator::Evaluator;
use crate::ports::Served;
use flagent_eval::{Attachment, DebugLog, FlagRef, Reason, Request, Snapshot, TagMatch, evaluate};
use flagent_types::{TenantScope, perm};
use serde_json::Value;

/// What to evaluate for one entity (Flagr's `evalContext`).
#[derive(Debug, Clone, Default)]
pub struct EvalQuery {
    /// The entity; a random one is generated when empty.
    pub entity_id: String,
    /// The entity type (echoed).
    pub entity_type: String,
    /// Properties constraints look at (a JSON object).
    pub entity_context: Option<Value>,
    /// The flag by id (positive ids only).
    pub flag_id: Option<i64>,
    /// The flag by key (when no id is given).
    pub flag_key: Option<String>,
    /// Include the engine's debug log.
    pub debug: bool,
}

/// One evaluation's answer.
#[derive(Debug)]
pub struct Decision {
    /// The query as evaluated (with the generated entity id, if any).
    pub query: EvalQuery,
    /// The flag's id (the asked id, or 0, when it does not exist).
    pub flag_id: i64,
    /// The flag's key (the asked key, or empty, when it does not exist).
    pub flag_key: String,
    /// The flag's snapshot id (0 when it does not exist).
    pub snapshot_id: i64,
    /// The flag's tags.
    pub tags: Vec<String>,
    /// The segment that matched.
    pub segment_id: Option<i64>,
    /// The variant served.
    pub variant_id: Option<i64>,
    /// Its key.
    pub variant_key: Option<String>,
    /// Its attachment.
    pub attachment: Option<Attachment>,
    /// Why.
    pub reason: Reason,
    /// The engine's debug log, when asked for.
    pub debug_log: Option<DebugLog>,
}

/// One entity of a batch.
#[derive(Debug, Clone, Default)]
pub struct Entity {
    /// The entity; a random one is generated when empty.
    pub entity_id: String,
    /// The entity type (echoed).
    pub entity_type: String,
    /// Properties constraints look at (a JSON object).
    pub entity_context: Option<Value>,
}

/// Several flags for several entities.
#[derive(Debug, Clone, Default)]
pub struct BatchQuery {
    /// The entities, at least one.
    pub entities: Vec<Entity>,
    /// Include the engine's debug log.
    pub debug: bool,
    /// Flags by id.
    pub flag_ids: Vec<i64>,
    /// Flags by key.
    pub flag_keys: Vec<String>,
    /// Flags by tag.
    pub flag_tags: Vec<String>,
    /// `ANY` (default) or `ALL` of `flag_tags`.
    pub flag_tags_operator: Option<String>,
}

fn checked_context(ctx: &Option<Value>) -> Result<()> {
    match ctx {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(EvaluationError::invalid(
            "entityContext",
            "entityContext must be a JSON object",
        )),
    }
}

fn random_entity_id() -> String {
    use rand::Rng;
    format!("randomly_generated_{}", rand::rng().random::<u32>())
}

fn tag_match(operator: Option<&str>) -> Result<TagMatch> {
    match operator {
        None | Some("") | Some("ANY") => Ok(TagMatch::Any),
        Some("ALL") => Ok(TagMatch::All),
        Some(other) => Err(EvaluationError::invalid(
            "flagTagsOperator",
            format!("flagTagsOperator must be \"ANY\" or \"ALL\", got {other:?}"),
        )),
    }
}

impl Evaluator {
    /// Evaluates one flag in the caller's environment and counts one evaluation.
    pub fn evaluate(&self, scope: &TenantScope, query: EvalQuery) -> Result<Decision> {
        scope.require::<perm::Client>()?;
        let snap = self.snapshot(scope);
        let mut served = Vec::with_capacity(1);
        let given = !query.entity_id.is_empty();
        let decision = self.decide(&snap, query, &mut served)?;
        self.record(scope, 1, &served);
        if given {
            self.expose(scope, &decision.query.entity_id, &served);
        }
        Ok(decision)
    }

    /// Evaluates every selected flag for every entity, entity by entity (flags by tag first, then by
    /// id, then by key), and counts the results.
    pub fn evaluate_batch(&self, scope: &TenantScope, batch: BatchQuery) -> Result<Vec<Decision>> {
        scope.require::<perm::Client>()?;
        if batch.entities.is_empty() {
            return Err(EvaluationError::invalid(
                "entities",
                "entities must list at least one entity",
            ));
        }
        if batch.flag_ids.is_empty() && batch.flag_keys.is_empty() && batch.flag_tags.is_empty() {
            return Err(EvaluationError::EmptySelector);
        }
        let op = tag_match(batch.flag_tags_operator.as_deref())?;
        let snap = self.snapshot(scope);
        let mut selectors: Vec<(Option<i64>, Option<String>)> = Vec::new();
        selectors.extend(
            snap.flag_ids_with_tags(&batch.flag_tags, op)
                .into_iter()
                .map(|id| (Some(id), None)),
        );
        selectors.extend(batch.flag_ids.iter().map(|id| (Some(*id), None)));
        selectors.extend(batch.flag_keys.into_iter().map(|k| (None, Some(k))));
        let total = selectors.len().saturating_mul(batch.entities.len());
        if total > self.max_batch_results() {
            return Err(EvaluationError::BatchTooLarge {
                results: total,
                limit: self.max_batch_results(),
            });
        }
        let mut decisions = Vec::with_capacity(total);
        let mut served = Vec::with_capacity(total);
        // Each entity with a given id, and where what it was served starts in `served`.
        let mut pending: Vec<(String, usize)> = Vec::new();
        for entity in batch.entities {
            checked_context(&entity.entity_context)?;
            let (given, first) = (!entity.entity_id.is_empty(), served.len());
            let entity_id = if entity.entity_id.is_empty() {
                random_entity_id()
            } else {
                entity.entity_id
            };
            for (flag_id, flag_key) in &selectors {
                let query = EvalQuery {
                    entity_id: entity_id.clone(),
                    entity_type: entity.entity_type.clone(),
                    entity_context: entity.entity_context.clone(),
                    flag_id: *flag_id,
                    flag_key: flag_key.clone(),
                    debug: batch.debug,
                };
                decisions.push(self.decide(&snap, query, &mut served)?);
            }
            if given {
                pending.push((entity_id, first));
            }
        }
        self.record(scope, decisions.len() as u64, &served);
        self.expose_batch(scope, &pending, &served);
        Ok(decisions)
    }

    /// Reports each entity's exposures: `pending` holds each entity and where its part of `served`
    /// starts (parts are in order and end where the next one starts).
    fn expose_batch(&self, scope: &TenantScope, pending: &[(String, usize)], served: &[Served]) {
        for (i, (entity, start)) in pending.iter().enumerate() {
            let end = pending.get(i + 1).map_or(served.len(), |next| next.1);
            self.expose(scope, entity, &served[*start..end]);
        }
    }

    /// Evaluates one query in `snap`, noting what it served.
    fn decide(
        &self,
        snap: &Snapshot,
        mut query: EvalQuery,
        served: &mut Vec<Served>,
    ) -> Result<Decision> {
        checked_context(&query.entity_context)?;
        let flag = match (query.flag_id, query.flag_key.as_deref()) {
            (Some(id), _) if id > 0 => FlagRef::Id(id),
            (_, Some(key)) if !key.is_empty() => FlagRef::Key(key),
            _ => {
                return Err(EvaluationError::invalid(
                    "flagID",
                    "flagID or flagKey is required",
                ));
            }
        };
        if query.entity_id.is_empty() {
            query.entity_id = random_entity_id();
        }
        let request = Request {
            flag,
            entity_id: &query.entity_id,
            context: query.entity_context.as_ref(),
            debug: query.debug,
        };
        let eval = evaluate(snap, &request);
        self.count(&eval, served);
        let flag = eval.flag;
        Ok(Decision {
            flag_id: flag.map_or(query.flag_id.unwrap_or(0), |f| f.id()),
            flag_key: flag.map_or_else(
                || query.flag_key.clone().unwrap_or_default(),
                |f| f.key().to_owned(),
            ),
            snapshot_id: flag.map_or(0, |f| f.snapshot_id()),
            tags: flag.map_or_else(Vec::new, |f| f.tags().to_vec()),
            segment_id: eval.segment_id,
            variant_id: eval.variant.map(|v| v.id),
            variant_key: eval.variant.map(|v| v.key.clone()),
            attachment: eval.variant.map(|v| v.attachment.clone()),
            reason: eval.reason,
            debug_log: eval.debug_log,
            query,
        })
    }
}
