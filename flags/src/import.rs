//! The all-or-nothing import: a pure validation pass over the whole document, then one transaction.
//!
//! Invariant: an import (a duplicate or a copy between environments too) that would create more flags
//! than the plan allows is refused whole, dry runs included, before anything is written; updating
//! existing flags adds none.

use crate::import_check::validate_document;
use crate::service::{check_flag_limit, lock_flag, record};
use crate::transfer::{Document, FlagDoc, ImportProblem, ImportReport, flag_doc};
use crate::{Flags, FlagsError, Result, validate};
use flagent_eval::Bucketing;
use flagent_storage::TenantTx;
use flagent_storage::entities::{constraint, distribution, flag, flag_tag, segment, tag, variant};
use flagent_types::{AuditAction, TenantScope, perm};
use std::collections::{HashMap, HashSet};

impl Flags {
    /// Imports `doc` into the caller's environment: creates missing flags, brings existing ones to the
    /// document's state, and reports what changed. With `dry_run`, reports without writing.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flags = doc.flags.len()))]
    pub async fn import(
        &self,
        scope: &TenantScope,
        doc: Document,
        dry_run: bool,
    ) -> Result<ImportReport> {
        scope.require::<perm::WriteFlags>()?;
        self.apply_document(scope, doc, dry_run, AuditAction::FlagImport)
            .await
    }

    /// Brings the caller's environment to `doc`'s state, recording each changed flag as `action`.
    pub(crate) async fn apply_document(
        &self,
        scope: &TenantScope,
        doc: Document,
        dry_run: bool,
        action: AuditAction,
    ) -> Result<ImportReport> {
        let project = scope.project_id().0;
        let db = self.db.scoped(scope);
        let existing: HashSet<String> = db
            .flags_of_project(project, false)
            .await?
            .into_iter()
            .map(|f| f.key)
            .collect();
        let mut problems = validate_document(&doc, &existing);
        let deleted: HashSet<String> = db
            .flags_of_project(project, true)
            .await?
            .into_iter()
            .map(|f| f.key)
            .collect();
        for (i, f) in doc.flags.iter().enumerate() {
            if deleted.contains(&f.key) {
                problems.push(ImportProblem {
                    path: format!("flags[{i}].key"),
                    message: format!(
                        "a deleted flag has key {:?}; restore it or use another key",
                        f.key
                    ),
                });
            }
        }
        if !problems.is_empty() {
            return Err(FlagsError::ImportInvalid(problems));
        }
        let current: HashMap<String, crate::Flag> = self
            .list_flags(
                scope,
                &crate::FlagFilter {
                    preload: true,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|f| (f.key.clone(), f))
            .collect();
        let tx = db.begin().await?;
        let creates = doc.flags.iter().filter(|f| !current.contains_key(&f.key));
        check_flag_limit(&tx, creates.count() as u64).await?;
        let mut report = ImportReport {
            dry_run,
            ..ImportReport::default()
        };
        let mut changed = Vec::new();
        for f in &doc.flags {
            match current.get(&f.key) {
                Some(now) if same(&flag_doc(now), f) => report.unchanged.push(f.key.clone()),
                Some(now) => {
                    apply_flag(&tx, scope, Some(now.id), f).await?;
                    report.updated.push(f.key.clone());
                    changed.push(now.id);
                }
                None => {
                    changed.push(apply_flag(&tx, scope, None, f).await?);
                    report.created.push(f.key.clone());
                }
            }
        }
        if dry_run || changed.is_empty() {
            return Ok(report);
        }
        let (env, project_row) = self.names(&tx, scope).await?;
        let envs = tx.environments_of_project(project).await?;
        let recorded = record(&tx, scope, &project_row, &envs, &changed).await?;
        for (_, after) in recorded.views.iter().filter(|(e, _)| *e == env.id) {
            let before = current.get(&after.key);
            let event = crate::audit::event(scope, action, after.id, &env.key, before, Some(after));
            tx.append_audit(event).await?;
        }
        self.commit_and_publish(tx, scope, recorded.updates).await?;
        Ok(report)
    }
}

/// Whether a document entry already describes the flag (a missing salt or bucketing means "keep").
fn same(current: &FlagDoc, wanted: &FlagDoc) -> bool {
    let mut w = wanted.clone();
    w.salt = w.salt.or_else(|| current.salt.clone());
    w.bucketing = w.bucketing.or_else(|| current.bucketing.clone());
    for v in &mut w.variants {
        if v.attachment.is_null() {
            v.attachment = serde_json::json!({});
        }
    }
    &w == current
}

/// Writes one flag's document state into the caller's environment; returns its id.
async fn apply_flag(
    tx: &TenantTx,
    scope: &TenantScope,
    id: Option<i64>,
    f: &FlagDoc,
) -> Result<i64> {
    let bucketing = validate::bucketing(f.bucketing.as_deref())?;
    let row = match id {
        Some(id) => lock_flag(tx, scope, id, None, false).await?,
        None => {
            let row = crate::flag_ops::new_row(
                scope,
                f.key.clone(),
                String::new(),
                f.key.clone(),
                Bucketing::default(),
            );
            tx.insert_row(row).await?
        }
    };
    let fields = flag::Model {
        description: f.description.trim().to_owned(),
        salt: f.salt.clone().unwrap_or_else(|| row.salt.clone()),
        bucketing: if f.bucketing.is_some() {
            bucketing.as_str().to_owned()
        } else {
            row.bucketing.clone()
        },
        entity_type: f.entity_type.clone().filter(|e| !e.is_empty()),
        notes: f.notes.clone(),
        data_records_enabled: f.data_records_enabled,
        default_variant: f.default_variant.clone(),
        depends_on: serde_json::to_value(&f.depends_on)
            .map_err(|e| FlagsError::Unexpected(e.into()))?,
        ..row
    };
    tx.update_row(fields.clone()).await?;
    let variants = sync_variants(tx, &fields, f).await?;
    sync_tags(tx, &fields, f).await?;
    replace_segments(tx, scope.environment_id().0, &fields, f, &variants).await?;
    prune_variants(tx, &fields, f, variants).await?;
    crate::flag_ops::set_state(tx, fields.id, scope.environment_id().0, f.enabled).await?;
    Ok(fields.id)
}

/// Creates and updates the document's variants; returns every variant of the flag by key.
async fn sync_variants(
    tx: &TenantTx,
    row: &flag::Model,
    f: &FlagDoc,
) -> Result<HashMap<String, variant::Model>> {
    let mut by_key: HashMap<String, variant::Model> = tx
        .variants_of_flag(row.id)
        .await?
        .into_iter()
        .map(|v| (v.key.clone(), v))
        .collect();
    for v in &f.variants {
        let attachment = if v.attachment.is_null() {
            serde_json::json!({})
        } else {
            v.attachment.clone()
        };
        match by_key.get(&v.key) {
            Some(existing) if existing.attachment == attachment => {}
            Some(existing) => {
                tx.update_row(variant::Model {
                    attachment,
                    ..existing.clone()
                })
                .await?
            }
            None => {
                let created = tx
                    .insert_row(variant::New {
                        flag_id: row.id,
                        key: v.key.clone(),
                        attachment,
                    })
                    .await?;
                by_key.insert(v.key.clone(), created);
            }
        }
    }
    Ok(by_key)
}

/// Removes variants the document does not list, unless a distribution of another environment uses them
/// or another flag requires this one to yield them.
async fn prune_variants(
    tx: &TenantTx,
    row: &flag::Model,
    f: &FlagDoc,
    variants: HashMap<String, variant::Model>,
) -> Result<()> {
    let wanted: HashSet<&str> = f.variants.iter().map(|v| v.key.as_str()).collect();
    for v in variants
        .values()
        .filter(|v| !wanted.contains(v.key.as_str()))
    {
        if !tx.variant_in_use(v.id).await?
            && crate::dependents::dependents(tx, row, Some(&v.key))
                .await?
                .is_empty()
        {
            tx.delete_variant(row.id, v.id).await?;
        }
    }
    Ok(())
}

/// Makes the flag's tags those of the document.
async fn sync_tags(tx: &TenantTx, row: &flag::Model, f: &FlagDoc) -> Result<()> {
    let project_tags = tx.tags_of_project(row.project_id).await?;
    for value in &f.tags {
        let tag = match project_tags.iter().find(|t| &t.value == value) {
            Some(t) => t.clone(),
            None => {
                tx.insert_row(tag::New {
                    project_id: row.project_id,
                    value: value.clone(),
                })
                .await?
            }
        };
        if tx.flag_tag(row.id, tag.id).await?.is_none() {
            tx.insert_row(flag_tag::New {
                flag_id: row.id,
                tag_id: tag.id,
            })
            .await?;
        }
    }
    for t in project_tags.iter().filter(|t| !f.tags.contains(&t.value)) {
        tx.delete_flag_tag(row.id, t.id).await?;
    }
    Ok(())
}

/// Replaces the flag's segments in `env` with the document's.
async fn replace_segments(
    tx: &TenantTx,
    env: i64,
    row: &flag::Model,
    f: &FlagDoc,
    variants: &HashMap<String, variant::Model>,
) -> Result<()> {
    for s in tx.segments_of_flag(row.id, env).await? {
        tx.delete_segment(s.id).await?;
    }
    for s in &f.segments {
        let seg = tx
            .insert_row(segment::New {
                flag_id: row.id,
                environment_id: env,
                description: s.description.clone(),
                rank: s.rank,
                rollout_percent: s.rollout_percent,
            })
            .await?;
        for c in &s.constraints {
            tx.insert_row(constraint::New {
                segment_id: seg.id,
                property: c.property.clone(),
                operator: c.operator.clone(),
                value: c.value.clone(),
            })
            .await?;
        }
        let rows = s
            .distributions
            .iter()
            .filter_map(|d| {
                let v = variants.get(&d.variant_key)?;
                Some(distribution::New {
                    segment_id: seg.id,
                    variant_id: v.id,
                    variant_key: v.key.clone(),
                    percent: d.percent,
                })
            })
            .collect();
        tx.replace_distributions(seg.id, rows).await?;
    }
    Ok(())
}
