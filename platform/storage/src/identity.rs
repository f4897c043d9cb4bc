//! Global identity rows: users, one-time tokens, sessions, the mail outbox, server settings and plans,
//! and the cross-tenant membership lookups authentication needs.
//!
//! Invariant: reached only through [`SystemDb`], which needs a `SystemScope`; users are global because
//! one user may belong to several tenants, and what a user may do in a tenant is decided by the
//! membership rows of that tenant.
#![allow(clippy::disallowed_methods)] // Global tables and cross-tenant lookups; reached only with a SystemScope.

use crate::{Millis, StorageError, SystemDb, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

/// A membership with its tenant, for listing the tenants a user belongs to.
#[derive(Debug, Clone)]
pub struct UserMembership {
    /// The membership row.
    pub membership: membership::Model,
    /// The tenant it is in.
    pub tenant: tenant::Model,
}

impl SystemDb<'_> {
    /// The user with this (lower-case) email.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<user::Model>, StorageError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.db.conn)
            .await?)
    }

    /// The user with `id`.
    pub async fn user(&self, id: i64) -> Result<Option<user::Model>, StorageError> {
        Ok(user::Entity::find_by_id(id).one(&self.db.conn).await?)
    }

    /// Creates a user (its `id` is ignored).
    pub async fn insert_user(&self, model: user::Model) -> Result<user::Model, StorageError> {
        let mut row = model.into_active_model().reset_all();
        row.not_set(user::Column::Id);
        Ok(row.insert(&self.db.conn).await?)
    }

    /// Overwrites the user row with `model.id`.
    pub async fn update_user(&self, model: user::Model) -> Result<(), StorageError> {
        model
            .into_active_model()
            .reset_all()
            .update(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Deletes the user with `id` and, through the foreign keys, their tokens, sessions and memberships.
    pub async fn delete_user(&self, id: i64) -> Result<(), StorageError> {
        user::Entity::delete_many()
            .filter(user::Column::Id.eq(id))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Stores a one-time token (its `id` is ignored).
    pub async fn insert_user_token(
        &self,
        model: user_token::Model,
    ) -> Result<user_token::Model, StorageError> {
        let mut row = model.into_active_model().reset_all();
        row.not_set(user_token::Column::Id);
        Ok(row.insert(&self.db.conn).await?)
    }

    /// The one-time token whose SHA-256 is `hash`.
    pub async fn user_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<user_token::Model>, StorageError> {
        Ok(user_token::Entity::find()
            .filter(user_token::Column::TokenHash.eq(hash))
            .one(&self.db.conn)
            .await?)
    }

    /// Marks token `id` used at `at` unless it already was; returns whether this call used it, so two
    /// requests presenting the same token cannot both succeed.
    pub async fn consume_user_token(&self, id: i64, at: Millis) -> Result<bool, StorageError> {
        let res = user_token::Entity::update_many()
            .col_expr(user_token::Column::UsedAt, Expr::value(at))
            .filter(user_token::Column::Id.eq(id))
            .filter(user_token::Column::UsedAt.is_null())
            .exec(&self.db.conn)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Starts a session (its `id` is ignored).
    pub async fn insert_session(
        &self,
        model: session::Model,
    ) -> Result<session::Model, StorageError> {
        let mut row = model.into_active_model().reset_all();
        row.not_set(session::Column::Id);
        Ok(row.insert(&self.db.conn).await?)
    }

    /// The session with `id`.
    pub async fn session(&self, id: i64) -> Result<Option<session::Model>, StorageError> {
        Ok(session::Entity::find_by_id(id).one(&self.db.conn).await?)
    }

    /// Ends session `id` at `at` (once).
    pub async fn revoke_session(&self, id: i64, at: Millis) -> Result<(), StorageError> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(at))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Ends every session of `user` at `at`.
    pub async fn revoke_sessions_of_user(&self, user: i64, at: Millis) -> Result<(), StorageError> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(at))
            .filter(session::Column::UserId.eq(user))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Queues a mail message.
    pub async fn enqueue_mail(
        &self,
        recipient: &str,
        subject: &str,
        body: &str,
        at: Millis,
    ) -> Result<outbox::Model, StorageError> {
        let mut row = outbox::Model {
            id: 0,
            recipient: recipient.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            created_at: at,
            sent_at: None,
            claimed_until: None,
        }
        .into_active_model()
        .reset_all();
        row.not_set(outbox::Column::Id);
        Ok(row.insert(&self.db.conn).await?)
    }

    /// Up to `limit` messages not sent yet, oldest first.
    pub async fn unsent_mail(&self, limit: u64) -> Result<Vec<outbox::Model>, StorageError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .all(&self.db.conn)
            .await?)
    }

    /// Up to `limit` messages not sent yet and not claimed by a relay at `now`, oldest first.
    pub async fn claimable_mail(
        &self,
        now: Millis,
        limit: u64,
    ) -> Result<Vec<outbox::Model>, StorageError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(unclaimed(now))
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .all(&self.db.conn)
            .await?)
    }

    /// Claims message `id` for sending until `until`, if it is unsent and nobody holds a claim at
    /// `now`; true when this caller now holds it. Of relays racing for one message, one wins.
    pub async fn claim_mail(
        &self,
        id: i64,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StorageError> {
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(until))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::SentAt.is_null())
            .filter(unclaimed(now))
            .exec(&self.db.conn)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Gives up the claim on message `id` (its delivery failed), so the next pass may try again.
    pub async fn release_mail_claim(&self, id: i64) -> Result<(), StorageError> {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(Option::<i64>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Records that message `id` was handed to the mail server.
    pub async fn mark_mail_sent(&self, id: i64, at: Millis) -> Result<(), StorageError> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::SentAt, Expr::value(at))
            .filter(outbox::Column::Id.eq(id))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Every message sent to `recipient`, oldest first.
    pub async fn mail_to(&self, recipient: &str) -> Result<Vec<outbox::Model>, StorageError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Recipient.eq(recipient))
            .order_by_asc(outbox::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// The server setting `key`, storing `proposed` first if it has none. Every node that races to
    /// create it ends up with the one value that was stored.
    pub async fn setting_or_insert(
        &self,
        key: &str,
        proposed: &str,
    ) -> Result<String, StorageError> {
        let find = || {
            system_setting::Entity::find()
                .filter(system_setting::Column::Key.eq(key))
                .one(&self.db.conn)
        };
        if let Some(row) = find().await? {
            return Ok(row.value);
        }
        let mut row = system_setting::Model {
            id: 0,
            key: key.to_owned(),
            value: proposed.to_owned(),
        }
        .into_active_model()
        .reset_all();
        row.not_set(system_setting::Column::Id);
        if let Err(insert_error) = row.insert(&self.db.conn).await {
            return match find().await? {
                Some(row) => Ok(row.value),
                None => Err(insert_error.into()),
            };
        }
        Ok(proposed.to_owned())
    }

    /// The plan with `key`.
    pub async fn plan(&self, key: &str) -> Result<Option<plan::Model>, StorageError> {
        Ok(plan::Entity::find()
            .filter(plan::Column::Key.eq(key))
            .one(&self.db.conn)
            .await?)
    }

    /// The memberships of `user`, with their tenants, oldest first.
    pub async fn memberships_of_user(
        &self,
        user: i64,
    ) -> Result<Vec<UserMembership>, StorageError> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user))
            .order_by_asc(membership::Column::Id)
            .all(&self.db.conn)
            .await?;
        let ids: Vec<i64> = memberships.iter().map(|m| m.tenant_id).collect();
        let tenants = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(ids))
            .all(&self.db.conn)
            .await?;
        Ok(memberships
            .into_iter()
            .filter_map(|membership| {
                let tenant = tenants.iter().find(|t| t.id == membership.tenant_id)?;
                Some(UserMembership {
                    tenant: tenant.clone(),
                    membership,
                })
            })
            .collect())
    }

    /// Every membership of every tenant, for loading the role policy.
    pub async fn all_memberships(&self) -> Result<Vec<membership::Model>, StorageError> {
        Ok(membership::Entity::find()
            .order_by_asc(membership::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// Every custom role of every tenant, for loading the role policy.
    pub async fn all_roles(&self) -> Result<Vec<role::Model>, StorageError> {
        Ok(role::Entity::find()
            .order_by_asc(role::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// The invitation whose token hashes to `hash`, in whichever tenant issued it.
    pub async fn invitation_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<invitation::Model>, StorageError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(hash))
            .one(&self.db.conn)
            .await?)
    }

    /// Deletes tenant `id` and, through the foreign keys, every row it owns; returns whether it existed.
    pub async fn delete_tenant(&self, id: i64) -> Result<bool, StorageError> {
        let res = tenant::Entity::delete_many()
            .filter(Condition::all().add(tenant::Column::Id.eq(id)))
            .exec(&self.db.conn)
            .await?;
        Ok(res.rows_affected == 1)
    }
}

/// Outbox rows no relay holds a claim on at `now`.
fn unclaimed(now: Millis) -> Condition {
    Condition::any()
        .add(outbox::Column::ClaimedUntil.is_null())
        .add(outbox::Column::ClaimedUntil.lt(now))
}
