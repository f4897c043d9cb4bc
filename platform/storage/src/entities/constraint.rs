//! The `segment_constraints` table.

use sea_orm::entity::prelude::*;

/// One row of `segment_constraints`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_constraints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub segment_id: i64,
    pub property: String,
    pub operator: String,
    pub value: String,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
