//! Input checks shared by every use case and by import, each failing with a field and a fix.

use crate::{FlagPatch, FlagsError, Result};
use flagent_eval::{Bucketing, Prerequisite};
use flagent_storage::TenantTx;
use flagent_storage::entities::{entity_type, flag};
use std::collections::HashMap;

/// Longest description or note accepted.
const MAX_TEXT: usize = 10_000;

/// A non-empty description of at most 10,000 characters.
pub(crate) fn description(text: &str) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(FlagsError::invalid(
            "description",
            "description must not be empty",
        ));
    }
    bounded("description", trimmed)
}

/// Text of at most 10,000 characters.
pub(crate) fn bounded(field: &str, text: &str) -> Result<String> {
    if text.chars().count() > MAX_TEXT {
        return Err(FlagsError::invalid(
            field,
            format!("{field} must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// A variant key or tag value, which follow the rule of flag keys (flag keys themselves arrive parsed, as
/// [`flagent_types::FlagKey`]).
pub(crate) fn key_like(field: &str, key: &str) -> Result<String> {
    flagent_types::valid_key(key)
        .map(|()| key.to_owned())
        .map_err(|e| FlagsError::invalid(field, e.to_string()))
}

/// A bucketing algorithm name (absent means `murmur3`).
pub(crate) fn bucketing(name: Option<&str>) -> Result<Bucketing> {
    match name {
        None | Some("") => Ok(Bucketing::default()),
        Some(n) => Bucketing::parse(n).ok_or_else(|| {
            FlagsError::invalid(
                "bucketing",
                format!("unknown bucketing {n:?}; use \"murmur3\" or \"flagr_crc32\""),
            )
        }),
    }
}

/// A non-empty salt of at most 128 characters.
pub(crate) fn salt(text: &str) -> Result<String> {
    if text.is_empty() || text.chars().count() > 128 {
        return Err(FlagsError::invalid(
            "salt",
            "salt must be 1 to 128 characters",
        ));
    }
    Ok(text.to_owned())
}

/// A rollout percent in 0..=100.
pub(crate) fn percent(field: &str, value: i64) -> Result<i64> {
    if !(0..=100).contains(&value) {
        return Err(FlagsError::invalid(
            field,
            format!("{field} must be between 0 and 100, got {value}"),
        ));
    }
    Ok(value)
}

/// Applies a patch to a flag row after checking every field; nothing is written here but entity types.
pub(crate) async fn patch(tx: &TenantTx, row: &flag::Model, p: FlagPatch) -> Result<flag::Model> {
    let mut next = row.clone();
    if let Some(d) = p.description {
        next.description = description(&d)?;
    }
    if let Some(k) = p.key.filter(|k| k.as_str() != row.key) {
        if tx.flag_by_key(row.project_id, k.as_str()).await?.is_some() {
            return Err(FlagsError::FlagKeyTaken(k.into_string()));
        }
        next.key = k.into_string();
        let dependents = crate::dependents::dependents(tx, row, None).await?;
        crate::dependents::ensure_unnamed(&dependents, &format!("{:?}", row.key))?;
    }
    if let Some(v) = p.data_records_enabled {
        next.data_records_enabled = v;
    }
    if let Some(notes) = p.notes {
        next.notes = bounded("notes", &notes)?;
    }
    if let Some(s) = p.salt {
        next.salt = salt(&s)?;
    }
    if let Some(b) = p.bucketing {
        next.bucketing = bucketing(Some(&b))?.as_str().to_owned();
    }
    if let Some(t) = p.entity_type {
        next.entity_type = entity_type_value(tx, row.project_id, &t).await?;
    }
    if let Some(d) = p.default_variant {
        next.default_variant = default_variant(tx, row.id, &d).await?;
    }
    if let Some(deps) = p.depends_on {
        next.depends_on = prerequisites(tx, &next, deps).await?;
    }
    Ok(next)
}

async fn entity_type_value(tx: &TenantTx, project: i64, text: &str) -> Result<Option<String>> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > 128 || text.chars().any(char::is_control) {
        return Err(FlagsError::invalid(
            "entityType",
            "entityType must be at most 128 printable characters",
        ));
    }
    let known = tx.entity_types_of_project(project).await?;
    if !known.iter().any(|e| e.key == text) {
        tx.insert_row(entity_type::New {
            project_id: project,
            key: text.to_owned(),
        })
        .await?;
    }
    Ok(Some(text.to_owned()))
}

async fn default_variant(tx: &TenantTx, flag_id: i64, key: &str) -> Result<Option<String>> {
    if key.is_empty() {
        return Ok(None);
    }
    let variants = tx.variants_of_flag(flag_id).await?;
    if variants.iter().any(|v| v.key == key) {
        Ok(Some(key.to_owned()))
    } else {
        Err(FlagsError::invalid(
            "defaultVariant",
            format!("the flag has no variant {key:?}; create it first"),
        ))
    }
}

/// Checks prerequisites (existing flags and variants, no self-reference, no cycle) and returns them as
/// stored JSON.
async fn prerequisites(
    tx: &TenantTx,
    row: &flag::Model,
    deps: Vec<Prerequisite>,
) -> Result<serde_json::Value> {
    let flags = tx.flags_of_project(row.project_id, false).await?;
    for (i, dep) in deps.iter().enumerate() {
        let field = format!("dependsOn[{i}]");
        let target = flags
            .iter()
            .find(|f| f.key == dep.flag_key && f.id != row.id)
            .ok_or_else(|| {
                FlagsError::invalid(&field, format!("no other flag has key {:?}", dep.flag_key))
            })?;
        if let Some(vk) = &dep.variant_key {
            let variants = tx.variants_of_flag(target.id).await?;
            if !variants.iter().any(|v| &v.key == vk) {
                return Err(FlagsError::invalid(
                    &field,
                    format!("flag {:?} has no variant {vk:?}", dep.flag_key),
                ));
            }
        }
    }
    let mut edges: HashMap<String, Vec<String>> = flags
        .iter()
        .filter(|f| f.id != row.id)
        .map(|f| {
            let keys = crate::assemble::prerequisites(f)
                .into_iter()
                .map(|p| p.flag_key);
            (f.key.clone(), keys.collect())
        })
        .collect();
    edges.insert(
        row.key.clone(),
        deps.iter().map(|d| d.flag_key.clone()).collect(),
    );
    if let Some(cycle) = flagent_eval::prerequisite_cycle(&edges, &row.key) {
        return Err(FlagsError::invalid(
            "dependsOn",
            format!("prerequisites would form a cycle: {}", cycle.join(" -> ")),
        ));
    }
    serde_json::to_value(&deps).map_err(|e| FlagsError::Unexpected(e.into()))
}
