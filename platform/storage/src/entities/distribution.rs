//! The `distributions` table.

use sea_orm::entity::prelude::*;

/// One row of `distributions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "distributions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub segment_id: i64,
    pub variant_id: i64,
    pub variant_key: String,
    pub percent: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
