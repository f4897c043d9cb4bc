//! The `flag_snapshots` table.

use sea_orm::entity::prelude::*;

/// One row of `flag_snapshots`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flag_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub environment_id: i64,
    pub flag: Json,
    pub updated_by: String,
    pub created_at: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
