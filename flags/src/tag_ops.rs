//! Use cases on tags, entity types, and duplicating a flag.

use crate::service::{Touch, now_millis};
use crate::{Flag, Flags, FlagsError, Resource, Result, Tag, validate};
use flagent_storage::entities::{flag_tag, tag};
use flagent_types::{AuditAction, FlagId, FlagKey, TagId, TenantScope, perm};

impl Flags {
    /// The tags of the caller's project, optionally only those containing `like` (case-insensitive and
    /// literal on every backend: `%` and `_` are not wildcards).
    pub async fn tags(&self, scope: &TenantScope, like: Option<&str>) -> Result<Vec<Tag>> {
        scope.require::<perm::Read>()?;
        let rows = self
            .db
            .scoped(scope)
            .tags_of_project(scope.project_id().0)
            .await?;
        let like = like.map(str::to_lowercase);
        Ok(rows
            .into_iter()
            .filter(|t| {
                like.as_ref()
                    .is_none_or(|l| t.value.to_lowercase().contains(l))
            })
            .map(|t| Tag {
                id: t.id,
                value: t.value,
            })
            .collect())
    }

    /// The tags of a flag.
    pub async fn flag_tags(&self, scope: &TenantScope, flag_id: FlagId) -> Result<Vec<Tag>> {
        scope.require::<perm::Read>()?;
        Ok(self.flag(scope, flag_id).await?.tags)
    }

    /// Tags a flag (creating the tag in the project if new); tagging twice is harmless.
    pub async fn add_tag(&self, scope: &TenantScope, flag_id: FlagId, value: &str) -> Result<Tag> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        let value = validate::key_like("value", value)?;
        let (tag, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::AllEnvironments,
                AuditAction::TagAdd,
                async |tx, flag| {
                    let tag = match tx.tag_by_value(flag.project_id, &value).await? {
                        Some(t) => t,
                        None => {
                            tx.insert_row(tag::New {
                                project_id: flag.project_id,
                                value: value.clone(),
                            })
                            .await?
                        }
                    };
                    if tx.flag_tag(flag.id, tag.id).await?.is_none() {
                        tx.insert_row(flag_tag::New {
                            flag_id: flag.id,
                            tag_id: tag.id,
                        })
                        .await?;
                    }
                    Ok(tag)
                },
            )
            .await?;
        Ok(Tag {
            id: tag.id,
            value: tag.value,
        })
    }

    /// Removes a tag from a flag.
    pub async fn remove_tag(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        tag_id: TagId,
    ) -> Result<()> {
        let flag_id = flag_id.0;
        let tag_id = tag_id.0;
        scope.require::<perm::WriteFlags>()?;
        self.change(
            scope,
            flag_id,
            None,
            Touch::AllEnvironments,
            AuditAction::TagRemove,
            async |tx, flag| {
                tx.flag_tag(flag.id, tag_id)
                    .await?
                    .ok_or(FlagsError::NotFound(Resource::Tag))?;
                Ok(tx.delete_flag_tag(flag.id, tag_id).await?)
            },
        )
        .await?;
        Ok(())
    }

    /// The entity types used in the caller's project, ascending.
    pub async fn entity_types(&self, scope: &TenantScope) -> Result<Vec<String>> {
        scope.require::<perm::Read>()?;
        let rows = self
            .db
            .scoped(scope)
            .entity_types_of_project(scope.project_id().0)
            .await?;
        Ok(rows.into_iter().map(|e| e.key).collect())
    }

    /// Copies a flag (variants, tags, and the caller's environment's segments) under a new key, disabled,
    /// in one transaction.
    pub async fn duplicate_flag(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        key: Option<FlagKey>,
    ) -> Result<Flag> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        let source = self.view(scope, flag_id).await?;
        let key = match key {
            Some(key) => key.into_string(),
            None => copy_key(&source.key)?,
        };
        let mut doc = crate::transfer::flag_doc(&source);
        doc.key = key.clone();
        doc.salt = None;
        doc.enabled = false;
        if self
            .db
            .scoped(scope)
            .flag_by_key(scope.project_id().0, &key)
            .await?
            .is_some()
        {
            return Err(FlagsError::FlagKeyTaken(key));
        }
        let document = crate::transfer::Document { flags: vec![doc] };
        self.import(scope, document, false).await?;
        let copy = self
            .db
            .scoped(scope)
            .flag_by_key(scope.project_id().0, &key)
            .await?;
        self.view(scope, copy.ok_or(FlagsError::NotFound(Resource::Flag))?.id)
            .await
    }
}

/// The key of an unnamed copy of the flag keyed `source`: its first 52 characters, `-copy-` and up to five
/// digits, so a copy of a 63-character key still has a valid key.
fn copy_key(source: &str) -> Result<String> {
    let base: String = source.chars().take(52).collect();
    let key = format!("{base}-copy-{}", now_millis() % 100_000);
    FlagKey::parse(key)
        .map(FlagKey::into_string)
        .map_err(|e| FlagsError::invalid("key", e.to_string()))
}
