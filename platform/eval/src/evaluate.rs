//! [`evaluate`]: one request against one [`Snapshot`], following the algorithm of `evaluation.md`.
//!
//! Invariants: evaluation is pure and total: it never panics, reads no clock and draws no random number
//! (the caller supplies the entity id); with `debug` off it allocates nothing and returns references into
//! the snapshot.
//! Segments are visited by rank, then id; the first whose constraints all match decides, even when its
//! rollout leaves the entity out.

use crate::bucketing::{Pick, Split, bucket};
use crate::flag::CompiledFlag;
use crate::model::VariantConfig;
use crate::outcome::{DebugLog, Outcome, Reason, SegmentDebugLog};
use crate::prerequisites::{self, Walk};
use crate::snapshot::Snapshot;
use serde_json::{Map, Value};

/// How a request names its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagRef<'a> {
    /// By id.
    Id(i64),
    /// By key.
    Key(&'a str),
}

/// One evaluation request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The flag to evaluate.
    pub flag: FlagRef<'a>,
    /// The entity's id (the HTTP layer fills in a generated one when the caller gave none).
    pub entity_id: &'a str,
    /// The entity context; anything but a JSON object counts as an empty object.
    pub context: Option<&'a Value>,
    /// Whether to build a [`DebugLog`].
    pub debug: bool,
}

/// The result of one evaluation, borrowing from the snapshot.
#[derive(Debug, Clone)]
pub struct Evaluation<'s> {
    /// The flag evaluated; `None` when not found.
    pub flag: Option<&'s CompiledFlag>,
    /// The segment that matched, whether or not it gave a variant.
    pub segment_id: Option<i64>,
    /// The variant picked.
    pub variant: Option<&'s VariantConfig>,
    /// Why.
    pub reason: Reason,
    /// Present when the request asked for debugging.
    pub debug_log: Option<DebugLog>,
}

/// Evaluates one flag for one entity.
pub fn evaluate<'s>(snapshot: &'s Snapshot, request: &Request<'_>) -> Evaluation<'s> {
    let found = match request.flag {
        FlagRef::Id(id) => snapshot.flag_by_id(id),
        FlagRef::Key(key) => snapshot.flag_by_key(key),
    };
    let Some(flag) = found else {
        return Evaluation {
            flag: None,
            segment_id: None,
            variant: None,
            reason: Reason::FlagNotFound,
            debug_log: request.debug.then(|| DebugLog {
                msg: "flag not found".to_owned(),
                segment_debug_logs: Vec::new(),
            }),
        };
    };
    let context = request.context.and_then(Value::as_object);
    let mut trace = request.debug.then(Vec::new);
    let mut walk = Walk::start(flag.id());
    let outcome = decide(
        snapshot,
        flag,
        request.entity_id,
        context,
        &mut walk,
        trace.as_mut(),
    );
    Evaluation {
        flag: Some(flag),
        segment_id: outcome.segment_id(),
        variant: outcome.variant(),
        reason: outcome.reason(),
        debug_log: trace.map(|segment_debug_logs| DebugLog {
            msg: outcome.message(),
            segment_debug_logs,
        }),
    }
}

/// Decides one flag: disabled, then prerequisites, then segments.
pub(crate) fn decide<'s>(
    snapshot: &'s Snapshot,
    flag: &'s CompiledFlag,
    entity_id: &str,
    context: Option<&Map<String, Value>>,
    walk: &mut Walk,
    trace: Option<&mut Vec<SegmentDebugLog>>,
) -> Outcome<'s> {
    if !flag.enabled() {
        return Outcome::Disabled;
    }
    if let Some(failed) = prerequisites::check(snapshot, flag, entity_id, context, walk) {
        return failed;
    }
    visit_segments(flag, entity_id, context, trace)
}

/// Visits segments in order until one matches, logging each visit when tracing.
fn visit_segments<'s>(
    flag: &'s CompiledFlag,
    entity_id: &str,
    context: Option<&Map<String, Value>>,
    mut trace: Option<&mut Vec<SegmentDebugLog>>,
) -> Outcome<'s> {
    for segment in flag.segments() {
        let segment_id = segment.id;
        if let Some((constraint, miss)) = segment.first_miss(context) {
            if let Some(logs) = trace.as_deref_mut() {
                let msg = constraint.describe(&miss);
                logs.push(SegmentDebugLog { segment_id, msg });
            }
            continue;
        }
        let config = flag.config();
        let bucket = bucket(config.bucketing, &config.salt, entity_id);
        let pick = segment.split.pick(bucket);
        if let Some(logs) = trace.as_deref_mut() {
            let msg = describe_pick(flag, &segment.split, bucket, &pick);
            logs.push(SegmentDebugLog { segment_id, msg });
        }
        return picked(flag, segment_id, pick);
    }
    Outcome::NoSegment
}

/// The outcome of the matched segment.
fn picked<'s>(flag: &'s CompiledFlag, segment: i64, pick: Pick<'_>) -> Outcome<'s> {
    match pick {
        Pick::Variant(window, index) => match flag.variant(index) {
            Some(variant) => Outcome::Picked {
                segment,
                variant,
                whole: window.is_whole(),
            },
            None => Outcome::Dangling {
                segment,
                variant_id: window.variant_id,
            },
        },
        Pick::Excluded(_) => Outcome::Excluded { segment },
        Pick::Dangling(window) => Outcome::Dangling {
            segment,
            variant_id: window.variant_id,
        },
        Pick::Unowned => Outcome::Unowned { segment },
    }
}

/// The debug-log line of the matched segment: bucket, window, rollout and decision.
fn describe_pick(flag: &CompiledFlag, split: &Split, bucket: u32, pick: &Pick<'_>) -> String {
    let rollout = split.rollout();
    match pick {
        Pick::Variant(window, index) => {
            let key = flag
                .variant(*index)
                .map_or("", |variant| variant.key.as_str());
            format!(
                "matched: bucket {bucket} is in window [{}, {}) of variant {} ({key:?}); rollout {rollout}%: the entity is in",
                window.lo, window.hi, window.variant_id
            )
        }
        Pick::Excluded(window) => format!(
            "matched: bucket {bucket} is in window [{}, {}) of variant {}; rollout {rollout}%: the entity is out",
            window.lo, window.hi, window.variant_id
        ),
        Pick::Dangling(window) => format!(
            "matched: bucket {bucket} is in window [{}, {}) of variant {}, which the flag does not have",
            window.lo, window.hi, window.variant_id
        ),
        Pick::Unowned if split.is_empty() => {
            "matched: the segment has no distributions, so no variant".to_owned()
        }
        Pick::Unowned => format!(
            "matched: bucket {bucket} is past the last window (the distributions cover [0, {}))",
            split.covered()
        ),
    }
}
