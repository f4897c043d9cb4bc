//! Flagr's eval-cache export format (`{"Flags": [...]}` with Go field names), both ways.
//!
//! Importing a Flagr export keeps Flagr's assignments: such flags use `flagr_crc32` bucketing with the
//! original Flagr flag id as salt, and their variants are created in ascending Flagr id order so the
//! distribution windows keep their order.

use crate::Flag;
use crate::transfer::{ConstraintDoc, DistributionDoc, Document, FlagDoc, SegmentDoc, VariantDoc};
use serde::{Deserialize, Serialize};

/// A Flagr eval-cache export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlagrExport {
    /// The flags.
    #[serde(rename = "Flags")]
    pub flags: Vec<FlagrFlag>,
}

/// A flag in Flagr's Go field naming.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlagrFlag {
    /// Flagr's id.
    #[serde(rename = "ID")]
    pub id: i64,
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Enabled.
    #[serde(default)]
    pub enabled: bool,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<FlagrTag>>,
    /// Segments.
    #[serde(default)]
    pub segments: Option<Vec<FlagrSegment>>,
    /// Variants.
    #[serde(default)]
    pub variants: Option<Vec<FlagrVariant>>,
    /// Data records flag.
    #[serde(default)]
    pub data_records_enabled: bool,
    /// Entity type.
    #[serde(default)]
    pub entity_type: String,
    /// Notes.
    #[serde(default)]
    pub notes: String,
    /// Flagent's salt (absent in Flagr's own exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Flagent's bucketing (absent in Flagr's own exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucketing: Option<String>,
}

/// A tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlagrTag {
    /// Id.
    #[serde(rename = "ID", default)]
    pub id: i64,
    /// Value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// A segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlagrSegment {
    /// Id.
    #[serde(rename = "ID", default)]
    pub id: i64,
    /// Flag id.
    #[serde(rename = "FlagID", default)]
    pub flag_id: i64,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Rank.
    #[serde(default)]
    pub rank: i64,
    /// Rollout percent.
    #[serde(default)]
    pub rollout_percent: i64,
    /// Constraints.
    #[serde(default)]
    pub constraints: Option<Vec<FlagrConstraint>>,
    /// Distributions.
    #[serde(default)]
    pub distributions: Option<Vec<FlagrDistribution>>,
}

/// A constraint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlagrConstraint {
    /// Id.
    #[serde(rename = "ID", default)]
    pub id: i64,
    /// Segment id.
    #[serde(rename = "SegmentID", default)]
    pub segment_id: i64,
    /// Property.
    pub property: String,
    /// Operator.
    pub operator: String,
    /// Value.
    pub value: String,
}

/// A distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlagrDistribution {
    /// Id.
    #[serde(rename = "ID", default)]
    pub id: i64,
    /// Segment id.
    #[serde(rename = "SegmentID", default)]
    pub segment_id: i64,
    /// Variant id.
    #[serde(rename = "VariantID")]
    pub variant_id: i64,
    /// Variant key.
    #[serde(default)]
    pub variant_key: String,
    /// Percent.
    pub percent: i64,
}

/// A variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlagrVariant {
    /// Id.
    #[serde(rename = "ID")]
    pub id: i64,
    /// Flag id.
    #[serde(rename = "FlagID", default)]
    pub flag_id: i64,
    /// Key.
    pub key: String,
    /// Attachment.
    #[serde(default)]
    pub attachment: serde_json::Value,
}

/// Flags in Flagr's export shape, ascending id.
pub fn to_flagr(flags: &[Flag]) -> FlagrExport {
    FlagrExport {
        flags: flags.iter().map(flagr_flag).collect(),
    }
}

fn flagr_flag(f: &Flag) -> FlagrFlag {
    FlagrFlag {
        id: f.id,
        key: f.key.clone(),
        description: f.description.clone(),
        enabled: f.enabled,
        tags: Some(
            f.tags
                .iter()
                .map(|t| FlagrTag {
                    id: t.id,
                    value: t.value.clone(),
                })
                .collect(),
        ),
        segments: Some(
            f.segments
                .iter()
                .map(|s| FlagrSegment {
                    id: s.id,
                    flag_id: f.id,
                    description: s.description.clone(),
                    rank: s.rank,
                    rollout_percent: s.rollout_percent,
                    constraints: Some(
                        s.constraints
                            .iter()
                            .map(|c| FlagrConstraint {
                                id: c.id,
                                segment_id: s.id,
                                property: c.property.clone(),
                                operator: c.operator.clone(),
                                value: c.value.clone(),
                            })
                            .collect(),
                    ),
                    distributions: Some(
                        s.distributions
                            .iter()
                            .map(|d| FlagrDistribution {
                                id: d.id,
                                segment_id: s.id,
                                variant_id: d.variant_id,
                                variant_key: d.variant_key.clone(),
                                percent: d.percent,
                            })
                            .collect(),
                    ),
                })
                .collect(),
        ),
        variants: Some(
            f.variants
                .iter()
                .map(|v| FlagrVariant {
                    id: v.id,
                    flag_id: f.id,
                    key: v.key.clone(),
                    attachment: v.attachment.clone(),
                })
                .collect(),
        ),
        data_records_enabled: f.data_records_enabled,
        entity_type: f.entity_type.clone(),
        notes: f.notes.clone(),
        salt: Some(f.salt.clone()),
        bucketing: Some(f.bucketing.as_str().to_owned()),
    }
}

/// A Flagr export as an import document. Flags without Flagent's salt keep Flagr's hashing.
pub fn from_flagr(export: FlagrExport) -> Document {
    let mut flags = export.flags;
    flags.sort_by_key(|f| f.id);
    Document {
        flags: flags.into_iter().map(flag_doc).collect(),
    }
}

fn flag_doc(f: FlagrFlag) -> FlagDoc {
    let mut variants = f.variants.unwrap_or_default();
    variants.sort_by_key(|v| v.id);
    let key_of = |id: i64, fallback: &str| {
        variants
            .iter()
            .find(|v| v.id == id)
            .map_or_else(|| fallback.to_owned(), |v| v.key.clone())
    };
    let (salt, bucketing) = match (f.salt, f.bucketing) {
        (Some(salt), bucketing) => (Some(salt), bucketing),
        (None, _) => (Some(f.id.to_string()), Some("flagr_crc32".to_owned())),
    };
    let segments = f
        .segments
        .unwrap_or_default()
        .into_iter()
        .map(|s| SegmentDoc {
            description: s.description,
            rank: s.rank,
            rollout_percent: s.rollout_percent,
            constraints: s
                .constraints
                .unwrap_or_default()
                .into_iter()
                .map(|c| ConstraintDoc {
                    property: c.property,
                    operator: c.operator,
                    value: c.value,
                })
                .collect(),
            distributions: s
                .distributions
                .unwrap_or_default()
                .into_iter()
                .map(|d| DistributionDoc {
                    variant_key: key_of(d.variant_id, &d.variant_key),
                    percent: d.percent,
                })
                .collect(),
        })
        .collect();
    FlagDoc {
        key: f.key,
        description: if f.description.trim().is_empty() {
            "imported from Flagr".to_owned()
        } else {
            f.description
        },
        enabled: f.enabled,
        salt,
        bucketing,
        entity_type: (!f.entity_type.is_empty()).then_some(f.entity_type),
        notes: f.notes,
        data_records_enabled: f.data_records_enabled,
        default_variant: None,
        depends_on: Vec::new(),
        tags: f
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.value)
            .collect(),
        variants: variants
            .into_iter()
            .map(|v| VariantDoc {
                key: v.key,
                attachment: v.attachment,
            })
            .collect(),
        segments,
    }
}
