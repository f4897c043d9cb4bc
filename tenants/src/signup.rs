//! Hosted signup: an organisation and its owner account, activated when the owner proves their email.
//!
//! Invariant: a signed-up tenant is `pending` (its members cannot act in it) until the verification
//! link mailed to the owner is used; it starts on the `free` plan with a `default` project holding
//! `development` and `production`. A signup that fails half-way removes what it wrote.
//! Invariant: a verification that activates a tenant tells the authenticator about that tenant only, so
//! no other tenant's cached credentials are re-read.

use crate::TenantsError;
use crate::bootstrap::create_tenant_in_status;
use crate::projects::invalid;
use flagent_auth::Authenticator;
use flagent_auth::accounts::{Accounts, NewUser, normalize_email};
use flagent_auth::rbac::Policy;
use flagent_storage::Db;
use flagent_storage::entities::membership;
use flagent_types::{BuiltInRole, SystemScope, TenantId, TenantStatus, UserId};
use std::sync::Arc;

/// The plan a signed-up tenant starts on.
pub const SIGNUP_PLAN: &str = "free";

/// A signup request.
#[derive(Debug, Clone)]
pub struct SignupRequest<'a> {
    /// The owner's email address.
    pub email: &'a str,
    /// The owner's password.
    pub password: &'a str,
    /// The owner's display name.
    pub name: &'a str,
    /// The organisation's name.
    pub organization: &'a str,
}

/// What a signup created.
#[derive(Debug, Clone)]
pub struct SignedUp {
    /// The new tenant's id.
    pub tenant_id: i64,
    /// Its key (derived from the organisation's name).
    pub tenant_key: String,
    /// The owner's user id.
    pub user_id: i64,
}

/// Signup use cases.
pub struct Signups {
    db: Db,
    system: SystemScope,
    accounts: Arc<Accounts>,
    policy: Arc<Policy>,
    auth: Arc<Authenticator>,
}

/// A tenant key from an organisation's name: lower-case letters, digits and single dashes.
pub fn tenant_key_from(name: &str) -> String {
    let mut key = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
        if key.len() >= 40 {
            break;
        }
    }
    let key = key.trim_end_matches('-').to_owned();
    if key.is_empty() {
        "org".to_owned()
    } else {
        key
    }
}

impl Signups {
    /// The use cases; `system` creates tenants, which no caller belongs to yet; an activated tenant is
    /// told to `auth`, so its members' cached view of it is read again.
    pub fn new(
        db: Db,
        system: SystemScope,
        accounts: Arc<Accounts>,
        policy: Arc<Policy>,
        auth: Arc<Authenticator>,
    ) -> Self {
        Self {
            db,
            system,
            accounts,
            policy,
            auth,
        }
    }

    /// Creates a pending tenant, its owner account and default project, and mails the verification link.
    #[tracing::instrument(skip_all)]
    pub async fn sign_up(&self, request: SignupRequest<'_>) -> Result<SignedUp, TenantsError> {
        let organization = request.organization.trim();
        match organization.chars().count() {
            0 => return Err(invalid("organization", "name your organisation")),
            n if n > 200 => {
                return Err(invalid(
                    "organization",
                    "an organisation name has at most 200 characters",
                ));
            }
            _ => {}
        }
        let email = normalize_email(request.email)?;
        flagent_auth::password::check_password_policy(request.password)?;
        if self.accounts.user_by_email(&email).await?.is_some() {
            return Err(flagent_auth::AuthError::Conflict(format!(
                "an account with email {email} already exists; sign in and create the organisation from there"
            ))
            .into());
        }
        let key = self.free_tenant_key(&tenant_key_from(organization)).await?;
        let user = self
            .accounts
            .register(NewUser {
                email: &email,
                name: request.name,
                password: Some(request.password),
                verified: false,
            })
            .await?;
        let system = self.db.system(&self.system);
        let tenant = match create_tenant_in_status(
            &self.db,
            &self.system,
            &key,
            organization,
            SIGNUP_PLAN,
            TenantStatus::Pending,
        )
        .await
        {
            Ok(outcome) => outcome.tenant,
            Err(error) => {
                let _ = system.delete_user(user.id).await;
                return Err(error);
            }
        };
        if let Err(error) = self.make_owner(tenant, &user).await {
            // Undo what was written, so a failed signup leaves nothing behind (the rows span global
            // and tenant tables, which no single transaction here covers).
            let _ = self.policy.remove_membership(tenant, UserId(user.id)).await;
            let _ = system.delete_tenant(tenant.0).await;
            let _ = system.delete_user(user.id).await;
            return Err(error);
        }
        Ok(SignedUp {
            tenant_id: tenant.0,
            tenant_key: key,
            user_id: user.id,
        })
    }

    /// Makes `user` the owner of the new `tenant` and mails them the verification link.
    async fn make_owner(
        &self,
        tenant: TenantId,
        user: &flagent_auth::accounts::User,
    ) -> Result<(), TenantsError> {
        self.db
            .scoped_for_system(&self.system, tenant)
            .insert_row(membership::New {
                user_id: user.id,
                role: BuiltInRole::Owner.as_str().to_owned(),
                created_at: chrono::Utc::now().timestamp_millis(),
            })
            .await?;
        self.policy
            .set_membership(tenant, UserId(user.id), BuiltInRole::Owner.as_str())
            .await?;
        self.accounts
            .send_verification(user, Some(tenant.0))
            .await?;
        Ok(())
    }

    /// Uses a verification token: proves the address and activates the tenant it signed up, if any.
    /// Returns the activated tenant.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, token: &str) -> Result<Option<TenantId>, TenantsError> {
        let verified = self.accounts.verify_email(token).await?;
        let Some(tenant) = verified.tenant_id else {
            return Ok(None);
        };
        // An operator may have deleted the pending signup since: the address is proven all the same,
        // and there is nothing to activate.
        if self.db.system(&self.system).tenant(tenant).await?.is_none() {
            return Ok(None);
        }
        let tx = self
            .db
            .scoped_for_system(&self.system, TenantId(tenant))
            .begin()
            .await?;
        if tx.tenant().await?.status == TenantStatus::Pending.as_str() {
            tx.set_tenant_status(&self.system, TenantStatus::Active)
                .await?;
        }
        tx.commit().await?;
        self.auth.tenant_changed(TenantId(tenant));
        Ok(Some(TenantId(tenant)))
    }

    /// `base`, or `base-2`, `base-3`… whichever no tenant has.
    async fn free_tenant_key(&self, base: &str) -> Result<String, TenantsError> {
        let system = self.db.system(&self.system);
        for n in 1..1000 {
            let candidate = if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            };
            if system.tenant_by_key(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Ok(format!(
            "{base}-{}",
            &flagent_auth::random_token()[..8].to_lowercase()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::tenant_key_from;

    #[test]
    fn tenant_keys_are_slugs() {
        assert_eq!(tenant_key_from("Acme Corp."), "acme-corp");
        assert_eq!(tenant_key_from("  Ünïcode & Co  "), "n-code-co");
        assert_eq!(tenant_key_from("!!!"), "org");
        assert!(tenant_key_from(&"x".repeat(100)).len() <= 40);
    }
}
