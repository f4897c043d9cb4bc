//! Members of a tenant: listing them, changing their role, removing them; invitations
//! (`members/invitations.rs`) and roles (`members/roles.rs`) are the other use cases of [`Members`].
//!
//! Invariant: every change runs in one tenant transaction that appends its audit event, and the role
//! policy is changed after the commit, so what the policy allows never runs ahead of the database.
//! Invariant: a tenant keeps at least one owner, and only an owner grants, changes or removes the owner
//! role. Invitations are accepted with a token mailed to the invited address (stored as SHA-256 only).

mod invitations;
mod roles;

use crate::TenantsError;
use crate::projects::{invalid, json, now_millis};
use flagent_auth::accounts::{Accounts, NewUser, normalize_email};
use flagent_auth::rbac::{BUILT_IN_ROLES, Grant, Policy, built_in_permissions, stored_grants};
use flagent_auth::{AuthError, hash_key};
use flagent_storage::entities::{invitation, membership, role, user};
use flagent_storage::{Db, NewAuditEvent, TenantTx};
use flagent_types::{
    AuditAction, BuiltInRole, Origin, Principal, SystemScope, TenantScope, UserId, perm, valid_key,
};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// A user's membership with its tenant.
pub use flagent_storage::UserMembership;

/// How long an invitation stays valid.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A member of the tenant.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The user's id.
    pub user_id: i64,
    /// Their email address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role's key.
    pub role: String,
    /// When they joined (ms).
    pub joined_at: i64,
}

/// A pending invitation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// Its id.
    pub id: i64,
    /// The invited address.
    pub email: String,
    /// The role the invitee will get.
    pub role: String,
    /// Who invited them.
    pub invited_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Until when it can be accepted (ms).
    pub expires_at: i64,
}

/// A role: built-in or custom, with its permissions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Its key (`owner`, `editor`, or a custom key).
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Whether it is one of the built-in roles.
    pub built_in: bool,
    /// What it grants (`flags:write`, `flags:write:production`…).
    pub permissions: Vec<String>,
}

/// What an accepted invitation did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The tenant joined.
    pub tenant_id: i64,
    /// The member's account (created if it did not exist).
    pub user: user::Model,
    /// The role they got.
    pub role: String,
}

/// Members, invitations and roles.
pub struct Members {
    db: Db,
    system: SystemScope,
    accounts: Arc<Accounts>,
    policy: Arc<Policy>,
}

fn event<T: Serialize>(
    scope: &TenantScope,
    action: AuditAction,
    resource: (&str, String),
    before: Option<&T>,
    after: Option<&T>,
) -> NewAuditEvent {
    NewAuditEvent::by(
        scope,
        action,
        (resource.0, &resource.1),
        "",
        json(before),
        json(after),
    )
}

fn member_view(m: &membership::Model, user: &user::Model) -> Member {
    Member {
        user_id: m.user_id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: m.role.clone(),
        joined_at: m.created_at,
    }
}

fn invitation_view(i: &invitation::Model) -> Invitation {
    Invitation {
        id: i.id,
        email: i.email.clone(),
        role: i.role.clone(),
        invited_by: i.invited_by.clone(),
        created_at: i.created_at,
        expires_at: i.expires_at,
    }
}

fn custom_view(r: &role::Model) -> Role {
    Role {
        key: r.key.clone(),
        name: r.name.clone(),
        built_in: false,
        permissions: stored_grants(r).iter().map(Grant::to_text).collect(),
    }
}

/// Whether the caller holds the owner role (an API key or a job never does).
async fn caller_is_owner(policy: &Policy, scope: &TenantScope) -> bool {
    match scope.principal() {
        Principal::User { id, .. } => {
            policy.role_of(*id, scope.tenant_id()).await.as_deref()
                == Some(BuiltInRole::Owner.as_str())
        }
        Principal::ApiKey { .. } | Principal::System { .. } => false,
    }
}

impl Members {
    /// The use cases over `db`; `system` is used only to accept invitations, whose token names the
    /// tenant before the accepting user belongs to it.
    pub fn new(db: Db, system: SystemScope, accounts: Arc<Accounts>, policy: Arc<Policy>) -> Self {
        Self {
            db,
            system,
            accounts,
            policy,
        }
    }

    /// The tenants `user` belongs to, with their role in each, oldest first.
    pub async fn memberships_of_user(
        &self,
        user: UserId,
    ) -> Result<Vec<UserMembership>, TenantsError> {
        Ok(self
            .db
            .system(&self.system)
            .memberships_of_user(user.0)
            .await?)
    }

    /// The tenant's members, oldest first.
    pub async fn list_members(&self, scope: &TenantScope) -> Result<Vec<Member>, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let db = self.db.scoped(scope);
        let mut members = Vec::new();
        for m in db.memberships().await? {
            if let Some(user) = self.accounts.user(UserId(m.user_id)).await? {
                members.push(member_view(&m, &user));
            }
        }
        Ok(members)
    }

    /// Gives `member` the role `role`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), user_id = %member))]
    pub async fn change_role(
        &self,
        scope: &TenantScope,
        member: UserId,
        role: &str,
    ) -> Result<Member, TenantsError> {
        let user_id = member.0;
        scope.require::<perm::ManageMembers>()?;
        // Read before the transaction: SQLite's pool has one connection, which the transaction holds.
        let user = self.accounts.user(member).await?;
        let tx = self.db.scoped(scope).begin().await?;
        self.check_role_exists(&tx, role).await?;
        let before = tx
            .membership_of(user_id)
            .await?
            .ok_or(TenantsError::MemberNotFound(user_id))?;
        let owner = BuiltInRole::Owner.as_str();
        let touches_owner = before.role == owner || role == owner;
        if touches_owner && !caller_is_owner(&self.policy, scope).await {
            return Err(TenantsError::OwnerOnly);
        }
        if before.role == owner && role != owner {
            check_not_last_owner(&tx).await?;
        }
        let user = user.ok_or(TenantsError::MemberNotFound(user_id))?;
        let after = membership::Model {
            role: role.to_owned(),
            ..before.clone()
        };
        tx.update_row(after.clone()).await?;
        let (b, a) = (member_view(&before, &user), member_view(&after, &user));
        tx.append_audit(event(
            scope,
            AuditAction::MemberRole,
            ("member", user_id.to_string()),
            Some(&b),
            Some(&a),
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .set_membership(scope.tenant_id(), member, role)
            .await?;
        Ok(a)
    }

    /// Removes `member`; from the next request on they can do nothing in the tenant.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), user_id = %member))]
    pub async fn remove_member(
        &self,
        scope: &TenantScope,
        member: UserId,
    ) -> Result<(), TenantsError> {
        let user_id = member.0;
        scope.require::<perm::ManageMembers>()?;
        let user = self.accounts.user(member).await?;
        let tx = self.db.scoped(scope).begin().await?;
        let before = tx
            .membership_of(user_id)
            .await?
            .ok_or(TenantsError::MemberNotFound(user_id))?;
        if before.role == BuiltInRole::Owner.as_str() {
            if !caller_is_owner(&self.policy, scope).await {
                return Err(TenantsError::OwnerOnly);
            }
            check_not_last_owner(&tx).await?;
        }
        tx.delete_membership(user_id).await?;
        let view = user.as_ref().map(|u| member_view(&before, u));
        tx.append_audit(event(
            scope,
            AuditAction::MemberRemove,
            ("member", user_id.to_string()),
            view.as_ref(),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .remove_membership(scope.tenant_id(), member)
            .await?;
        Ok(())
    }
}

async fn check_not_last_owner(tx: &TenantTx) -> Result<(), TenantsError> {
    let owners = tx
        .memberships()
        .await?
        .iter()
        .filter(|m| m.role == BuiltInRole::Owner.as_str())
        .count();
    if owners <= 1 {
        Err(TenantsError::LastOwner)
    } else {
        Ok(())
    }
}
