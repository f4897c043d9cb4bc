//! Cross-tenant access for the composition root: bootstrap, key authentication and cache warm-up.
//!
//! Invariant: reached only through [`crate::Db::system`], which needs a `SystemScope`.
#![allow(clippy::disallowed_methods)] // Cross-tenant by design; reached only with a SystemScope.

use crate::{Db, StorageError, entities::*};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Where an environment's configuration stands, without its other columns: what revision polling
/// compares with its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvironmentMark {
    /// The tenant owning the environment.
    pub tenant_id: i64,
    /// The environment's id.
    pub id: i64,
    /// Its configuration revision.
    pub revision: i64,
    /// Whether it is archived (and so no longer evaluated).
    pub archived: bool,
}

/// Access across tenants, for the few jobs that must have it.
pub struct SystemDb<'a> {
    pub(crate) db: &'a Db,
}

impl SystemDb<'_> {
    /// How many tenants exist.
    pub async fn tenant_count(&self) -> Result<u64, StorageError> {
        use sea_orm::PaginatorTrait;
        Ok(tenant::Entity::find().count(&self.db.conn).await?)
    }

    /// The tenant with `key`.
    pub async fn tenant_by_key(&self, key: &str) -> Result<Option<tenant::Model>, StorageError> {
        Ok(tenant::Entity::find()
            .filter(tenant::Column::Key.eq(key))
            .one(&self.db.conn)
            .await?)
    }

    /// The tenant with `id`.
    pub async fn tenant(&self, id: i64) -> Result<Option<tenant::Model>, StorageError> {
        Ok(tenant::Entity::find_by_id(id).one(&self.db.conn).await?)
    }

    /// Creates a tenant (its `id` is ignored).
    pub async fn insert_tenant(&self, model: tenant::Model) -> Result<tenant::Model, StorageError> {
        let mut row = model.into_active_model().reset_all();
        row.not_set(tenant::Column::Id);
        Ok(row.insert(&self.db.conn).await?)
    }

    /// The API key whose SHA-256 is `hash`, in whichever tenant holds it.
    pub async fn api_key_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<api_key::Model>, StorageError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(hash))
            .one(&self.db.conn)
            .await?)
    }

    /// Every API key of every tenant that is not revoked, for warming the key cache at start.
    pub async fn live_api_keys(&self) -> Result<Vec<api_key::Model>, StorageError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_null())
            .order_by_asc(api_key::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// Every tenant.
    pub async fn tenants(&self) -> Result<Vec<tenant::Model>, StorageError> {
        Ok(tenant::Entity::find()
            .order_by_asc(tenant::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// Every live (not archived) environment of every tenant, for warming the evaluation cache at start.
    pub async fn all_environments(&self) -> Result<Vec<environment::Model>, StorageError> {
        Ok(environment::Entity::find()
            .filter(environment::Column::ArchivedAt.is_null())
            .order_by_asc(environment::Column::SortOrder)
            .order_by_asc(environment::Column::Id)
            .all(&self.db.conn)
            .await?)
    }

    /// Every environment of every tenant, live or archived, whose change marker `revised_at` is at or
    /// after `since` (milliseconds): one indexed query returning four columns a row.
    pub async fn environments_revised_since(
        &self,
        since: i64,
    ) -> Result<Vec<EnvironmentMark>, StorageError> {
        let rows: Vec<(i64, i64, i64, Option<i64>)> = environment::Entity::find()
            .select_only()
            .column(environment::Column::TenantId)
            .column(environment::Column::Id)
            .column(environment::Column::Revision)
            .column(environment::Column::ArchivedAt)
            .filter(environment::Column::RevisedAt.gte(since))
            .into_tuple()
            .all(&self.db.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, id, revision, archived_at)| EnvironmentMark {
                tenant_id,
                id,
                revision,
                archived: archived_at.is_some(),
            })
            .collect())
    }
}
