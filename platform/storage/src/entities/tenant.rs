//! The `tenants` table.

use sea_orm::entity::prelude::*;

/// One row of `tenants`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub created_at: i64,
    pub audit_seq: i64,
    pub audit_head: String,
    pub sso_enforced: bool,
    /// A JSON array of user ids.
    pub sso_break_glass: String,
    /// The salt entity ids are hashed with before measurement stores them (hex); set on first use.
    pub entity_salt: Option<String>,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
