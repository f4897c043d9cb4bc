//! The `exposure_daily` table. Entities first exposed to one flag's variant in one environment on
//! one day (days since the Unix epoch).

use sea_orm::entity::prelude::*;

/// One row of `exposure_daily`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "exposure_daily")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub flag_id: i64,
    pub variant_id: i64,
    pub day: i64,
    pub entities: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
