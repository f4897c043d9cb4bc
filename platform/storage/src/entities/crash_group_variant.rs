//! The `crash_group_variants` table. How many crashes of a group had one flag's variant active.

use sea_orm::entity::prelude::*;

/// One row of `crash_group_variants`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "crash_group_variants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub group_id: i64,
    pub flag_key: String,
    pub variant_key: String,
    pub crashes: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
