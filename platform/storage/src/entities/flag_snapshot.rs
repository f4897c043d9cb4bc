//! The `flag_snapshots` table.

use sea_orm::entity::prelude::*;

/// One row of `flag_snapshots`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flag_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub environment_id: i64,
    pub flag: Json,
    pub updated_by: String,
    pub created_at: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub flag_id: i64,
    pub environment_id: i64,
    pub flag: Json,
    pub updated_by: String,
    pub created_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            flag_id: self.flag_id,
            environment_id: self.environment_id,
            flag: self.flag,
            updated_by: self.updated_by,
            created_at: self.created_at,
        }
    }
}
