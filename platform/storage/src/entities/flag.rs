//! The `flags` table.

use sea_orm::entity::prelude::*;

/// One row of `flags`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub project_id: i64,
    pub key: String,
    pub description: String,
    pub salt: String,
    pub bucketing: String,
    pub entity_type: Option<String>,
    pub notes: String,
    pub data_records_enabled: bool,
    pub default_variant: Option<String>,
    pub depends_on: Json,
    pub version: i64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub project_id: i64,
    pub key: String,
    pub description: String,
    pub salt: String,
    pub bucketing: String,
    pub entity_type: Option<String>,
    pub notes: String,
    pub data_records_enabled: bool,
    pub default_variant: Option<String>,
    pub depends_on: Json,
    pub version: i64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            project_id: self.project_id,
            key: self.key,
            description: self.description,
            salt: self.salt,
            bucketing: self.bucketing,
            entity_type: self.entity_type,
            notes: self.notes,
            data_records_enabled: self.data_records_enabled,
            default_variant: self.default_variant,
            depends_on: self.depends_on,
            version: self.version,
            created_by: self.created_by,
            updated_by: self.updated_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        }
    }
}
