//! Use cases on a flag's variants (shared by every environment).

use crate::dependents::{dependents, ensure_unnamed, ensure_variant_unrequired};
use crate::service::Touch;
use crate::validate;
use crate::{Flags, FlagsError, Resource, Result, Variant};
use flagent_storage::entities::variant;
use flagent_storage::{StorageError, TenantTx};
use flagent_types::{AuditAction, FlagId, TenantScope, VariantId, perm};

/// A variant to create or the new state of one.
#[derive(Debug, Clone)]
pub struct VariantInput {
    /// The key, unique within the flag.
    pub key: String,
    /// A JSON object (`null` means `{}`).
    pub attachment: serde_json::Value,
}

fn checked(input: VariantInput) -> Result<VariantInput> {
    let key = validate::key_like("key", &input.key)?;
    let attachment = match input.attachment {
        serde_json::Value::Null => serde_json::json!({}),
        v @ serde_json::Value::Object(_) => v,
        other => {
            return Err(FlagsError::invalid(
                "attachment",
                format!("attachment must be a JSON object such as {{\"value\": {other}}}"),
            ));
        }
    };
    Ok(VariantInput { key, attachment })
}

fn view(v: variant::Model) -> Variant {
    Variant {
        id: v.id,
        key: v.key,
        attachment: v.attachment,
    }
}

async fn variant_of(tx: &TenantTx, flag_id: i64, variant_id: i64) -> Result<variant::Model> {
    tx.get::<variant::Model>(variant_id)
        .await?
        .filter(|v| v.flag_id == flag_id)
        .ok_or(FlagsError::NotFound(Resource::Variant))
}

fn key_taken(err: StorageError, key: &str) -> FlagsError {
    match err {
        StorageError::Duplicate(_) => FlagsError::VariantKeyTaken(key.to_owned()),
        other => other.into(),
    }
}

impl Flags {
    /// The variants of a flag, ascending id.
    pub async fn variants(&self, scope: &TenantScope, flag_id: FlagId) -> Result<Vec<Variant>> {
        scope.require::<perm::Read>()?;
        Ok(self.flag(scope, flag_id).await?.variants)
    }

    /// Adds a variant to a flag.
    pub async fn create_variant(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        input: VariantInput,
    ) -> Result<Variant> {
        let flag_id = flag_id.0;
        scope.require::<perm::WriteFlags>()?;
        let input = checked(input)?;
        let (row, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::AllEnvironments,
                AuditAction::VariantCreate,
                async |tx, flag| {
                    let existing = tx.variants_of_flag(flag.id).await?;
                    if existing.iter().any(|v| v.key == input.key) {
                        return Err(FlagsError::VariantKeyTaken(input.key.clone()));
                    }
                    tx.insert_row(variant::New {
                        flag_id: flag.id,
                        key: input.key.clone(),
                        attachment: input.attachment.clone(),
                    })
                    .await
                    .map_err(|e| key_taken(e, &input.key))
                },
            )
            .await?;
        Ok(view(row))
    }

    /// Changes a variant's key or attachment; distributions follow a renamed key.
    pub async fn update_variant(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        variant_id: VariantId,
        input: VariantInput,
    ) -> Result<Variant> {
        let flag_id = flag_id.0;
        let variant_id = variant_id.0;
        scope.require::<perm::WriteFlags>()?;
        let input = checked(input)?;
        let (row, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::AllEnvironments,
                AuditAction::VariantUpdate,
                async |tx, flag| {
                    let current = variant_of(tx, flag.id, variant_id).await?;
                    let existing = tx.variants_of_flag(flag.id).await?;
                    if existing
                        .iter()
                        .any(|v| v.key == input.key && v.id != variant_id)
                    {
                        return Err(FlagsError::VariantKeyTaken(input.key.clone()));
                    }
                    if current.key != input.key {
                        let required = dependents(tx, flag, Some(&current.key)).await?;
                        let what = format!("variant {:?} of {:?}", current.key, flag.key);
                        ensure_unnamed(&required, &what)?;
                    }
                    if flag.default_variant.as_deref() == Some(current.key.as_str())
                        && current.key != input.key
                    {
                        return Err(FlagsError::invalid(
                            "key",
                            "this variant is the flag's defaultVariant; change that first",
                        ));
                    }
                    let next = variant::Model {
                        key: input.key.clone(),
                        attachment: input.attachment.clone(),
                        ..current
                    };
                    tx.update_row(next.clone()).await?;
                    tx.rename_variant_in_distributions(variant_id, &input.key)
                        .await?;
                    Ok(next)
                },
            )
            .await?;
        Ok(view(row))
    }

    /// Deletes a variant that no distribution gives a share to.
    pub async fn delete_variant(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        variant_id: VariantId,
    ) -> Result<()> {
        let flag_id = flag_id.0;
        let variant_id = variant_id.0;
        scope.require::<perm::WriteFlags>()?;
        self.change(
            scope,
            flag_id,
            None,
            Touch::AllEnvironments,
            AuditAction::VariantDelete,
            async |tx, flag| {
                let current = variant_of(tx, flag.id, variant_id).await?;
                if tx.variant_in_use(variant_id).await? {
                    return Err(FlagsError::VariantInUse(current.key));
                }
                ensure_variant_unrequired(tx, flag, &current.key).await?;
                if flag.default_variant.as_deref() == Some(current.key.as_str()) {
                    return Err(FlagsError::invalid(
                        "variantID",
                        "this variant is the flag's defaultVariant; change that first",
                    ));
                }
                tx.delete_variant(flag.id, variant_id).await?;
                Ok(())
            },
        )
        .await?;
        Ok(())
    }
}
