//! Queries over a tenant's identity providers, the users linked to them, the sign-ins in flight and the
//! SAML assertions already used, and the two cross-tenant lookups the public sign-in routes need.

use crate::{Millis, Scoped, StorageError, SystemDb, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// This tenant's identity providers, oldest first.
    pub async fn sso_providers(&self) -> Result<Vec<sso_provider::Model>, StorageError> {
        Ok(self
            .select::<sso_provider::Entity>()
            .order_by_asc(sso_provider::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Deletes identity provider `id` (its identities and sign-ins in flight go with it); returns
    /// whether it existed.
    pub async fn delete_sso_provider(&self, id: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<sso_provider::Entity>(
                Condition::all().add(sso_provider::Column::Id.eq(id)),
            )
            .await?;
        Ok(gone > 0)
    }

    /// This tenant's claimed email domains, in the order claimed.
    pub async fn sso_domains(&self) -> Result<Vec<sso_domain::Model>, StorageError> {
        Ok(self
            .select::<sso_domain::Entity>()
            .order_by_asc(sso_domain::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Deletes claimed domain `id`; returns whether it existed.
    pub async fn delete_sso_domain(&self, id: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<sso_domain::Entity>(Condition::all().add(sso_domain::Column::Id.eq(id)))
            .await?;
        Ok(gone > 0)
    }

    /// The user linked to `subject` at provider `provider`.
    pub async fn sso_identity(
        &self,
        provider: i64,
        subject: &str,
    ) -> Result<Option<sso_identity::Model>, StorageError> {
        Ok(self
            .select::<sso_identity::Entity>()
            .filter(sso_identity::Column::ProviderId.eq(provider))
            .filter(sso_identity::Column::Subject.eq(subject))
            .one(&self.conn)
            .await?)
    }

    /// The sign-in in flight whose state is `state`.
    pub async fn sso_login(&self, state: &str) -> Result<Option<sso_login::Model>, StorageError> {
        Ok(self
            .select::<sso_login::Entity>()
            .filter(sso_login::Column::State.eq(state))
            .one(&self.conn)
            .await?)
    }

    /// Deletes the sign-in in flight `id`; returns whether this call deleted it, so of two requests
    /// finishing the same sign-in only one goes on.
    pub async fn take_sso_login(&self, id: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<sso_login::Entity>(Condition::all().add(sso_login::Column::Id.eq(id)))
            .await?;
        Ok(gone > 0)
    }

    /// Records that SAML assertion `assertion_hash` of provider `provider` was used, until
    /// `expires_at`; returns `false`, recording nothing, when it was used before (on any node: the
    /// unique key decides).
    pub async fn remember_sso_assertion(
        &self,
        provider: i64,
        assertion_hash: &str,
        expires_at: Millis,
    ) -> Result<bool, StorageError> {
        let inserted = self
            .insert_row(sso_assertion::New {
                provider_id: provider,
                assertion_hash: assertion_hash.to_owned(),
                expires_at,
            })
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(StorageError::Duplicate(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

impl SystemDb<'_> {
    /// Identity provider `id`, of whichever tenant: the public sign-in routes name a provider, and its
    /// tenant is what they act in.
    #[allow(clippy::disallowed_methods)] // A lookup by id across tenants, to learn the tenant.
    pub async fn sso_provider(&self, id: i64) -> Result<Option<sso_provider::Model>, StorageError> {
        use sea_orm::EntityTrait;
        Ok(sso_provider::Entity::find_by_id(id)
            .one(&self.db.conn)
            .await?)
    }

    /// The verified claim of `domain`, whichever tenant holds it: the sign-in page routes an email
    /// address to that tenant's providers.
    #[allow(clippy::disallowed_methods)] // A lookup by domain across tenants, to learn the tenant.
    pub async fn verified_sso_domain(
        &self,
        domain: &str,
    ) -> Result<Option<sso_domain::Model>, StorageError> {
        use sea_orm::EntityTrait;
        Ok(sso_domain::Entity::find()
            .filter(sso_domain::Column::VerifiedDomain.eq(domain))
            .one(&self.db.conn)
            .await?)
    }

    /// Deletes the sign-ins in flight that expired before `now`, in every tenant; returns how many.
    #[allow(clippy::disallowed_methods)] // Housekeeping across tenants.
    pub async fn delete_expired_sso_logins(&self, now: Millis) -> Result<u64, StorageError> {
        use sea_orm::EntityTrait;
        let done = sso_login::Entity::delete_many()
            .filter(sso_login::Column::ExpiresAt.lt(now))
            .exec(&self.db.conn)
            .await?;
        Ok(done.rows_affected)
    }

    /// Forgets the used SAML assertions that expired before `now`, in every tenant; returns how many.
    #[allow(clippy::disallowed_methods)] // Housekeeping across tenants.
    pub async fn delete_expired_sso_assertions(&self, now: Millis) -> Result<u64, StorageError> {
        use sea_orm::EntityTrait;
        let done = sso_assertion::Entity::delete_many()
            .filter(sso_assertion::Column::ExpiresAt.lt(now))
            .exec(&self.db.conn)
            .await?;
        Ok(done.rows_affected)
    }

    /// Ends every live session signed in through provider `provider`.
    #[allow(clippy::disallowed_methods)] // Sessions are global rows.
    pub async fn revoke_sessions_of_provider(
        &self,
        provider: i64,
        at: Millis,
    ) -> Result<u64, StorageError> {
        use sea_orm::EntityTrait;
        let done = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(at))
            .filter(session::Column::SsoProviderId.eq(provider))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&self.db.conn)
            .await?;
        Ok(done.rows_affected)
    }
}
