//! The `environments` table.

use sea_orm::entity::prelude::*;

/// One row of `environments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "environments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub project_id: i64,
    pub key: String,
    pub name: String,
    pub sort_order: i64,
    pub color: String,
    pub revision: i64,
    pub created_at: i64,
    /// When the environment was archived (`None` while live).
    pub archived_at: Option<i64>,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
