//! The `metric_daily` table. Sums of one metric's per-entity values over the entities first exposed
//! to one variant on one day.

use sea_orm::entity::prelude::*;

/// One row of `metric_daily`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_daily")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub flag_id: i64,
    pub metric_id: i64,
    pub variant_id: i64,
    pub day: i64,
    pub sum_x: f64,
    pub sum_x_sq: f64,
    pub sum_y: f64,
    pub sum_y_sq: f64,
    pub sum_xy: f64,
    pub nonzero: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub sketch: Option<String>,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
