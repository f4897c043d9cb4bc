//! The `system_settings` table: a server-wide setting, such as the session signing secret shared by every node.

use sea_orm::entity::prelude::*;

/// One row of `system_settings`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "system_settings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    #[sea_orm(column_type = "Text")]
    pub value: String,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
