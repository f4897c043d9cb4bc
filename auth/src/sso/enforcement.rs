//! Enforced single sign-on: a tenant switches password sign-in off for its members, except the few it
//! names (break-glass accounts for when the identity provider is down).
//!
//! Invariant: while a tenant enforces SSO, a session acts in it only when it was signed in through one
//! of the tenant's providers, or belongs to an exception; a password sign-in is refused outright when
//! every tenant of the person enforces SSO without an exception for them. Only owners change it, and
//! it can be switched on only with an enabled provider to sign in through.

use super::error::invalid;
use super::{Sso, SsoError};
use flagent_storage::NewAuditEvent;
use flagent_types::{AuditAction, Feature, TenantScope, perm};
use serde::Serialize;

/// Most exceptions one tenant names.
const MAX_BREAK_GLASS: usize = 20;

/// Whether a tenant enforces single sign-on, and who keeps their password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enforcement {
    /// Whether members must sign in through the tenant's providers.
    pub enforced: bool,
    /// The user ids who keep password sign-in.
    pub break_glass: Vec<i64>,
}

impl Sso {
    /// The caller tenant's enforcement.
    pub async fn enforcement(&self, scope: &TenantScope) -> Result<Enforcement, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let tenant = self.db.scoped(scope).tenant().await?;
        Ok(Enforcement {
            enforced: tenant.sso_enforced,
            break_glass: crate::accounts::break_glass(&tenant),
        })
    }

    /// Switches password sign-in off (`enforced`) or on for the caller tenant's members, except
    /// `break_glass`. Owners only.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), enforced))]
    pub async fn set_enforcement(
        &self,
        scope: &TenantScope,
        enforced: bool,
        mut break_glass: Vec<i64>,
    ) -> Result<Enforcement, SsoError> {
        scope.require::<perm::ManageTenant>()?;
        break_glass.sort_unstable();
        break_glass.dedup();
        if break_glass.len() > MAX_BREAK_GLASS {
            return Err(invalid(
                "breakGlass",
                "at most 20 people keep their password",
            ));
        }
        let tx = self.db.scoped(scope).begin().await?;
        for user in &break_glass {
            if tx.membership_of(*user).await?.is_none() {
                return Err(invalid(
                    "breakGlass",
                    format!("user {user} is not a member"),
                ));
            }
        }
        if enforced {
            tx.tenant_plan().await?.require(Feature::Sso)?;
            if !tx.sso_providers().await?.iter().any(|p| p.enabled) {
                return Err(invalid(
                    "enforced",
                    "connect and enable an identity provider before enforcing single sign-on",
                ));
            }
        }
        let tenant = tx.tenant().await?;
        let before = Enforcement {
            enforced: tenant.sso_enforced,
            break_glass: crate::accounts::break_glass(&tenant),
        };
        let after = Enforcement {
            enforced,
            break_glass,
        };
        let list = serde_json::to_string(&after.break_glass)
            .map_err(|e| SsoError::Unexpected(e.into()))?;
        tx.set_sso_enforcement(enforced, &list).await?;
        let json =
            |e: &Enforcement| serde_json::to_string(e).map_err(|e| SsoError::Unexpected(e.into()));
        tx.append_audit(NewAuditEvent::by(
            scope,
            AuditAction::SsoEnforcementChange,
            ("tenant", &scope.tenant_id().0.to_string()),
            "",
            json(&before)?,
            json(&after)?,
        ))
        .await?;
        tx.commit().await?;
        tracing::info!(
            enforced,
            exceptions = after.break_glass.len(),
            "SSO enforcement changed"
        );
        Ok(after)
    }
}
