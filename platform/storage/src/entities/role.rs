//! The `roles` table: a tenant's custom role: a key, a name and its permissions as a JSON array of strings.

use sea_orm::entity::prelude::*;

/// One row of `roles`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub key: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub permissions: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
