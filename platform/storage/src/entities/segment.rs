//! The `segments` table.

use sea_orm::entity::prelude::*;

/// One row of `segments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "segments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub environment_id: i64,
    pub description: String,
    pub rank: i64,
    pub rollout_percent: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
