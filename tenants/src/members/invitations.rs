//! Invitations: inviting by mail, listing and revoking pending invitations, and accepting one with
//! its mailed token.
//!
//! Invariant: the token is stored as SHA-256 only, and accepting it makes the user a member in the same
//! transaction that marks the invitation used.

use super::*;
use flagent_types::ActorType;
use flagent_types::{AuditAction, TenantId, UserId};

impl Members {
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
        if role == BuiltInRole::Owner.as_str() && !caller_is_owner(&self.policy, scope).await {
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
            .insert_row(invitation::New {
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
            AuditAction::InvitationCreate,
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
            AuditAction::InvitationRevoke,
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
            .insert_row(membership::New {
                user_id: user.id,
                role: row.role.clone(),
                created_at: now,
            })
            .await?;
        let view = member_view(&member, &user);
        tx.append_audit(NewAuditEvent {
            occurred_at: now,
            actor: format!("user:{}", user.email),
            actor_type: ActorType::User.as_str().to_owned(),
            actor_id: user.id.to_string(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            action: AuditAction::MemberJoin.as_str().to_owned(),
            resource_type: "member".to_owned(),
            resource_id: user.id.to_string(),
            environment: String::new(),
            before: "null".to_owned(),
            after: json(Some(&view)),
        })
        .await?;
        tx.commit().await?;
        self.policy
            .set_membership(TenantId(row.tenant_id), UserId(user.id), &row.role)
            .await?;
        Ok(Accepted {
            tenant_id: row.tenant_id,
            user,
            role: row.role,
        })
    }
}
