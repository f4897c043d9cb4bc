//! The `distributions` table.

use sea_orm::entity::prelude::*;

/// One row of `distributions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "distributions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub segment_id: i64,
    pub variant_id: i64,
    pub variant_key: String,
    pub percent: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub segment_id: i64,
    pub variant_id: i64,
    pub variant_key: String,
    pub percent: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            segment_id: self.segment_id,
            variant_id: self.variant_id,
            variant_key: self.variant_key,
            percent: self.percent,
        }
    }
}
