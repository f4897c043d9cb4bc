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

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub key: String,
    pub name: String,
    pub permissions: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            key: self.key,
            name: self.name,
            permissions: self.permissions,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
