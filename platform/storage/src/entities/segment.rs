//! The `segments` table.

use sea_orm::entity::prelude::*;

/// One row of `segments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "segments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub environment_id: i64,
    pub description: String,
    pub rank: i64,
    pub rollout_percent: i64,
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
    pub description: String,
    pub rank: i64,
    pub rollout_percent: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            flag_id: self.flag_id,
            environment_id: self.environment_id,
            description: self.description,
            rank: self.rank,
            rollout_percent: self.rollout_percent,
        }
    }
}
