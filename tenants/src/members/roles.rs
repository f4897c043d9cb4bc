//! Roles: the built-in roles and a tenant's custom roles, and saving and deleting custom ones.
//!
//! Invariant: a role held by members is never deleted, and the policy changes only after the commit.

use super::*;
use flagent_types::AuditAction;

impl Members {
    /// The built-in roles and the tenant's custom roles: for readers, and for whoever assigns them.
    pub async fn list_roles(&self, scope: &TenantScope) -> Result<Vec<Role>, TenantsError> {
        if !scope.permits::<perm::ManageMembers>() {
            scope.require::<perm::Read>()?;
        }
        let mut roles: Vec<Role> = BUILT_IN_ROLES
            .iter()
            .map(|key| Role {
                key: (*key).to_owned(),
                name: title(key),
                built_in: true,
                permissions: built_in_permissions(key)
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect(),
            })
            .collect();
        roles.extend(self.db.scoped(scope).roles().await?.iter().map(custom_view));
        Ok(roles)
    }

    /// Creates (`existing` false) or replaces the custom role `key`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), role = key))]
    pub async fn save_role(
        &self,
        scope: &TenantScope,
        key: &str,
        name: &str,
        permissions: &[String],
        existing: bool,
    ) -> Result<Role, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        valid_key(key).map_err(|e| invalid("key", e.to_string()))?;
        let name = match name.trim() {
            "" => key.to_owned(),
            n if n.chars().count() > 200 => {
                return Err(invalid("name", "a name has at most 200 characters"));
            }
            n => n.to_owned(),
        };
        let mut grants = Vec::new();
        for p in permissions {
            let grant = Grant::parse(p)?;
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        if grants.is_empty() {
            return Err(invalid(
                "permissions",
                "a role needs at least one permission",
            ));
        }
        if BUILT_IN_ROLES.contains(&key) {
            return Err(if existing {
                invalid(
                    "key",
                    format!("the built-in role {key:?} cannot be changed"),
                )
            } else {
                TenantsError::RoleKeyTaken(key.to_owned())
            });
        }
        let texts: Vec<String> = grants.iter().map(Grant::to_text).collect();
        let tx = self.db.scoped(scope).begin().await?;
        let found = tx.role_by_key(key).await?;
        let now = now_millis();
        let (before, row) = match (found, existing) {
            (Some(_), false) => return Err(TenantsError::RoleKeyTaken(key.to_owned())),
            (None, true) => return Err(TenantsError::RoleNotFound(key.to_owned())),
            (None, false) => {
                let row = tx
                    .insert_row(role::New {
                        key: key.to_owned(),
                        name,
                        permissions: json(Some(&texts)),
                        created_at: now,
                        updated_at: now,
                    })
                    .await
                    .map_err(|e| match e {
                        flagent_storage::StorageError::Duplicate(_) => {
                            TenantsError::RoleKeyTaken(key.to_owned())
                        }
                        other => other.into(),
                    })?;
                (None, row)
            }
            (Some(old), true) => {
                let row = role::Model {
                    name,
                    permissions: json(Some(&texts)),
                    updated_at: now,
                    ..old.clone()
                };
                tx.update_row(row.clone()).await?;
                (Some(custom_view(&old)), row)
            }
        };
        let view = custom_view(&row);
        let action = if existing {
            AuditAction::RoleUpdate
        } else {
            AuditAction::RoleCreate
        };
        tx.append_audit(event(
            scope,
            action,
            ("role", key.to_owned()),
            before.as_ref(),
            Some(&view),
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .set_custom_role(scope.tenant_id(), key, &grants)
            .await?;
        Ok(view)
    }

    /// Deletes the custom role `key`, which no member may hold.
    pub async fn delete_role(&self, scope: &TenantScope, key: &str) -> Result<(), TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = tx
            .role_by_key(key)
            .await?
            .ok_or_else(|| TenantsError::RoleNotFound(key.to_owned()))?;
        if tx.memberships().await?.iter().any(|m| m.role == key)
            || tx
                .pending_invitations()
                .await?
                .iter()
                .any(|i| i.role == key)
            || tx
                .sso_providers()
                .await?
                .iter()
                .any(|p| flagent_auth::sso::rules::provider_grants(p, key))
        {
            return Err(TenantsError::RoleInUse(key.to_owned()));
        }
        tx.delete_role(key).await?;
        let view = custom_view(&row);
        tx.append_audit(event(
            scope,
            AuditAction::RoleDelete,
            ("role", key.to_owned()),
            Some(&view),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .set_custom_role(scope.tenant_id(), key, &[])
            .await?;
        Ok(())
    }

    pub(super) async fn check_role_exists(
        &self,
        tx: &TenantTx,
        role: &str,
    ) -> Result<(), TenantsError> {
        if BUILT_IN_ROLES.contains(&role) || tx.role_by_key(role).await?.is_some() {
            Ok(())
        } else {
            Err(TenantsError::RoleNotFound(role.to_owned()))
        }
    }
}

fn title(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
