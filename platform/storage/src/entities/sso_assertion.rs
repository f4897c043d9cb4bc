//! The `sso_assertions` table: a SAML assertion already used to sign in, remembered until it expires so
//! that it cannot be used again, on any node.

use sea_orm::entity::prelude::*;

/// One row of `sso_assertions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_assertions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub provider_id: i64,
    pub assertion_hash: String,
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
    pub assertion_hash: String,
    pub expires_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            provider_id: self.provider_id,
            assertion_hash: self.assertion_hash,
            expires_at: self.expires_at,
        }
    }
}
