//! Turns stored rows into [`Flag`] views and into the engine's [`FlagConfig`]s.
//!
//! Invariant: both come from the same [`FlagRows`], so what the API shows is what evaluation uses.

use crate::model::{Constraint, Distribution, Flag, Segment, Tag, Variant};
use chrono::{DateTime, Utc};
use flagent_eval::{
    Bucketing, ConstraintConfig, DistributionConfig, FlagConfig, Prerequisite, SegmentConfig,
    VariantConfig,
};
use flagent_storage::FlagRows;
use flagent_storage::entities::{distribution, flag};
use std::collections::HashMap;

/// Names the assembled views need besides the rows.
pub(crate) struct Names<'a> {
    /// The environment's key.
    pub(crate) environment: &'a str,
    /// The project's key.
    pub(crate) project: &'a str,
}

/// RFC 3339 text of a millisecond timestamp.
pub(crate) fn rfc3339(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The prerequisites stored on a flag row (bad stored JSON reads as none).
pub(crate) fn prerequisites(row: &flag::Model) -> Vec<Prerequisite> {
    serde_json::from_value(row.depends_on.clone()).unwrap_or_default()
}

/// Rows grouped by flag.
struct Grouped<'r> {
    enabled: HashMap<i64, bool>,
    variants: HashMap<i64, Vec<Variant>>,
    segments: HashMap<i64, Vec<Segment>>,
    tags: HashMap<i64, Vec<Tag>>,
    rows: &'r FlagRows,
}

fn group(rows: &FlagRows) -> Grouped<'_> {
    let mut constraints: HashMap<i64, Vec<Constraint>> = HashMap::new();
    for c in &rows.constraints {
        constraints
            .entry(c.segment_id)
            .or_default()
            .push(Constraint {
                id: c.id,
                property: c.property.clone(),
                operator: c.operator.clone(),
                value: c.value.clone(),
            });
    }
    let mut distributions: HashMap<i64, Vec<&distribution::Model>> = HashMap::new();
    for d in &rows.distributions {
        distributions.entry(d.segment_id).or_default().push(d);
    }
    let mut segments: HashMap<i64, Vec<Segment>> = HashMap::new();
    for s in &rows.segments {
        let mut dists: Vec<Distribution> = distributions
            .remove(&s.id)
            .unwrap_or_default()
            .into_iter()
            .map(|d| Distribution {
                id: d.id,
                percent: d.percent,
                variant_key: d.variant_key.clone(),
                variant_id: d.variant_id,
            })
            .collect();
        dists.sort_by_key(|d| d.variant_id);
        segments.entry(s.flag_id).or_default().push(Segment {
            id: s.id,
            description: s.description.clone(),
            constraints: constraints.remove(&s.id).unwrap_or_default(),
            distributions: dists,
            rank: s.rank,
            rollout_percent: s.rollout_percent,
        });
    }
    for list in segments.values_mut() {
        list.sort_by_key(|s| (s.rank, s.id));
    }
    let mut variants: HashMap<i64, Vec<Variant>> = HashMap::new();
    for v in &rows.variants {
        variants.entry(v.flag_id).or_default().push(Variant {
            id: v.id,
            key: v.key.clone(),
            attachment: v.attachment.clone(),
        });
    }
    let mut tags: HashMap<i64, Vec<Tag>> = HashMap::new();
    for (flag_id, t) in &rows.tags {
        tags.entry(*flag_id).or_default().push(Tag {
            id: t.id,
            value: t.value.clone(),
        });
    }
    Grouped {
        enabled: rows.states.iter().map(|s| (s.flag_id, s.enabled)).collect(),
        variants,
        segments,
        tags,
        rows,
    }
}

/// Every flag in `rows` as its API view, ascending id.
pub(crate) fn flags(rows: &FlagRows, names: &Names<'_>) -> Vec<Flag> {
    let mut g = group(rows);
    g.rows
        .flags
        .iter()
        .map(|f| Flag {
            id: f.id,
            key: f.key.clone(),
            description: f.description.clone(),
            enabled: g.enabled.get(&f.id).copied().unwrap_or(false),
            tags: g.tags.remove(&f.id).unwrap_or_default(),
            segments: g.segments.remove(&f.id).unwrap_or_default(),
            variants: g.variants.remove(&f.id).unwrap_or_default(),
            data_records_enabled: f.data_records_enabled,
            entity_type: f.entity_type.clone().unwrap_or_default(),
            notes: f.notes.clone(),
            created_by: f.created_by.clone(),
            updated_by: f.updated_by.clone(),
            updated_at: rfc3339(f.updated_at),
            salt: f.salt.clone(),
            bucketing: Bucketing::parse(&f.bucketing).unwrap_or_default(),
            depends_on: prerequisites(f),
            default_variant: f.default_variant.clone(),
            environment: names.environment.to_owned(),
            project_key: names.project.to_owned(),
            archived: f.deleted_at.is_some(),
            version: f.version,
        })
        .collect()
}

/// Every live flag in `rows` as engine configuration, ascending id.
pub(crate) fn configs(rows: &FlagRows) -> Vec<FlagConfig> {
    let snapshots: HashMap<i64, i64> = rows.snapshot_ids.iter().copied().collect();
    let names = Names {
        environment: "",
        project: "",
    };
    flags(rows, &names)
        .into_iter()
        .filter(|f| !f.archived)
        .map(|f| config(f, &snapshots))
        .collect()
}

/// One flag view as engine configuration.
pub(crate) fn config(f: Flag, snapshots: &HashMap<i64, i64>) -> FlagConfig {
    FlagConfig {
        id: f.id,
        snapshot_id: snapshots.get(&f.id).copied().unwrap_or(0),
        key: f.key,
        salt: f.salt,
        bucketing: f.bucketing,
        enabled: f.enabled,
        tags: f.tags.into_iter().map(|t| t.value).collect(),
        entity_type: (!f.entity_type.is_empty()).then_some(f.entity_type),
        variants: f
            .variants
            .into_iter()
            .map(|v| VariantConfig {
                id: v.id,
                key: v.key,
                attachment: v.attachment.into(),
            })
            .collect(),
        segments: f.segments.into_iter().map(segment_config).collect(),
        depends_on: f.depends_on,
        default_variant: f.default_variant,
    }
}

fn segment_config(s: Segment) -> SegmentConfig {
    SegmentConfig {
        id: s.id,
        description: s.description,
        rank: s.rank,
        rollout_percent: s.rollout_percent,
        constraints: s
            .constraints
            .into_iter()
            .map(|c| ConstraintConfig {
                id: c.id,
                property: c.property,
                operator: c.operator,
                value: c.value,
            })
            .collect(),
        distributions: s
            .distributions
            .into_iter()
            .map(|d| DistributionConfig {
                id: d.id,
                variant_id: d.variant_id,
                variant_key: d.variant_key,
                percent: d.percent,
            })
            .collect(),
    }
}
