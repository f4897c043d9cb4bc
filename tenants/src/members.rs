//! Members, invitations and custom roles of a tenant.
//!
//! Invariant: every change runs in one tenant transaction that appends its audit event, and the role
//! policy is changed after the commit, so what the policy allows never runs ahead of the database.
//! Invariant: a tenant keeps at least one owner, and only an owner grants, changes or removes the owner
//! role. Invitations are accepted with a token mailed to the invited address (stored as SHA-256 only).

use crate::TenantsError;
use crate::projects::{invalid, json, now_millis};
use flagent_auth::accounts::{Accounts, NewUser, normalize_email};
use flagent_auth::rbac::{BUILT_IN_ROLES, Grant, Policy, built_in_permissions, stored_grants};
use flagent_auth::{AuthError, hash_key};
use flagent_storage::entities::{invitation, membership, role, user};
use flagent_storage::{Db, NewAuditEvent, TenantTx};
use flagent_types::{Origin, Principal, SystemScope, TenantId, TenantScope, perm, valid_key};
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
    action: &str,
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
            policy.role_of(*id, scope.tenant_id().0).await.as_deref() == Some("owner")
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
        user: i64,
    ) -> Result<Vec<UserMembership>, TenantsError> {
        Ok(self
            .db
            .system(&self.system)
            .memberships_of_user(user)
            .await?)
    }

    /// The tenant's members, oldest first.
    pub async fn list_members(&self, scope: &TenantScope) -> Result<Vec<Member>, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let db = self.db.scoped(scope);
        let mut members = Vec::new();
        for m in db.memberships().await? {
            if let Some(user) = self.accounts.user(m.user_id).await? {
                members.push(member_view(&m, &user));
            }
        }
        Ok(members)
    }

    /// Gives member `user_id` the role `role`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), user_id))]
    pub async fn change_role(
        &self,
        scope: &TenantScope,
        user_id: i64,
        role: &str,
    ) -> Result<Member, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        // Read before the transaction: SQLite's pool has one connection, which the transaction holds.
        let user = self.accounts.user(user_id).await?;
        let tx = self.db.scoped(scope).begin().await?;
        self.check_role_exists(&tx, role).await?;
        let before = tx
            .membership_of(user_id)
            .await?
            .ok_or(TenantsError::MemberNotFound(user_id))?;
        let touches_owner = before.role == "owner" || role == "owner";
        if touches_owner && !caller_is_owner(&self.policy, scope).await {
            return Err(TenantsError::OwnerOnly);
        }
        if before.role == "owner" && role != "owner" {
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
            "member.role",
            ("member", user_id.to_string()),
            Some(&b),
            Some(&a),
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .set_membership(scope.tenant_id().0, user_id, role)
            .await?;
        Ok(a)
    }

    /// Removes member `user_id`; from the next request on they can do nothing in the tenant.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), user_id))]
    pub async fn remove_member(
        &self,
        scope: &TenantScope,
        user_id: i64,
    ) -> Result<(), TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let user = self.accounts.user(user_id).await?;
        let tx = self.db.scoped(scope).begin().await?;
        let before = tx
            .membership_of(user_id)
            .await?
            .ok_or(TenantsError::MemberNotFound(user_id))?;
        if before.role == "owner" {
            if !caller_is_owner(&self.policy, scope).await {
                return Err(TenantsError::OwnerOnly);
            }
            check_not_last_owner(&tx).await?;
        }
        tx.delete_membership(user_id).await?;
        let view = user.as_ref().map(|u| member_view(&before, u));
        tx.append_audit(event(
            scope,
            "member.remove",
            ("member", user_id.to_string()),
            view.as_ref(),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .remove_membership(scope.tenant_id().0, user_id)
            .await?;
        Ok(())
    }

    /// Invites `email` with `role` and mails them a link; the link works for [`INVITATION_LIFETIME`].
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn invite(
        &self,
        scope: &TenantScope,
        email: &str,
        role: &str,
    ) -> Result<Invitation, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let email = normalize_email(email)?;
        let existing = self.accounts.user_by_email(&email).await?;
        let tenant = self
            .db
            .system(&self.system)
            .tenant(scope.tenant_id().0)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let tx = self.db.scoped(scope).begin().await?;
        self.check_role_exists(&tx, role).await?;
        if role == "owner" && !caller_is_owner(&self.policy, scope).await {
            return Err(TenantsError::OwnerOnly);
        }
        if let Some(existing) = existing
            && tx.membership_of(existing.id).await?.is_some()
        {
            return Err(TenantsError::AlreadyMember(email));
        }
        if tx
            .pending_invitations()
            .await?
            .iter()
            .any(|i| i.email == email)
        {
            return Err(TenantsError::AlreadyMember(format!("{email} (invited)")));
        }
        crate::plans::check_seats(&tx, 1).await?;
        let token = flagent_auth::random_token();
        let now = now_millis();
        let row = tx
            .insert_row(invitation::Model {
                id: 0,
                tenant_id: 0,
                email: email.clone(),
                role: role.to_owned(),
                token_hash: hash_key(&token),
                invited_by: scope.principal().actor(),
                created_at: now,
                expires_at: now + INVITATION_LIFETIME.as_millis() as i64,
                accepted_at: None,
                revoked_at: None,
            })
            .await?;
        let view = invitation_view(&row);
        tx.append_audit(event(
            scope,
            "invitation.create",
            ("invitation", row.id.to_string()),
            None,
            Some(&view),
        ))
        .await?;
        tx.commit().await?;
        let link = format!(
            "{}/accept-invitation?token={token}",
            self.accounts.public_url()
        );
        let body = format!(
            "{} invited you to join {tenant} on Flagent as {role}.\n\nAccept the invitation here (valid for 7 days):\n\n{link}\n\nor send the token to POST /api/v1/invitations/accept:\n\n{token}\n",
            view.invited_by
        );
        self.accounts
            .send_mail(&email, &format!("Join {tenant} on Flagent"), &body)
            .await?;
        Ok(view)
    }

    /// The tenant's pending invitations, newest first.
    pub async fn list_invitations(
        &self,
        scope: &TenantScope,
    ) -> Result<Vec<Invitation>, TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let rows = self.db.scoped(scope).pending_invitations().await?;
        Ok(rows.iter().map(invitation_view).collect())
    }

    /// Withdraws pending invitation `id`; its link stops working.
    pub async fn revoke_invitation(
        &self,
        scope: &TenantScope,
        id: i64,
    ) -> Result<(), TenantsError> {
        scope.require::<perm::ManageMembers>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row: invitation::Model = tx
            .get(id)
            .await?
            .ok_or(TenantsError::InvitationNotFound(id))?;
        if !tx.close_invitation(id, false, now_millis()).await? {
            return Err(TenantsError::InvitationNotFound(id));
        }
        let view = invitation_view(&row);
        tx.append_audit(event(
            scope,
            "invitation.revoke",
            ("invitation", id.to_string()),
            Some(&view),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts an invitation: an existing account joins; otherwise an account is created with
    /// `password` (the mailed token proves the address).
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: Option<&str>,
        name: &str,
        origin: &Origin,
    ) -> Result<Accepted, TenantsError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(AuthError::InvalidToken.into());
        }
        let system = self.db.system(&self.system);
        let row = system
            .invitation_by_hash(&hash_key(token))
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let now = now_millis();
        if row.accepted_at.is_some() || row.revoked_at.is_some() || row.expires_at <= now {
            return Err(AuthError::InvalidToken.into());
        }
        let user = match self.accounts.user_by_email(&row.email).await? {
            Some(user) => user,
            None => {
                let password = password
                    .ok_or_else(|| invalid("password", "choose a password for your new account"))?;
                self.accounts
                    .register(NewUser {
                        email: &row.email,
                        name,
                        password: Some(password),
                        verified: true,
                    })
                    .await?
            }
        };
        let tenant = TenantId(row.tenant_id);
        let tx = self
            .db
            .scoped_for_system(&self.system, tenant)
            .begin()
            .await?;
        if !tx.close_invitation(row.id, true, now).await? {
            return Err(AuthError::InvalidToken.into());
        }
        if tx.membership_of(user.id).await?.is_some() {
            return Err(TenantsError::AlreadyMember(user.email));
        }
        let member = tx
            .insert_row(membership::Model {
                id: 0,
                tenant_id: 0,
                user_id: user.id,
                role: row.role.clone(),
                created_at: now,
            })
            .await?;
        let view = member_view(&member, &user);
        tx.append_audit(NewAuditEvent {
            occurred_at: now,
            actor: format!("user:{}", user.email),
            actor_type: "user".to_owned(),
            actor_id: user.id.to_string(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            action: "member.join".to_owned(),
            resource_type: "member".to_owned(),
            resource_id: user.id.to_string(),
            environment: String::new(),
            before: "null".to_owned(),
            after: json(Some(&view)),
        })
        .await?;
        tx.commit().await?;
        self.policy
            .set_membership(row.tenant_id, user.id, &row.role)
            .await?;
        Ok(Accepted {
            tenant_id: row.tenant_id,
            user,
            role: row.role,
        })
    }

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
                    .insert_row(role::Model {
                        id: 0,
                        tenant_id: 0,
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
            "role.update"
        } else {
            "role.create"
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
            .set_custom_role(scope.tenant_id().0, key, &grants)
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
        {
            return Err(TenantsError::RoleInUse(key.to_owned()));
        }
        tx.delete_role(key).await?;
        let view = custom_view(&row);
        tx.append_audit(event(
            scope,
            "role.delete",
            ("role", key.to_owned()),
            Some(&view),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.policy
            .set_custom_role(scope.tenant_id().0, key, &[])
            .await?;
        Ok(())
    }

    async fn check_role_exists(&self, tx: &TenantTx, role: &str) -> Result<(), TenantsError> {
        if BUILT_IN_ROLES.contains(&role) || tx.role_by_key(role).await?.is_some() {
            Ok(())
        } else {
            Err(TenantsError::RoleNotFound(role.to_owned()))
        }
    }
}

async fn check_not_last_owner(tx: &TenantTx) -> Result<(), TenantsError> {
    let owners = tx
        .memberships()
        .await?
        .iter()
        .filter(|m| m.role == "owner")
        .count();
    if owners <= 1 {
        Err(TenantsError::LastOwner)
    } else {
        Ok(())
    }
}

fn title(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
