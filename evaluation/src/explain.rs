//! Explanations for the Debug Console: a flag (or every flag) evaluated for an entity and context with
//! the engine's debug log, from the same snapshot and engine as every answer.
//!
//! Invariant: an explanation is not an answer to an application: it counts nothing.

use crate::evaluator::Evaluator;
use flagent_eval::{Attachment, FlagRef, Reason, Request, SegmentDebugLog, Snapshot, evaluate};
use flagent_types::{Denied, TenantScope, perm};
use serde_json::Value;
use std::sync::Arc;

/// One flag's evaluation, explained.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The flag's key, as asked.
    pub flag_key: String,
    /// The flag's id, if it exists.
    pub flag_id: Option<i64>,
    /// The variant served.
    pub variant_key: Option<String>,
    /// Its attachment.
    pub attachment: Option<Attachment>,
    /// Why.
    pub reason: Reason,
    /// The segment that matched.
    pub segment_id: Option<i64>,
    /// The engine's summary.
    pub summary: String,
    /// What the engine found in each segment it visited.
    pub segments: Vec<SegmentDebugLog>,
}

/// The caller's environment at one snapshot, for explaining several evaluations.
pub struct Console {
    snapshot: Arc<Snapshot>,
}

impl Console {
    /// The keys of every flag, sorted.
    pub fn flag_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.snapshot.flags().map(|f| f.key().to_owned()).collect();
        keys.sort();
        keys
    }

    /// Explains the flag `key`, or every flag (sorted by key) when `key` is empty, for `entity_id` and
    /// `context`.
    pub fn explain(&self, key: &str, entity_id: &str, context: Option<&Value>) -> Vec<Explained> {
        let keys = if key.is_empty() {
            self.flag_keys()
        } else {
            vec![key.to_owned()]
        };
        keys.into_iter()
            .map(|key| self.one(key, entity_id, context))
            .collect()
    }

    fn one(&self, flag_key: String, entity_id: &str, context: Option<&Value>) -> Explained {
        let evaluation = evaluate(
            &self.snapshot,
            &Request {
                flag: FlagRef::Key(&flag_key),
                entity_id,
                context,
                debug: true,
            },
        );
        let (summary, segments) = evaluation
            .debug_log
            .map(|log| (log.msg, log.segment_debug_logs))
            .unwrap_or_default();
        Explained {
            flag_id: evaluation.flag.map(|f| f.id()),
            variant_key: evaluation.variant.map(|v| v.key.clone()),
            attachment: evaluation.variant.map(|v| v.attachment.clone()),
            reason: evaluation.reason,
            segment_id: evaluation.segment_id,
            summary,
            segments,
            flag_key,
        }
    }
}

impl Evaluator {
    /// The Debug Console over the caller's environment's current snapshot, for a scope with
    /// `flags:evaluate` (server side).
    pub fn console(&self, scope: &TenantScope) -> Result<Console, Denied> {
        scope.require::<perm::Evaluate>()?;
        Ok(Console {
            snapshot: self.snapshot(scope),
        })
    }
}
