//! Queries over a tenant's API keys: a project's keys, one key, revoking a key and recording its use.
//!
//! Invariant: keys are never deleted here; revoking sets `revoked_at` once and never moves it.

use crate::{Millis, Scoped, StorageError, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

impl<C: ConnectionTrait> Scoped<C> {
    /// The API keys of `project`, ascending id.
    pub async fn api_keys_of_project(
        &self,
        project: i64,
    ) -> Result<Vec<api_key::Model>, StorageError> {
        Ok(self
            .select::<api_key::Entity>()
            .filter(api_key::Column::ProjectId.eq(project))
            .order_by_asc(api_key::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The API key `id` of `project`.
    pub async fn api_key_in_project(
        &self,
        project: i64,
        id: i64,
    ) -> Result<Option<api_key::Model>, StorageError> {
        Ok(self
            .select::<api_key::Entity>()
            .filter(api_key::Column::ProjectId.eq(project))
            .filter(api_key::Column::Id.eq(id))
            .one(&self.conn)
            .await?)
    }

    /// Sets `revoked_at` of key `id` of `project` to `at` unless it is already revoked; returns whether
    /// this call revoked it.
    pub async fn revoke_api_key(
        &self,
        project: i64,
        id: i64,
        at: Millis,
    ) -> Result<bool, StorageError> {
        let changed = self
            .update_columns::<api_key::Entity>(
                Condition::all()
                    .add(api_key::Column::ProjectId.eq(project))
                    .add(api_key::Column::Id.eq(id))
                    .add(api_key::Column::RevokedAt.is_null()),
                vec![(api_key::Column::RevokedAt, Expr::value(at))],
            )
            .await?;
        Ok(changed > 0)
    }

    /// Raises `last_used_at` of key `id` to `at`; an older instant never overwrites a newer one, so
    /// several servers flushing in any order keep the latest use.
    pub async fn record_api_key_use(&self, id: i64, at: Millis) -> Result<(), StorageError> {
        self.update_columns::<api_key::Entity>(
            Condition::all().add(api_key::Column::Id.eq(id)).add(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lt(at)),
            ),
            vec![(api_key::Column::LastUsedAt, Expr::value(at))],
        )
        .await?;
        Ok(())
    }
}
