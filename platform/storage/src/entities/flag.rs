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
