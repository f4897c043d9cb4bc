//! The `crash_groups` table. A crash group: the crash reports of one environment sharing a
//! fingerprint, with counts and when they were seen.

use sea_orm::entity::prelude::*;

/// One row of `crash_groups`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "crash_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub environment_id: i64,
    pub fingerprint: String,
    pub platform: String,
    pub error_type: String,
    pub message: String,
    #[sea_orm(column_type = "Text")]
    pub frames: String,
    #[sea_orm(column_type = "Text")]
    pub app_versions: String,
    pub occurrences: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub environment_id: i64,
    pub fingerprint: String,
    pub platform: String,
    pub error_type: String,
    pub message: String,
    pub frames: String,
    pub app_versions: String,
    pub occurrences: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            environment_id: self.environment_id,
            fingerprint: self.fingerprint,
            platform: self.platform,
            error_type: self.error_type,
            message: self.message,
            frames: self.frames,
            app_versions: self.app_versions,
            occurrences: self.occurrences,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}
