//! An operator creates an active tenant directly (no signup, no mail): its `default` project with
//! `development` and `production`, an `admin` key for that project, and optionally an existing account
//! as its owner.
//!
//! Invariant: the tenant key is a slug no other tenant has (`tenant_key_taken` otherwise); the creation is
//! recorded as `tenant.create` in the new tenant's own audit log, as the operator; a creation that fails
//! half-way removes what it wrote.

use super::{Operator, Operators, TenantSummary, summary};
use crate::TenantsError;
use crate::projects::invalid;
use crate::signup::tenant_key_from;
use flagent_auth::{NewKey, create_key};
use flagent_storage::entities::membership;
use flagent_storage::{NewAuditEvent, StorageError};
use flagent_types::{ActorType, AuditAction, BuiltInRole, Scope, ScopeSet, TenantId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

/// The plan a tenant created by an operator is on unless another is named.
pub const OPERATOR_DEFAULT_PLAN: &str = "free";

/// A tenant an operator asks for.
#[derive(Debug, Clone, Copy)]
pub struct NewTenant<'a> {
    /// Its key: lower-case letters, digits and single dashes, at most 40 characters.
    pub key: &'a str,
    /// Its display name.
    pub name: &'a str,
    /// The email of an existing account that becomes its owner.
    pub owner_email: Option<&'a str>,
    /// Its plan's key (`free` when absent).
    pub plan: Option<&'a str>,
}

/// What creating a tenant gave.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTenant {
    /// The new tenant.
    pub tenant: TenantSummary,
    /// An `admin` key for the tenant's `default` project (every environment); shown only here.
    pub management_key: String,
}

impl Operators {
    /// Creates an active tenant with its default project, environments and an `admin` key.
    #[tracing::instrument(skip_all, fields(tenant_key = new.key))]
    pub async fn create(
        &self,
        operator: &Operator,
        new: NewTenant<'_>,
    ) -> Result<CreatedTenant, TenantsError> {
        let (name, plan) = self.check(&new).await?;
        let owner = match new.owner_email {
            Some(email) => Some(self.owner(email).await?),
            None => None,
        };
        let system = self.db.system(&self.system);
        if system.tenant_by_key(new.key).await?.is_some() {
            return Err(TenantsError::TenantKeyTaken(new.key.to_owned()));
        }
        let outcome = crate::create_tenant(&self.db, &self.system, new.key, name, plan)
            .await
            .map_err(|e| match e {
                TenantsError::Storage(StorageError::Duplicate(_)) => {
                    TenantsError::TenantKeyTaken(new.key.to_owned())
                }
                e => e,
            })?;
        let tenant = outcome.tenant;
        match self
            .finish(operator, tenant, outcome.project_id, owner)
            .await
        {
            Ok(created) => Ok(created),
            Err(error) => {
                // The rows span the global tenants table and the tenant's own tables, which no single
                // transaction here covers: undo by deleting the tenant, which takes its rows with it.
                if let Some(user) = owner {
                    let _ = self.policy.remove_membership(tenant, UserId(user)).await;
                }
                let _ = system.delete_tenant(tenant.0).await;
                Err(error)
            }
        }
    }

    /// The checked name and plan of `new`.
    async fn check<'a>(&self, new: &NewTenant<'a>) -> Result<(&'a str, &'a str), TenantsError> {
        if new.key.is_empty() || new.key.len() > 40 || tenant_key_from(new.key) != new.key {
            return Err(invalid(
                "key",
                "a tenant key is 1 to 40 lower-case letters, digits and single dashes",
            ));
        }
        let name = new.name.trim();
        match name.chars().count() {
            0 => return Err(invalid("name", "name the tenant")),
            n if n > 200 => {
                return Err(invalid("name", "a tenant name has at most 200 characters"));
            }
            _ => {}
        }
        let plan = new.plan.unwrap_or(OPERATOR_DEFAULT_PLAN);
        if self.db.system(&self.system).plan(plan).await?.is_none() {
            return Err(TenantsError::PlanNotFound(plan.to_owned()));
        }
        Ok((name, plan))
    }

    /// The user id of the account with `email`.
    async fn owner(&self, email: &str) -> Result<i64, TenantsError> {
        let email = flagent_auth::accounts::normalize_email(email)
            .map_err(|_| invalid("ownerEmail", format!("{email:?} is not an email address")))?;
        match self.accounts.user_by_email(&email).await? {
            Some(user) => Ok(user.id),
            None => Err(invalid(
                "ownerEmail",
                format!("no account has the email {email}; the owner must have an account"),
            )),
        }
    }

    /// Creates the key and the owner's membership and records the creation, in one transaction.
    async fn finish(
        &self,
        operator: &Operator,
        tenant: TenantId,
        project_id: i64,
        owner: Option<i64>,
    ) -> Result<CreatedTenant, TenantsError> {
        let now = chrono::Utc::now().timestamp_millis();
        let tx = self
            .db
            .scoped_for_system(&self.system, tenant)
            .begin()
            .await?;
        let key = create_key(
            &tx,
            NewKey {
                name: "operator management key".to_owned(),
                scopes: ScopeSet::of(&[Scope::Admin]),
                project_id,
                environment_id: None,
                expires_at: None,
                plaintext: None,
            },
            now,
        )
        .await?;
        if let Some(user_id) = owner {
            tx.insert_row(membership::New {
                user_id,
                role: BuiltInRole::Owner.as_str().to_owned(),
                created_at: now,
            })
            .await?;
        }
        let after = summary(tx.tenant().await?);
        tx.append_audit(NewAuditEvent {
            occurred_at: now,
            actor: format!("operator:{}", operator.email),
            actor_type: ActorType::Operator.as_str().to_owned(),
            actor_id: operator.user_id.to_string(),
            ip: operator.origin.ip.clone(),
            user_agent: operator.origin.user_agent.clone(),
            action: AuditAction::TenantCreate.as_str().to_owned(),
            resource_type: "tenant".to_owned(),
            resource_id: tenant.0.to_string(),
            environment: String::new(),
            before: "null".to_owned(),
            after: serde_json::to_string(&after).unwrap_or_default(),
        })
        .await?;
        tx.commit().await?;
        if let Some(user_id) = owner {
            self.policy
                .set_membership(tenant, UserId(user_id), BuiltInRole::Owner.as_str())
                .await?;
        }
        Ok(CreatedTenant {
            tenant: after,
            management_key: key.plaintext,
        })
    }
}
