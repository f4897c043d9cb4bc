//! The `experiments` table. A flag's experiment settings: its control variant and the correction
//! across secondary metrics.

use sea_orm::entity::prelude::*;

/// One row of `experiments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "experiments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub flag_id: i64,
    pub control_variant_id: Option<i64>,
    pub correction: String,
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
    pub flag_id: i64,
    pub control_variant_id: Option<i64>,
    pub correction: String,
    pub updated_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            flag_id: self.flag_id,
            control_variant_id: self.control_variant_id,
            correction: self.correction,
            updated_at: self.updated_at,
        }
    }
}
