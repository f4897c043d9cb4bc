//! Queries over the people and groups an identity provider provisioned into a tenant over SCIM.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

impl<C: ConnectionTrait> Scoped<C> {
    /// One page of this tenant's provisioned people, by ascending id, and how many there are.
    pub async fn scim_users_page(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<scim_user::Model>, u64), StorageError> {
        let total = self.select::<scim_user::Entity>().count(&self.conn).await?;
        let rows = self
            .select::<scim_user::Entity>()
            .order_by_asc(scim_user::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.conn)
            .await?;
        Ok((rows, total))
    }

    /// Every provisioned person of this tenant, by ascending id.
    pub async fn scim_users(&self) -> Result<Vec<scim_user::Model>, StorageError> {
        Ok(self
            .select::<scim_user::Entity>()
            .order_by_asc(scim_user::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The provisioned person whose lower-cased `userName` is `key`.
    pub async fn scim_user_by_name(
        &self,
        key: &str,
    ) -> Result<Option<scim_user::Model>, StorageError> {
        Ok(self
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::UserNameKey.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// The provisioned people whose `externalId` is `external_id`.
    pub async fn scim_users_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Vec<scim_user::Model>, StorageError> {
        Ok(self
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::ExternalId.eq(external_id))
            .order_by_asc(scim_user::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The provisioned person linked to account `user_id`.
    pub async fn scim_user_of_account(
        &self,
        user_id: i64,
    ) -> Result<Option<scim_user::Model>, StorageError> {
        Ok(self
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::UserId.eq(user_id))
            .one(&self.conn)
            .await?)
    }

    /// Deletes provisioned person `id` (their group memberships go with them); returns whether it
    /// existed.
    pub async fn delete_scim_user(&self, id: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<scim_user::Entity>(Condition::all().add(scim_user::Column::Id.eq(id)))
            .await?;
        Ok(gone > 0)
    }

    /// One page of this tenant's provisioned groups, by ascending id, and how many there are.
    pub async fn scim_groups_page(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<scim_group::Model>, u64), StorageError> {
        let total = self
            .select::<scim_group::Entity>()
            .count(&self.conn)
            .await?;
        let rows = self
            .select::<scim_group::Entity>()
            .order_by_asc(scim_group::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.conn)
            .await?;
        Ok((rows, total))
    }

    /// Every provisioned group of this tenant, by ascending id.
    pub async fn scim_groups(&self) -> Result<Vec<scim_group::Model>, StorageError> {
        Ok(self
            .select::<scim_group::Entity>()
            .order_by_asc(scim_group::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The provisioned group whose lower-cased `displayName` is `key`.
    pub async fn scim_group_by_name(
        &self,
        key: &str,
    ) -> Result<Option<scim_group::Model>, StorageError> {
        Ok(self
            .select::<scim_group::Entity>()
            .filter(scim_group::Column::DisplayNameKey.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// The provisioned groups with ids `ids`, by ascending id (ids of other tenants are not found).
    pub async fn scim_groups_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<scim_group::Model>, StorageError> {
        Ok(self
            .select::<scim_group::Entity>()
            .filter(scim_group::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(scim_group::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The provisioned people with ids `ids`, by ascending id (ids of other tenants are not found).
    pub async fn scim_users_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<scim_user::Model>, StorageError> {
        Ok(self
            .select::<scim_user::Entity>()
            .filter(scim_user::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(scim_user::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Deletes provisioned group `id` (its memberships go with it); returns whether it existed.
    pub async fn delete_scim_group(&self, id: i64) -> Result<bool, StorageError> {
        let gone = self
            .delete_where::<scim_group::Entity>(Condition::all().add(scim_group::Column::Id.eq(id)))
            .await?;
        Ok(gone > 0)
    }

    /// The memberships of group `group`, or of every group when `None`.
    pub async fn scim_group_members(
        &self,
        group: Option<i64>,
    ) -> Result<Vec<scim_group_member::Model>, StorageError> {
        let mut select = self.select::<scim_group_member::Entity>();
        if let Some(group) = group {
            select = select.filter(scim_group_member::Column::GroupId.eq(group));
        }
        Ok(select
            .order_by_asc(scim_group_member::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The memberships of provisioned person `scim_user`.
    pub async fn scim_memberships_of(
        &self,
        scim_user: i64,
    ) -> Result<Vec<scim_group_member::Model>, StorageError> {
        Ok(self
            .select::<scim_group_member::Entity>()
            .filter(scim_group_member::Column::ScimUserId.eq(scim_user))
            .order_by_asc(scim_group_member::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Removes every member of group `group`.
    pub async fn clear_scim_group(&self, group: i64) -> Result<u64, StorageError> {
        self.delete_where::<scim_group_member::Entity>(
            Condition::all().add(scim_group_member::Column::GroupId.eq(group)),
        )
        .await
    }
}
