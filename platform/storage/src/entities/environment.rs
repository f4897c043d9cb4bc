//! The `environments` table.

use sea_orm::entity::prelude::*;

/// One row of `environments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "environments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub project_id: i64,
    pub key: String,
    pub name: String,
    pub sort_order: i64,
    pub color: String,
    pub revision: i64,
    pub created_at: i64,
    /// When the environment was archived (`None` while live).
    pub archived_at: Option<i64>,
    /// When the revision was last bumped, or the environment created or archived (milliseconds; the
    /// change marker revision polling reads).
    pub revised_at: i64,
}

/// No relations are declared: joins are written in the repositories, always tenant-filtered.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub project_id: i64,
    pub key: String,
    pub name: String,
    pub sort_order: i64,
    pub color: String,
    pub revision: i64,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    pub revised_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            project_id: self.project_id,
            key: self.key,
            name: self.name,
            sort_order: self.sort_order,
            color: self.color,
            revision: self.revision,
            created_at: self.created_at,
            archived_at: self.archived_at,
            revised_at: self.revised_at,
        }
    }
}
