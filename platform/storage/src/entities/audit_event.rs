//! The `audit_events` table: one immutable, hash-chained event per change to tenant data.

use sea_orm::entity::prelude::*;

/// One row of `audit_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i64,
    pub occurred_at: i64,
    pub actor: String,
    pub actor_type: String,
    pub actor_id: String,
    pub ip: String,
    pub user_agent: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub environment: String,
    pub before: String,
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
