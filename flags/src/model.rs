//! Flags and what they hold, as the API shows them and as snapshots store them (ADR 0001).
//!
//! Field names are Flagr's camelCase; empty lists serialise as `[]`, never `null`.

use flagent_eval::{Bucketing, Prerequisite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A flag as seen in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    /// The flag's id.
    pub id: i64,
    /// Unique key within the project.
    pub key: String,
    /// Free text.
    pub description: String,
    /// Whether the flag is on in this environment.
    pub enabled: bool,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Segments in this environment, by rank then id.
    pub segments: Vec<Segment>,
    /// Variants (shared by every environment), ascending id.
    pub variants: Vec<Variant>,
    /// Whether evaluations are sent to data recorders.
    pub data_records_enabled: bool,
    /// The entity type recorded with evaluations (`""` when unset).
    pub entity_type: String,
    /// Usage notes in Markdown.
    pub notes: String,
    /// Who created the flag.
    pub created_by: String,
    /// Who changed it last.
    pub updated_by: String,
    /// When it was changed last (RFC 3339).
    pub updated_at: String,
    /// The bucketing salt; set to the key at creation and kept across renames.
    pub salt: String,
    /// `murmur3` or `flagr_crc32`.
    #[schema(value_type = String)]
    pub bucketing: Bucketing,
    /// Prerequisite flags.
    #[schema(value_type = Vec<Object>)]
    pub depends_on: Vec<Prerequisite>,
    /// The variant key value-returning surfaces give when no variant is picked.
    pub default_variant: Option<String>,
    /// The environment this view belongs to.
    pub environment: String,
    /// The project the flag belongs to.
    pub project_key: String,
    /// Whether the flag is deleted (restorable).
    pub archived: bool,
    /// Optimistic-concurrency version; send it back as `If-Match` or `version`.
    pub version: i64,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    /// The tag's id.
    pub id: i64,
    /// The tag's text.
    pub value: String,
}

/// A segment of a flag in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// The segment's id.
    pub id: i64,
    /// Free text.
    pub description: String,
    /// AND-ed constraints, ascending id.
    pub constraints: Vec<Constraint>,
    /// Variant shares, ascending variant id.
    pub distributions: Vec<Distribution>,
    /// Lower ranks are evaluated first.
    pub rank: i64,
    /// Share of matched entities that get a variant, 0..=100.
    pub rollout_percent: i64,
}

/// A constraint of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Constraint {
    /// The constraint's id.
    pub id: i64,
    /// Property path into the entity context.
    pub property: String,
    /// Operator (`EQ`, `IN`, `EREG`, …).
    pub operator: String,
    /// Typed literal as written (`"CA"`, `18`, `["a","b"]`…).
    pub value: String,
}

/// One variant's share of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    /// The distribution's id.
    pub id: i64,
    /// 0..=100; a segment's shares sum to 100.
    pub percent: i64,
    /// The variant's key.
    #[serde(rename = "variantKey")]
    pub variant_key: String,
    /// The variant's id.
    #[serde(rename = "variantID")]
    pub variant_id: i64,
}

/// A variant of a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    /// The variant's id.
    pub id: i64,
    /// Unique key within the flag.
    pub key: String,
    /// Any JSON object.
    #[schema(value_type = Object)]
    pub attachment: serde_json::Value,
}

/// A saved copy of a flag after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlagSnapshot {
    /// The snapshot's id.
    pub id: i64,
    /// Who made the change.
    pub updated_by: String,
    /// The flag after the change.
    pub flag: Flag,
    /// When (RFC 3339).
    pub updated_at: String,
}
