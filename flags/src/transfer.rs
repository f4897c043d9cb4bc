//! Import and export: the GitOps document (YAML or JSON), Flagr's eval-cache export, and the
//! all-or-nothing import of either.
//!
//! Invariant: an import writes nothing unless every item of the document is valid; all problems are
//! reported at once, each with its path in the document (`flags[2].segments[0].constraints[1].value`).

use crate::Flag;
use flagent_eval::Prerequisite;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A set of flags as configured in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The flags.
    pub flags: Vec<FlagDoc>,
}

/// One flag in a [`Document`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlagDoc {
    /// The key (identifies the flag across imports).
    pub key: String,
    /// Free text.
    pub description: String,
    /// Whether the flag is on in the target environment.
    #[serde(default)]
    pub enabled: bool,
    /// The salt (default: the key, or kept when the flag exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// `murmur3` (default) or `flagr_crc32`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucketing: Option<String>,
    /// The entity type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: String,
    /// Whether evaluations go to data recorders.
    #[serde(default)]
    pub data_records_enabled: bool,
    /// The default variant key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_variant: Option<String>,
    /// Prerequisites.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub depends_on: Vec<Prerequisite>,
    /// Tag values.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Variants, in id order.
    #[serde(default)]
    pub variants: Vec<VariantDoc>,
    /// Segments.
    #[serde(default)]
    pub segments: Vec<SegmentDoc>,
}

/// A variant in a [`FlagDoc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantDoc {
    /// The key.
    pub key: String,
    /// A JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attachment: serde_json::Value,
}

/// A segment in a [`FlagDoc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentDoc {
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Visiting order.
    #[serde(default)]
    pub rank: i64,
    /// 0..=100.
    pub rollout_percent: i64,
    /// AND-ed constraints.
    #[serde(default)]
    pub constraints: Vec<ConstraintDoc>,
    /// Variant shares by key.
    #[serde(default)]
    pub distributions: Vec<DistributionDoc>,
}

/// A constraint in a [`SegmentDoc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintDoc {
    /// Property path.
    pub property: String,
    /// Operator.
    pub operator: String,
    /// Typed literal.
    pub value: String,
}

/// A distribution in a [`SegmentDoc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistributionDoc {
    /// The variant's key.
    pub variant_key: String,
    /// 0..=100.
    pub percent: i64,
}

/// What an import did (or, in a dry run, would do), by flag key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Flags that did not exist.
    pub created: Vec<String>,
    /// Flags that changed.
    pub updated: Vec<String>,
    /// Flags already exactly as in the document.
    pub unchanged: Vec<String>,
}

/// One problem found in an import document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportProblem {
    /// Where in the document.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A flag view as a document entry (the salt is kept so assignments survive a round trip).
pub fn flag_doc(flag: &Flag) -> FlagDoc {
    let variant_key = |id: i64| {
        flag.variants
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.key.clone())
            .unwrap_or_default()
    };
    FlagDoc {
        key: flag.key.clone(),
        description: flag.description.clone(),
        enabled: flag.enabled,
        salt: Some(flag.salt.clone()),
        bucketing: Some(flag.bucketing.as_str().to_owned()),
        entity_type: (!flag.entity_type.is_empty()).then(|| flag.entity_type.clone()),
        notes: flag.notes.clone(),
        data_records_enabled: flag.data_records_enabled,
        default_variant: flag.default_variant.clone(),
        depends_on: flag.depends_on.clone(),
        tags: flag.tags.iter().map(|t| t.value.clone()).collect(),
        variants: flag
            .variants
            .iter()
            .map(|v| VariantDoc {
                key: v.key.clone(),
                attachment: v.attachment.clone(),
            })
            .collect(),
        segments: flag
            .segments
            .iter()
            .map(|s| SegmentDoc {
                description: s.description.clone(),
                rank: s.rank,
                rollout_percent: s.rollout_percent,
                constraints: s
                    .constraints
                    .iter()
                    .map(|c| ConstraintDoc {
                        property: c.property.clone(),
                        operator: c.operator.clone(),
                        value: c.value.clone(),
                    })
                    .collect(),
                distributions: s
                    .distributions
                    .iter()
                    .map(|d| DistributionDoc {
                        variant_key: variant_key(d.variant_id),
                        percent: d.percent,
                    })
                    .collect(),
            })
            .collect(),
    }
}
