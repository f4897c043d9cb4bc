//! Variant counts: how many evaluations of a flag each segment and variant served, per environment and
//! hour, for the experiments view. Counts outlive the segments and variants they name (no foreign keys
//! to them), so an experiment's history stays readable after its configuration changes.

use crate::m20261124_000006_row_level_security::{run, secure, unsecure};
use crate::schema::{big, n, tenant_table};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The table's name.
pub(crate) const TABLE: &str = "variant_counts";

/// Creates `variant_counts` (behind row-level security on PostgreSQL).
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(TABLE)
                    .col(big("environment_id"))
                    .col(big("flag_id"))
                    // Unix seconds at the start of the hour (UTC).
                    .col(big("hour"))
                    // 0 when no segment matched, or none served a variant.
                    .col(big("segment_id"))
                    // 0 when no variant was served.
                    .col(big("variant_id"))
                    .col(big("evaluations"))
                    .to_owned(),
            )
            .await?;
        // Named by hand: the generated name would exceed MySQL's 64 characters.
        let mut key = Index::create();
        key.name("ux_variant_counts_key").table(n(TABLE)).unique();
        for column in [
            "tenant_id",
            "environment_id",
            "flag_id",
            "hour",
            "segment_id",
            "variant_id",
        ] {
            key.col(n(column));
        }
        manager.create_index(key.to_owned()).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            run(manager, secure(TABLE)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            run(manager, unsecure(TABLE)).await?;
        }
        manager
            .drop_table(Table::drop().table(n(TABLE)).to_owned())
            .await
    }
}
