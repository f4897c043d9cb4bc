//! The `plans` table: a plan's limits; `None` is unlimited.

use sea_orm::entity::prelude::*;

/// One row of `plans`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub seats: Option<i64>,
    pub projects: Option<i64>,
    pub environments: Option<i64>,
    pub flags: Option<i64>,
    pub monthly_evaluations: Option<i64>,
    pub audit_retention_days: Option<i64>,
    pub event_retention_days: Option<i64>,
    pub sso: bool,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
