//! A change marker on environments: `revised_at` (milliseconds) is set whenever an environment's
//! configuration revision is bumped, when it is created and when it is archived, so revision polling
//! reads only the environments revised since its last pass instead of every environment of every tenant.
//!
//! Existing rows get 0: a node's first pass after start reads every environment anyway.

use crate::schema::n;
use sea_orm_migration::prelude::*;

/// The index's name, short enough for every backend.
const INDEX: &str = "ix_environments_revised_at";

/// Adds `environments.revised_at BIGINT NOT NULL DEFAULT 0` and an index on it.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(n("environments"))
                    .add_column(
                        ColumnDef::new(n("revised_at"))
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(n("environments"))
                    .col(n("revised_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(n("environments"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(n("environments"))
                    .drop_column(n("revised_at"))
                    .to_owned(),
            )
            .await
    }
}
