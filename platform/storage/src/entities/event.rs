//! The `events` table. A raw event an application sent: its key, the (hashed) entity, when it
//! happened, its value and properties.

use sea_orm::entity::prelude::*;

/// One row of `events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub event_key: String,
    pub entity: i64,
    pub occurred_at: i64,
    pub value: Option<f64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub properties: Option<String>,
    pub received_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
