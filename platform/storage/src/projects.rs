//! Queries over a tenant's projects and their environments, for project and environment management.
//!
//! Invariant: archived environments are never returned; their rows stay (flag states, snapshots and
//! audit events keep pointing at them) and their keys stay taken.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// Every project of this tenant, ascending id.
    pub async fn projects(&self) -> Result<Vec<project::Model>, StorageError> {
        Ok(self
            .select::<project::Entity>()
            .order_by_asc(project::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The live environment of `project` with `key`.
    pub async fn environment_by_key(
        &self,
        project: i64,
        key: &str,
    ) -> Result<Option<environment::Model>, StorageError> {
        Ok(self
            .select::<environment::Entity>()
            .filter(environment::Column::ProjectId.eq(project))
            .filter(environment::Column::Key.eq(key))
            .filter(environment::Column::ArchivedAt.is_null())
            .one(&self.conn)
            .await?)
    }

    /// The highest `sort_order` among every environment of `project`, archived ones included.
    pub async fn last_environment_order(&self, project: i64) -> Result<Option<i64>, StorageError> {
        Ok(self
            .select::<environment::Entity>()
            .filter(environment::Column::ProjectId.eq(project))
            .order_by_desc(environment::Column::SortOrder)
            .one(&self.conn)
            .await?
            .map(|e| e.sort_order))
    }
}
