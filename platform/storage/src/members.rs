//! Queries over a tenant's members, custom roles and invitations.

use crate::{Millis, Scoped, StorageError, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// This tenant's memberships, oldest first.
    pub async fn memberships(&self) -> Result<Vec<membership::Model>, StorageError> {
        Ok(self
            .select::<membership::Entity>()
            .order_by_asc(membership::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The membership of `user` in this tenant.
    pub async fn membership_of(
        &self,
        user: i64,
    ) -> Result<Option<membership::Model>, StorageError> {
        Ok(self
            .select::<membership::Entity>()
            .filter(membership::Column::UserId.eq(user))
            .one(&self.conn)
            .await?)
    }

    /// Removes `user` from this tenant; returns whether they were a member.
    pub async fn delete_membership(&self, user: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<membership::Entity>(
                Condition::all().add(membership::Column::UserId.eq(user)),
            )
            .await?;
        Ok(gone > 0)
    }

    /// This tenant's custom roles, by key.
    pub async fn roles(&self) -> Result<Vec<role::Model>, StorageError> {
        Ok(self
            .select::<role::Entity>()
            .order_by_asc(role::Column::Key)
            .all(&self.conn)
            .await?)
    }

    /// The custom role `key` of this tenant.
    pub async fn role_by_key(&self, key: &str) -> Result<Option<role::Model>, StorageError> {
        Ok(self
            .select::<role::Entity>()
            .filter(role::Column::Key.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// Deletes the custom role `key`; returns whether it existed.
    pub async fn delete_role(&self, key: &str) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<role::Entity>(Condition::all().add(role::Column::Key.eq(key)))
            .await?;
        Ok(gone > 0)
    }

    /// This tenant's invitations that are neither accepted nor revoked, newest first.
    pub async fn pending_invitations(&self) -> Result<Vec<invitation::Model>, StorageError> {
        Ok(self
            .select::<invitation::Entity>()
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .order_by_desc(invitation::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Marks invitation `id` accepted (`accepted`) or revoked at `at`, unless it was already either;
    /// returns whether this call closed it.
    pub async fn close_invitation(
        &self,
        id: i64,
        accepted: bool,
        at: Millis,
    ) -> Result<bool, StorageError> {
        let column = if accepted {
            invitation::Column::AcceptedAt
        } else {
            invitation::Column::RevokedAt
        };
        let changed = self
            .update_columns::<invitation::Entity>(
                Condition::all()
                    .add(invitation::Column::Id.eq(id))
                    .add(invitation::Column::AcceptedAt.is_null())
                    .add(invitation::Column::RevokedAt.is_null()),
                vec![(column, Expr::value(at))],
            )
            .await?;
        Ok(changed > 0)
    }
}
