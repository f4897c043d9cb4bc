//! The `crashes` table. A raw crash report, in its group.

use sea_orm::entity::prelude::*;

/// One row of `crashes`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "crashes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub group_id: i64,
    pub entity: i64,
    pub app_version: String,
    pub message: String,
    #[sea_orm(column_type = "Text")]
    pub frames: String,
    #[sea_orm(column_type = "Text")]
    pub flags: String,
    pub occurred_at: i64,
    pub received_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
