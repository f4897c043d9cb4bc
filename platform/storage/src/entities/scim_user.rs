//! The `scim_users` table: a person an identity provider provisioned into a tenant over SCIM, linked to their
//! account once they have an email address; inactive when the provider deactivated them.

use sea_orm::entity::prelude::*;

/// One row of `scim_users`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub user_name_key: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub attributes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Model {
    /// Whether the person is active: `active` is true or was never assigned.
    pub fn is_active(&self) -> bool {
        self.active != Some(false)
    }
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub user_id: Option<i64>,
    pub user_name: String,
    pub user_name_key: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub attributes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            user_id: self.user_id,
            user_name: self.user_name,
            user_name_key: self.user_name_key,
            external_id: self.external_id,
            active: self.active,
            attributes: self.attributes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
