//! Queries over a tenant's projects, environments and API keys.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// The project with `key`.
    pub async fn project_by_key(&self, key: &str) -> Result<Option<project::Model>, StorageError> {
        Ok(self
            .select::<project::Entity>()
            .filter(project::Column::Key.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// The live (not archived) environments of `project`, in display order.
    pub async fn environments_of_project(
        &self,
        project: i64,
    ) -> Result<Vec<environment::Model>, StorageError> {
        Ok(self
            .select::<environment::Entity>()
            .filter(environment::Column::ProjectId.eq(project))
            .filter(environment::Column::ArchivedAt.is_null())
            .order_by_asc(environment::Column::SortOrder)
            .order_by_asc(environment::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// Raises an environment's configuration revision by one and returns the new value; the same
    /// statement sets its change marker `revised_at` to now, so revision polling sees the change.
    pub async fn bump_revision(&self, environment: i64) -> Result<i64, StorageError> {
        let now = chrono::Utc::now().timestamp_millis();
        self.update_columns::<environment::Entity>(
            Condition::all().add(environment::Column::Id.eq(environment)),
            vec![
                (
                    environment::Column::Revision,
                    Expr::col(environment::Column::Revision).add(1),
                ),
                (environment::Column::RevisedAt, Expr::value(now)),
            ],
        )
        .await?;
        let env = self
            .get::<environment::Model>(environment)
            .await?
            .ok_or_else(|| anyhow::anyhow!("environment {environment} vanished"))?;
        Ok(env.revision)
    }

    /// The API keys of this tenant, ascending id.
    pub async fn api_keys(&self) -> Result<Vec<api_key::Model>, StorageError> {
        Ok(self
            .select::<api_key::Entity>()
            .order_by_asc(api_key::Column::Id)
            .all(&self.conn)
            .await?)
    }
}
