//! The `sso_providers` table: a tenant's identity provider (OIDC or SAML): its public configuration as JSON,
//! its secret sealed, the default role and the role mapping rules.

use sea_orm::entity::prelude::*;

/// One row of `sso_providers`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    #[sea_orm(column_type = "Text")]
    pub config: String,
    #[sea_orm(column_type = "Text")]
    pub secret: Option<String>,
    pub default_role: String,
    #[sea_orm(column_type = "Text")]
    pub role_rules: String,
    pub resync_roles: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub config: String,
    pub secret: Option<String>,
    pub default_role: String,
    pub role_rules: String,
    pub resync_roles: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            name: self.name,
            kind: self.kind,
            enabled: self.enabled,
            config: self.config,
            secret: self.secret,
            default_role: self.default_role,
            role_rules: self.role_rules,
            resync_roles: self.resync_roles,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
