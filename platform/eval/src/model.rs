//! The configuration the engine evaluates: one environment's flags as plain, serialisable data.
//!
//! This is what storage loads, what the client-side snapshot serves and what exports carry.
//! Nothing here is validated: [`crate::Snapshot::build`] compiles whatever it is given and the engine
//! degrades bad parts (an invalid constraint never matches) instead of failing.

use crate::Attachment;
use serde::{Deserialize, Serialize};

/// How a flag turns an entity id into a bucket in `0..1000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Bucketing {
    /// `murmur3_x86_32(salt ++ ":" ++ entityID, seed 0) % 1000`.
    #[default]
    #[serde(rename = "murmur3")]
    Murmur3,
    /// Flagr's formula, `crc32_ieee(salt ++ entityID) % 1000`, where the salt is the decimal Flagr flag id.
    #[serde(rename = "flagr_crc32")]
    FlagrCrc32,
}

impl Bucketing {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucketing::Murmur3 => "murmur3",
            Bucketing::FlagrCrc32 => "flagr_crc32",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "murmur3" => Some(Bucketing::Murmur3),
            "flagr_crc32" => Some(Bucketing::FlagrCrc32),
            _ => None,
        }
    }
}

/// One flag as configured in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagConfig {
    /// The flag's id.
    pub id: i64,
    /// The flag's key.
    pub key: String,
    /// The hashing salt (the key at creation; kept across renames).
    pub salt: String,
    /// The bucketing algorithm.
    #[serde(default)]
    pub bucketing: Bucketing,
    /// Whether the flag is on in this environment.
    pub enabled: bool,
    /// The id of the newest saved snapshot of this flag (0 when none).
    #[serde(default)]
    pub snapshot_id: i64,
    /// Tag values.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The entity type, if set.
    #[serde(default)]
    pub entity_type: Option<String>,
    /// Variants (shared by every environment).
    #[serde(default)]
    pub variants: Vec<VariantConfig>,
    /// Segments in any order; the engine visits them by rank, then id.
    #[serde(default)]
    pub segments: Vec<SegmentConfig>,
    /// Flags that must give a variant (or a given one) before this one is evaluated.
    #[serde(default)]
    pub depends_on: Vec<Prerequisite>,
    /// The variant key value-returning surfaces give when no variant is picked.
    #[serde(default)]
    pub default_variant: Option<String>,
}

/// A variant of a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantConfig {
    /// The variant's id.
    pub id: i64,
    /// The variant's key.
    pub key: String,
    /// Any JSON object (`null` when none).
    #[serde(default)]
    pub attachment: Attachment,
}

/// A segment of a flag in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentConfig {
    /// The segment's id.
    pub id: i64,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Lower ranks are visited first.
    pub rank: i64,
    /// 0..=100; values outside are clamped.
    pub rollout_percent: i64,
    /// AND-ed constraints.
    #[serde(default)]
    pub constraints: Vec<ConstraintConfig>,
    /// How matched entities are split across variants.
    #[serde(default)]
    pub distributions: Vec<DistributionConfig>,
}

/// A constraint as stored: the operator and the literal are still text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintConfig {
    /// The constraint's id.
    pub id: i64,
    /// A property path into the context: `a.b`, `items[0]`, `items[-1]`.
    pub property: String,
    /// One of the operators of `evaluation.md` (`EQ`, `IN`, `EREG`, …).
    pub operator: String,
    /// The typed literal as written: `"CA"`, `18`, `["a","b"]`, `{other.prop}`, `semver:"1.2.3"`, `time:"…"`.
    pub value: String,
}

/// One variant's share of a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionConfig {
    /// The distribution's id.
    #[serde(default)]
    pub id: i64,
    /// The variant it gives.
    pub variant_id: i64,
    /// That variant's key (informative; the id decides).
    #[serde(default)]
    pub variant_key: String,
    /// 0..=100.
    pub percent: i64,
}

/// A prerequisite: `flag_key` must yield a variant (`variant_key` when given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prerequisite {
    /// The flag that must be evaluated first.
    pub flag_key: String,
    /// The variant it must yield; any variant when absent.
    #[serde(default)]
    pub variant_key: Option<String>,
}
