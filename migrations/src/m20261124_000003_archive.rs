//! Archiving environments: an archived environment keeps its rows (flag states, snapshots, audit
//! references) but is no longer listed, selectable or evaluated.

use crate::schema::n;
use sea_orm_migration::prelude::*;

/// Adds `environments.archived_at` (milliseconds, `NULL` while live).
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(n("environments"))
                    .add_column(ColumnDef::new(n("archived_at")).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(n("environments"))
                    .drop_column(n("archived_at"))
                    .to_owned(),
            )
            .await
    }
}
