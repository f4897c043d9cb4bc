//! The `metric_entities` table. One exposed entity's values of one metric for one flag: `x` after
//! exposure (uncapped), `y` the ratio's denominator or the value before exposure, `first_at` the time of
//! the first event after exposure it counted (epoch ms).

use sea_orm::entity::prelude::*;

/// One row of `metric_entities`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_entities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub flag_id: i64,
    pub metric_id: i64,
    pub entity: i64,
    pub variant_id: i64,
    pub day: i64,
    pub x: f64,
    pub y: f64,
    pub first_at: Option<i64>,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
