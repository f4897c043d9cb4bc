//! The `variant_counts` table: evaluations of one flag in one environment and hour (Unix seconds at
//! its start, UTC) that one segment and variant served (`0` for none).

use sea_orm::entity::prelude::*;

/// One row of `variant_counts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "variant_counts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub flag_id: i64,
    pub hour: i64,
    pub segment_id: i64,
    pub variant_id: i64,
    pub evaluations: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
