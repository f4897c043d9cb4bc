//! Prerequisite integrity: a flag, or a variant, that another live flag names as its prerequisite
//! cannot be deleted (409 `RequiredBy`) or renamed (a `key` validation error) from under it.
//!
//! Invariant: checked inside the change's transaction, after the tenant row is locked, so no other
//! write of the tenant (one adding a prerequisite, say) can slip between the check and the change.

use crate::{FlagsError, Result, assemble};
use flagent_storage::TenantTx;
use flagent_storage::entities::flag;

/// The keys of the project's live flags, other than `row` itself, that name `row` as a prerequisite
/// (requiring `variant` of it when given, any prerequisite on it otherwise), ascending.
pub(crate) async fn dependents(
    tx: &TenantTx,
    row: &flag::Model,
    variant: Option<&str>,
) -> Result<Vec<String>> {
    let mut keys: Vec<String> = tx
        .flags_of_project(row.project_id, false)
        .await?
        .into_iter()
        .filter(|other| other.id != row.id)
        .filter(|other| {
            assemble::prerequisites(other).iter().any(|p| {
                p.flag_key == row.key && variant.is_none_or(|v| p.variant_key.as_deref() == Some(v))
            })
        })
        .map(|other| other.key)
        .collect();
    keys.sort();
    Ok(keys)
}

/// Refuses to delete `row` while another live flag depends on it.
pub(crate) async fn ensure_flag_unrequired(tx: &TenantTx, row: &flag::Model) -> Result<()> {
    let keys = dependents(tx, row, None).await?;
    if keys.is_empty() {
        return Ok(());
    }
    Err(FlagsError::RequiredBy {
        what: format!("flag {:?}", row.key),
        dependents: keys,
    })
}

/// Refuses to delete variant `variant` of `row` while another live flag requires `row` to yield it.
pub(crate) async fn ensure_variant_unrequired(
    tx: &TenantTx,
    row: &flag::Model,
    variant: &str,
) -> Result<()> {
    let keys = dependents(tx, row, Some(variant)).await?;
    if keys.is_empty() {
        return Ok(());
    }
    Err(FlagsError::RequiredBy {
        what: format!("variant {variant:?} of flag {:?}", row.key),
        dependents: keys,
    })
}

/// Refuses to rename `what` (a flag, or a variant of `row`) while `dependents` names it: the
/// validation error of the `key` field.
pub(crate) fn ensure_unnamed(dependents: &[String], what: &str) -> Result<()> {
    match dependents.first() {
        None => Ok(()),
        Some(dependent) => Err(FlagsError::invalid(
            "key",
            format!("flag {dependent:?} depends on {what}; change its prerequisites first"),
        )),
    }
}
