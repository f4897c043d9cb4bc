//! What an evaluation decided: the public [`Reason`] and debug-log shapes, and the internal [`Outcome`]
//! from which the reason, the segment, the variant and the summary message are all derived.
//!
//! Invariant: an [`Outcome`] borrows from the snapshot and allocates nothing; text is produced only for a
//! debug log.

use crate::model::VariantConfig;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an evaluation gave what it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// A segment matched and gave 100% to the picked variant.
    TargetingMatch,
    /// A segment matched and split its entities; this entity's bucket picked the variant.
    Split,
    /// No variant: no segment matched, or the matched segment's rollout or windows left the entity out.
    Default,
    /// The flag is disabled in this environment.
    Disabled,
    /// A prerequisite flag gave no variant or not the one required.
    PrerequisiteFailed,
    /// No flag with that id or key.
    FlagNotFound,
    /// Stored data is inconsistent (a dangling variant, a prerequisite cycle); no variant.
    Error,
}

impl Reason {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::FlagNotFound => "FLAG_NOT_FOUND",
            Reason::Error => "ERROR",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Flagr's `evalDebugLog`: a summary and one entry per segment visited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugLog {
    /// What happened, in one line.
    pub msg: String,
    /// One entry per segment visited, in visiting order.
    pub segment_debug_logs: Vec<SegmentDebugLog>,
}

/// Why a segment did or did not match, or how its bucketing went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentDebugLog {
    /// The segment's id.
    #[serde(rename = "segmentID")]
    pub segment_id: i64,
    /// What happened in it.
    pub msg: String,
}

/// Why a prerequisite failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unmet<'s> {
    /// No flag has the key.
    Missing,
    /// The dependency gave no variant.
    NoVariant,
    /// The dependency gave another variant.
    Other(&'s VariantConfig),
}

/// The decision for one flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome<'s> {
    Disabled,
    Prerequisite {
        key: &'s str,
        needed: Option<&'s str>,
        unmet: Unmet<'s>,
    },
    /// Prerequisites loop back to `key`, which is already being evaluated.
    Cycle {
        key: &'s str,
    },
    /// Prerequisites nest too deep or need too many evaluations, at `key`.
    TooDeep {
        key: &'s str,
    },
    NoSegment,
    Picked {
        segment: i64,
        variant: &'s VariantConfig,
        whole: bool,
    },
    Excluded {
        segment: i64,
    },
    Unowned {
        segment: i64,
    },
    Dangling {
        segment: i64,
        variant_id: i64,
    },
}

impl<'s> Outcome<'s> {
    pub(crate) fn reason(&self) -> Reason {
        match self {
            Outcome::Disabled => Reason::Disabled,
            Outcome::Prerequisite { .. } => Reason::PrerequisiteFailed,
            Outcome::Cycle { .. } | Outcome::TooDeep { .. } | Outcome::Dangling { .. } => {
                Reason::Error
            }
            Outcome::NoSegment | Outcome::Excluded { .. } | Outcome::Unowned { .. } => {
                Reason::Default
            }
            Outcome::Picked { whole: true, .. } => Reason::TargetingMatch,
            Outcome::Picked { whole: false, .. } => Reason::Split,
        }
    }

    pub(crate) fn segment_id(&self) -> Option<i64> {
        match *self {
            Outcome::Picked { segment, .. }
            | Outcome::Excluded { segment }
            | Outcome::Unowned { segment }
            | Outcome::Dangling { segment, .. } => Some(segment),
            _ => None,
        }
    }

    pub(crate) fn variant(&self) -> Option<&'s VariantConfig> {
        match *self {
            Outcome::Picked { variant, .. } => Some(variant),
            _ => None,
        }
    }

    /// The summary line of the debug log.
    pub(crate) fn message(&self) -> String {
        match self {
            Outcome::Disabled => "flag disabled".to_owned(),
            Outcome::Prerequisite { key, needed, unmet } => {
                prerequisite_message(key, *needed, unmet)
            }
            Outcome::Cycle { key } => {
                format!("prerequisites form a cycle through flag {key:?}; no variant")
            }
            Outcome::TooDeep { key } => format!(
                "prerequisites nest too deep (more than {} levels or {} evaluations) at flag {key:?}; no variant",
                crate::prerequisites::MAX_DEPTH,
                crate::prerequisites::MAX_EVALUATIONS
            ),
            Outcome::NoSegment => "no segment matched".to_owned(),
            Outcome::Picked {
                segment, variant, ..
            } => {
                format!(
                    "matched segment {segment}: variant {} ({:?})",
                    variant.id, variant.key
                )
            }
            Outcome::Excluded { segment } => {
                format!("matched segment {segment}: the rollout left the entity out; no variant")
            }
            Outcome::Unowned { segment } => {
                format!(
                    "matched segment {segment}: no distribution owns the entity's bucket; no variant"
                )
            }
            Outcome::Dangling {
                segment,
                variant_id,
            } => format!(
                "matched segment {segment}: its distribution names variant {variant_id}, which the flag does not have; no variant"
            ),
        }
    }
}

/// The summary line for a failed prerequisite.
fn prerequisite_message(key: &str, needed: Option<&str>, unmet: &Unmet<'_>) -> String {
    let head = format!("prerequisite {key:?} failed");
    match (unmet, needed) {
        (Unmet::Missing, _) => format!("{head}: no flag has that key"),
        (Unmet::NoVariant, _) => format!("{head}: it gave no variant"),
        (Unmet::Other(got), Some(needed)) => {
            format!("{head}: it gave variant {:?}, not {needed:?}", got.key)
        }
        (Unmet::Other(got), None) => format!("{head}: it gave variant {:?}", got.key),
    }
}
