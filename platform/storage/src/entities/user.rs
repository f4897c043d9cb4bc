//! The `users` table: a person who can log in; global, since one user may belong to several tenants.

use sea_orm::entity::prelude::*;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub sessions_valid_after: i64,
    pub platform_admin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
