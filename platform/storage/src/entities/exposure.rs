//! The `exposures` table. A first exposure: the variant one (hashed) entity was first served of one
//! flag in one environment, and when.

use sea_orm::entity::prelude::*;

/// One row of `exposures`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "exposures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub flag_id: i64,
    pub variant_id: i64,
    pub entity: i64,
    pub exposed_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
