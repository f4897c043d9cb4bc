//! The `sso_domains` table: an email domain a tenant claims, the token its DNS TXT record must hold, and
//! when it was proven.

use sea_orm::entity::prelude::*;

/// One row of `sso_domains`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_domains")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub domain: String,
    pub token: String,
    pub verified_at: Option<i64>,
    pub verified_domain: Option<String>,
    pub created_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub domain: String,
    pub token: String,
    pub created_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there), not yet verified.
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            domain: self.domain,
            token: self.token,
            verified_at: None,
            verified_domain: None,
            created_at: self.created_at,
        }
    }
}
