//! The `sso_identities` table: a user linked to the subject an identity provider knows them by.

use sea_orm::entity::prelude::*;

/// One row of `sso_identities`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub provider_id: i64,
    pub subject: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_login_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub provider_id: i64,
    pub subject: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_login_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            provider_id: self.provider_id,
            subject: self.subject,
            user_id: self.user_id,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
        }
    }
}
