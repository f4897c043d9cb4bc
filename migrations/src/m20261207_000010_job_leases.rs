//! Background work that must run on one node at a time: `job_leases` holds, per job, which node holds
//! it and until when (milliseconds); `outbox.claimed_until` lets a mail relay claim a message before
//! sending it, so two relays never send the same message.
//!
//! `generation` counts every acquisition and renewal, so an `UPDATE` that takes or renews a lease always
//! changes the row (MySQL reports unchanged rows as not affected).

use crate::schema::{big, big_null, n, table, text, unique};
use sea_orm_migration::prelude::*;

/// The lease table's name.
const TABLE: &str = "job_leases";

/// Creates `job_leases` and adds `outbox.claimed_until`.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(TABLE)
                    .col(text("name", 100))
                    .col(text("owner", 100))
                    .col(big("lease_until"))
                    .col(big("generation"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(unique(TABLE, &["name"])).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(n("outbox"))
                    .add_column(big_null("claimed_until"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(n("outbox"))
                    .drop_column(n("claimed_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(n(TABLE)).to_owned())
            .await
    }
}
