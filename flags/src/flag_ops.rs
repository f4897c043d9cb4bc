//! Use cases on whole flags: create, read, list, update, enable, delete, restore, duplicate.
//!
//! Invariant: creating and restoring a flag check the plan's `flags` limit in their transaction.

use crate::assemble::{self, Names};
use crate::audit::Change;
use crate::service::{Touch, check_flag_limit, lock_flag, now_millis};
use crate::validate;
use crate::{Flag, Flags, FlagsError, Resource, Result};
use flagent_eval::{Bucketing, Prerequisite};
use flagent_storage::FlagSelection;
use flagent_storage::TenantTx;
use flagent_storage::entities::{distribution, flag, flag_state, segment, variant};
use flagent_types::{AuditAction, FlagId, FlagKey, TenantScope, perm};

/// The template that gives a new flag an `on` variant served to everyone.
pub const SIMPLE_BOOLEAN_FLAG: &str = "simple_boolean_flag";

/// A flag to create.
#[derive(Debug, Clone, Default)]
pub struct NewFlag {
    /// The key; generated when absent.
    pub key: Option<FlagKey>,
    /// Free text (required).
    pub description: String,
    /// `simple_boolean_flag` (Flagr's: an `on` variant served to everyone), `boolean` (`on` served to
    /// everyone, and `off`), `multivariate` (`control` served to everyone, and `treatment`),
    /// `experiment` (`control` and `treatment`, 50/50 for everyone), or none.
    pub template: Option<String>,
    /// The bucketing algorithm (default `murmur3`).
    pub bucketing: Option<String>,
    /// The salt (default: the key).
    pub salt: Option<String>,
}

/// Changes to a flag; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagPatch {
    /// New description.
    pub description: Option<String>,
    /// New key (the salt does not change).
    pub key: Option<FlagKey>,
    /// Whether evaluations go to data recorders.
    pub data_records_enabled: Option<bool>,
    /// New entity type (`""` clears it).
    pub entity_type: Option<String>,
    /// Enable or disable in the caller's environment.
    pub enabled: Option<bool>,
    /// New notes.
    pub notes: Option<String>,
    /// New salt (reshuffles every entity).
    pub salt: Option<String>,
    /// New bucketing algorithm (reshuffles every entity).
    pub bucketing: Option<String>,
    /// New prerequisites.
    pub depends_on: Option<Vec<Prerequisite>>,
    /// New default variant key (`""` clears it).
    pub default_variant: Option<String>,
}

/// Filters of `GET /flags` (Flagr's query parameters).
#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    /// At most this many flags.
    pub limit: Option<usize>,
    /// Skip this many.
    pub offset: Option<usize>,
    /// Only enabled or only disabled flags.
    pub enabled: Option<bool>,
    /// Exact description.
    pub description: Option<String>,
    /// Description containing this text (case-insensitive).
    pub description_like: Option<String>,
    /// Exact key.
    pub key: Option<String>,
    /// Flags carrying every one of these tags.
    pub tags: Vec<String>,
    /// Include segments and variants.
    pub preload: bool,
    /// List deleted flags instead of live ones.
    pub deleted: bool,
}

impl Flags {
    /// Creates a flag in the caller's project, with state in every environment.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn create_flag(&self, scope: &TenantScope, new: NewFlag) -> Result<Flag> {
        scope.require::<perm::WriteFlags>()?;
        let description = validate::description(&new.description)?;
        let key = new.key.map_or_else(generated_key, FlagKey::into_string);
        let bucketing = validate::bucketing(new.bucketing.as_deref())?;
        let salt = validate::salt(new.salt.as_deref().unwrap_or(&key))?;
        let template = match new.template.as_deref().filter(|t| !t.is_empty()) {
            Some(name) => Some(Template::named(name).ok_or_else(|| {
                FlagsError::invalid(
                    "template",
                    format!(
                        "unknown template {name:?}; templates are {}",
                        Template::NAMES
                    ),
                )
            })?),
            None => None,
        };
        let tx = self.db.scoped(scope).begin().await?;
        if tx.flag_by_key(scope.project_id().0, &key).await?.is_some() {
            return Err(FlagsError::FlagKeyTaken(key));
        }
        check_flag_limit(&tx, 1).await?;
        let taken = key.clone();
        let row = tx
            .insert_row(new_row(scope, key, description, salt, bucketing))
            .await
            .map_err(|e| key_taken_or(e, &taken))?;
        init_states(&tx, &row, template).await?;
        let change = Change {
            action: AuditAction::FlagCreate,
            before: None,
        };
        self.finish(tx, scope, row.id, Touch::AllEnvironments, change)
            .await
    }

    /// One live flag of the caller's project as seen in the caller's environment (a deleted flag is not
    /// found, as in Flagr; `list_flags` with `deleted` shows those).
    pub async fn flag(&self, scope: &TenantScope, flag_id: FlagId) -> Result<Flag> {
        let flag_id = flag_id.0;
        scope.require::<perm::Read>()?;
        self.view(scope, flag_id).await
    }

    /// [`Flags::flag`] for use cases that have checked their own permission (the state a change leaves).
    pub(crate) async fn view(&self, scope: &TenantScope, flag_id: i64) -> Result<Flag> {
        let db = self.db.scoped(scope);
        let (env, project) = self.names(&db, scope).await?;
        let rows = db
            .load_flag_rows(project.id, env.id, &FlagSelection::Ids(vec![flag_id]))
            .await?;
        let names = Names {
            environment: &env.key,
            project: &project.key,
        };
        assemble::flags(&rows, &names)
            .into_iter()
            .find(|f| !f.archived)
            .ok_or(FlagsError::NotFound(Resource::Flag))
    }

    /// The flags of the caller's project matching `filter`, ascending id.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn list_flags(&self, scope: &TenantScope, filter: &FlagFilter) -> Result<Vec<Flag>> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let (env, project) = self.names(&db, scope).await?;
        let selection = if filter.deleted {
            let ids = db.flags_of_project(project.id, true).await?;
            FlagSelection::Ids(ids.into_iter().map(|f| f.id).collect())
        } else {
            FlagSelection::Live
        };
        let rows = db.load_flag_rows(project.id, env.id, &selection).await?;
        let names = Names {
            environment: &env.key,
            project: &project.key,
        };
        let like = filter.description_like.as_ref().map(|s| s.to_lowercase());
        let mut flags: Vec<Flag> = assemble::flags(&rows, &names)
            .into_iter()
            .filter(|f| filter.enabled.is_none_or(|e| f.enabled == e))
            .filter(|f| filter.key.as_ref().is_none_or(|k| &f.key == k))
            .filter(|f| {
                filter
                    .description
                    .as_ref()
                    .is_none_or(|d| &f.description == d)
            })
            .filter(|f| {
                like.as_ref()
                    .is_none_or(|l| f.description.to_lowercase().contains(l))
            })
            .filter(|f| {
                filter
                    .tags
                    .iter()
                    .all(|t| f.tags.iter().any(|ft| &ft.value == t))
            })
            .skip(filter.offset.unwrap_or(0))
            .take(filter.limit.unwrap_or(usize::MAX))
            .collect();
        if !filter.preload {
            for f in &mut flags {
                f.segments.clear();
                f.variants.clear();
            }
        }
        Ok(flags)
    }

    /// Changes a flag's fields; `expected` is the version the caller last saw.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id))]
    pub async fn update_flag(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        patch: FlagPatch,
        expected: Option<i64>,
    ) -> Result<Flag> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        // Only a change of `enabled` alone stays in the caller's environment; every other field is shared.
        let only_enabled = FlagPatch {
            enabled: patch.enabled,
            ..FlagPatch::default()
        };
        let touch = if patch.enabled.is_some() && patch == only_enabled {
            Touch::Current
        } else {
            Touch::AllEnvironments
        };
        let env = scope.environment_id().0;
        let (_, view) = self
            .change(
                scope,
                flag_id,
                expected,
                touch,
                AuditAction::FlagUpdate,
                async |tx, row| {
                    let updated = validate::patch(tx, row, patch.clone()).await?;
                    tx.update_row(updated).await?;
                    if let Some(enabled) = patch.enabled {
                        set_state(tx, row.id, env, enabled).await?;
                    }
                    Ok(())
                },
            )
            .await?;
        Ok(view)
    }

    /// Turns a flag on or off in the caller's environment.
    pub async fn set_enabled(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        enabled: bool,
        expected: Option<i64>,
    ) -> Result<Flag> {
        let flag_id = flag_id.0;
        scope.require::<perm::Toggle>()?;
        let env = scope.environment_id().0;
        let (_, view) = self
            .change(
                scope,
                flag_id,
                expected,
                Touch::Current,
                AuditAction::FlagEnable,
                async |tx, row| set_state(tx, row.id, env, enabled).await,
            )
            .await?;
        Ok(view)
    }

    /// Soft-deletes a flag: it stops evaluating everywhere and can be restored.
    pub async fn delete_flag(&self, scope: &TenantScope, flag_id: FlagId) -> Result<()> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        self.change(
            scope,
            flag_id,
            None,
            Touch::AllEnvironments,
            AuditAction::FlagDelete,
            async |tx, row| {
                crate::dependents::ensure_flag_unrequired(tx, row).await?;
                let deleted = flag::Model {
                    deleted_at: Some(now_millis()),
                    ..row.clone()
                };
                tx.update_row(deleted).await.map_err(FlagsError::from)
            },
        )
        .await?;
        Ok(())
    }

    /// Restores a deleted flag.
    pub async fn restore_flag(&self, scope: &TenantScope, flag_id: FlagId) -> Result<Flag> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = lock_flag(&tx, scope, flag_id, None, true).await?;
        check_flag_limit(&tx, 1).await?;
        let before = self.view_of(&tx, scope, row.id).await?;
        tx.update_row(flag::Model {
            deleted_at: None,
            ..row.clone()
        })
        .await?;
        let change = Change {
            action: AuditAction::FlagRestore,
            before,
        };
        self.finish(tx, scope, row.id, Touch::AllEnvironments, change)
            .await
    }
}

/// The row of a new, disabled flag in the caller's project, created by the caller now.
pub(crate) fn new_row(
    scope: &TenantScope,
    key: String,
    description: String,
    salt: String,
    bucketing: Bucketing,
) -> flag::New {
    let actor = scope.principal().actor();
    let now = now_millis();
    flag::New {
        project_id: scope.project_id().0,
        key,
        description,
        salt,
        bucketing: bucketing.as_str().to_owned(),
        entity_type: None,
        notes: String::new(),
        data_records_enabled: false,
        default_variant: None,
        depends_on: serde_json::json!([]),
        version: 1,
        created_by: actor.clone(),
        updated_by: actor,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    }
}

/// A flag key for a flag created without one.
fn generated_key() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("flag-{suffix}")
}

fn key_taken_or(err: flagent_storage::StorageError, key: &str) -> FlagsError {
    match err {
        flagent_storage::StorageError::Duplicate(_) => FlagsError::FlagKeyTaken(key.to_owned()),
        other => other.into(),
    }
}

/// Sets a flag's `enabled` in one environment, creating the state row if the flag has none there.
pub(crate) async fn set_state(tx: &TenantTx, flag_id: i64, env: i64, enabled: bool) -> Result<()> {
    let now = now_millis();
    match tx.flag_state(flag_id, env).await? {
        Some(state) => {
            tx.update_row(flag_state::Model {
                enabled,
                updated_at: now,
                ..state
            })
            .await?
        }
        None => {
            tx.insert_row(flag_state::New {
                flag_id,
                environment_id: env,
                enabled,
                updated_at: now,
            })
            .await?;
        }
    }
    Ok(())
}

/// What a template gives a new flag: its variants, and in every environment one segment for everyone
/// that shares them out as listed.
#[derive(Debug, Clone, Copy)]
struct Template {
    /// Variant keys with their percent of the segment (summing to 100).
    variants: &'static [(&'static str, i64)],
    /// The segment's description.
    segment: &'static str,
}

impl Template {
    /// The template names, for messages.
    const NAMES: &'static str =
        "\"simple_boolean_flag\", \"boolean\", \"multivariate\", \"experiment\"";

    fn named(name: &str) -> Option<Template> {
        let (variants, segment): (&'static [(&'static str, i64)], _) = match name {
            SIMPLE_BOOLEAN_FLAG => (&[("on", 100)], ""),
            "boolean" => (&[("on", 100), ("off", 0)], "Everyone"),
            "multivariate" => (&[("control", 100), ("treatment", 0)], "Everyone"),
            "experiment" => (&[("control", 50), ("treatment", 50)], "Everyone"),
            _ => return None,
        };
        Some(Template { variants, segment })
    }
}

/// Gives a new flag a disabled state in every environment of its project, and what its template
/// adds.
async fn init_states(tx: &TenantTx, row: &flag::Model, template: Option<Template>) -> Result<()> {
    let envs = tx.environments_of_project(row.project_id).await?;
    let mut variants = Vec::new();
    for (key, percent) in template.map_or(&[][..], |t| t.variants) {
        let variant = tx
            .insert_row(variant::New {
                flag_id: row.id,
                key: (*key).to_owned(),
                attachment: serde_json::json!({}),
            })
            .await?;
        variants.push((variant, *percent));
    }
    for env in envs {
        set_state(tx, row.id, env.id, false).await?;
        let Some(template) = template else {
            continue;
        };
        let seg = tx
            .insert_row(segment::New {
                flag_id: row.id,
                environment_id: env.id,
                description: template.segment.to_owned(),
                rank: 0,
                rollout_percent: 100,
            })
            .await?;
        for (variant, percent) in &variants {
            tx.insert_row(distribution::New {
                segment_id: seg.id,
                variant_id: variant.id,
                variant_key: variant.key.clone(),
                percent: *percent,
            })
            .await?;
        }
    }
    Ok(())
}
