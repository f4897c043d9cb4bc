//! The `usage_counters` table: a tenant's evaluation count in one calendar month (`YYYY-MM`, UTC).

use sea_orm::entity::prelude::*;

/// One row of `usage_counters`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_counters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub period: String,
    pub evaluations: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
