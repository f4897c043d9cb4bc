//! The platform-admin use cases of the hosted service's operators: creating (`create`), listing,
//! suspending, resuming, re-planning and deleting tenants.
//!
//! Invariant: only a signed-in user with `platform_admin` reaches these (checked by the HTTP layer's
//! extractor); a status or plan change is recorded in the tenant's own audit log, as the operator.
//! A suspended tenant's keys and sessions are refused from the next request on, on this node at once and
//! on the others through the announcement: a status change or deletion tells the [`Authenticator`],
//! which marks that tenant's cached keys and projects stale (other tenants' entries are untouched).
//! A deleted tenant's memberships and custom roles leave this node's role policy with it (other nodes
//! drop them when they reload the policy).

mod create;

pub use create::{CreatedTenant, NewTenant, OPERATOR_DEFAULT_PLAN};

use crate::TenantsError;
use flagent_auth::Authenticator;
use flagent_auth::accounts::Accounts;
use flagent_auth::rbac::Policy;
use flagent_storage::entities::tenant;
use flagent_storage::{Db, NewAuditEvent};
use flagent_types::{ActorType, AuditAction, Origin, SystemScope, TenantId, TenantStatus, UserId};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// A tenant as operators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// Its id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// `active`, `pending` (signup not verified) or `suspended`.
    pub status: String,
    /// Its plan's key.
    pub plan: String,
    /// When it was created (ms).
    pub created_at: i64,
}

/// The operator performing an action.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The operator's user id.
    pub user_id: UserId,
    /// Their email.
    pub email: String,
    /// Where the request came from.
    pub origin: Origin,
}

/// Operators' use cases.
pub struct Operators {
    db: Db,
    system: SystemScope,
    policy: Arc<Policy>,
    accounts: Arc<Accounts>,
    auth: Arc<Authenticator>,
}

fn summary(t: tenant::Model) -> TenantSummary {
    TenantSummary {
        id: t.id,
        key: t.key,
        name: t.name,
        status: t.status,
        plan: t.plan,
        created_at: t.created_at,
    }
}

impl Operators {
    /// Operators' use cases over `db`; a deleted tenant's members and roles leave `policy`, and a created
    /// tenant's owner is found in `accounts`; status changes and deletions are told to `auth`.
    pub fn new(
        db: Db,
        system: SystemScope,
        policy: Arc<Policy>,
        accounts: Arc<Accounts>,
        auth: Arc<Authenticator>,
    ) -> Self {
        Self {
            db,
            system,
            policy,
            accounts,
            auth,
        }
    }

    /// Every tenant, oldest first.
    pub async fn list(&self) -> Result<Vec<TenantSummary>, TenantsError> {
        let tenants = self.db.system(&self.system).tenants().await?;
        Ok(tenants.into_iter().map(summary).collect())
    }

    /// Tenant `id`.
    pub async fn get(&self, id: TenantId) -> Result<TenantSummary, TenantsError> {
        let id = id.0;
        self.db
            .system(&self.system)
            .tenant(id)
            .await?
            .map(summary)
            .ok_or(TenantsError::TenantNotFound(id))
    }

    /// Sets tenant `id` to `active` or `suspended`.
    #[tracing::instrument(skip_all, fields(tenant_id = %id, status))]
    pub async fn set_status(
        &self,
        operator: &Operator,
        id: TenantId,
        status: &str,
    ) -> Result<TenantSummary, TenantsError> {
        let id = id.0;
        let status = match TenantStatus::parse(status) {
            Ok(status @ (TenantStatus::Active | TenantStatus::Suspended)) => status,
            _ => {
                return Err(TenantsError::Invalid {
                    field: "status",
                    reason: format!("status must be \"active\" or \"suspended\", not {status:?}"),
                });
            }
        };
        let changed = self.change(operator, id, Change::Status(status)).await?;
        self.auth.tenant_changed(TenantId(id));
        Ok(changed)
    }

    /// Moves tenant `id` to plan `plan`.
    #[tracing::instrument(skip_all, fields(tenant_id = %id, plan))]
    pub async fn set_plan(
        &self,
        operator: &Operator,
        id: TenantId,
        plan: &str,
    ) -> Result<TenantSummary, TenantsError> {
        let id = id.0;
        if self.db.system(&self.system).plan(plan).await?.is_none() {
            return Err(TenantsError::PlanNotFound(plan.to_owned()));
        }
        self.change(operator, id, Change::Plan(plan)).await
    }

    /// Deletes tenant `id` and everything it owns.
    #[tracing::instrument(skip_all, fields(tenant_id = %id))]
    pub async fn delete(&self, operator: &Operator, id: TenantId) -> Result<(), TenantsError> {
        let id = id.0;
        // Read before deleting: the rows go with the tenant.
        let tdb = self.db.scoped_for_system(&self.system, TenantId(id));
        let (members, roles) = (tdb.memberships().await?, tdb.roles().await?);
        if !self.db.system(&self.system).delete_tenant(id).await? {
            return Err(TenantsError::TenantNotFound(id));
        }
        // Its keys are read again on their next use, and found gone.
        self.auth.tenant_changed(TenantId(id));
        // After the deletion, as every membership change: nobody keeps a role in a tenant that is gone
        // (the policy also says which tenants a user's request may act in without naming one).
        for member in &members {
            self.policy
                .remove_membership(TenantId(id), UserId(member.user_id))
                .await?;
        }
        for role in &roles {
            self.policy
                .set_custom_role(TenantId(id), &role.key, &[])
                .await?;
        }
        tracing::warn!(tenant_id = id, operator = %operator.email, "tenant deleted");
        Ok(())
    }

    /// Applies `change` to tenant `id` and records it in the tenant's audit log, in one transaction.
    async fn change(
        &self,
        operator: &Operator,
        id: i64,
        change: Change<'_>,
    ) -> Result<TenantSummary, TenantsError> {
        let before = self.get(TenantId(id)).await?;
        let tx = self
            .db
            .scoped_for_system(&self.system, TenantId(id))
            .begin()
            .await?;
        let action = match change {
            Change::Status(status) => {
                tx.set_tenant_status(&self.system, status).await?;
                AuditAction::TenantStatus
            }
            Change::Plan(plan) => {
                tx.set_tenant_plan(&self.system, plan).await?;
                AuditAction::TenantPlan
            }
        };
        let after = summary(tx.tenant().await?);
        tx.append_audit(NewAuditEvent {
            occurred_at: chrono::Utc::now().timestamp_millis(),
            actor: format!("operator:{}", operator.email),
            actor_type: ActorType::Operator.as_str().to_owned(),
            actor_id: operator.user_id.to_string(),
            ip: operator.origin.ip.clone(),
            user_agent: operator.origin.user_agent.clone(),
            action: action.as_str().to_owned(),
            resource_type: "tenant".to_owned(),
            resource_id: id.to_string(),
            environment: String::new(),
            before: serde_json::to_string(&before).unwrap_or_default(),
            after: serde_json::to_string(&after).unwrap_or_default(),
        })
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// A change an operator makes to a tenant.
enum Change<'a> {
    Status(TenantStatus),
    Plan(&'a str),
}
