//! The `variants` table.

use sea_orm::entity::prelude::*;

/// One row of `variants`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "variants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub key: String,
    pub attachment: Json,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
