//! The `sso_logins` table: a sign-in started in a browser and sent to an identity provider, until it comes
//! back or expires.

use sea_orm::entity::prelude::*;

/// One row of `sso_logins`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_logins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub provider_id: i64,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub binding: String,
    pub next: String,
    pub created_at: i64,
    pub expires_at: i64,
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
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub binding: String,
    pub next: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            provider_id: self.provider_id,
            state: self.state,
            nonce: self.nonce,
            verifier: self.verifier,
            binding: self.binding,
            next: self.next,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}
