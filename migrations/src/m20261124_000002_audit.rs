//! The audit log: an append-only, per-tenant hash chain of events, and the chain's head on each tenant
//! row (whose update also serialises appends within a tenant).

use crate::schema::{big, index, n, tenant_table, text, unique};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Creates `audit_events` and the chain head columns of `tenants`.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Text stored byte-for-byte (hashed as written): `LONGTEXT` on MySQL, whose `TEXT` holds only 64 KiB.
fn exact_text(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut col = ColumnDef::new(n(name));
    match backend {
        DbBackend::MySql => col.custom(n("LONGTEXT")),
        _ => col.text(),
    };
    col.not_null().to_owned()
}

fn audit_events(backend: DbBackend) -> TableCreateStatement {
    tenant_table("audit_events")
        .col(big("seq"))
        .col(big("occurred_at"))
        .col(text("actor", 200))
        .col(text("actor_type", 16))
        .col(text("actor_id", 64))
        .col(text("ip", 64))
        .col(text("user_agent", 512))
        .col(text("action", 64))
        .col(text("resource_type", 32))
        .col(text("resource_id", 64))
        .col(text("environment", 64))
        .col(exact_text(backend, "before"))
        .col(exact_text(backend, "after"))
        .col(text("prev_hash", 64))
        .col(text("hash", 64))
        .to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = |col: ColumnDef| {
            Table::alter()
                .table(n("tenants"))
                .add_column(col)
                .to_owned()
        };
        manager
            .alter_table(add(ColumnDef::new(n("audit_seq"))
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()))
            .await?;
        manager
            .alter_table(add(ColumnDef::new(n("audit_head"))
                .string_len(64)
                .not_null()
                .default("")
                .to_owned()))
            .await?;
        manager
            .create_table(audit_events(manager.get_database_backend()))
            .await?;
        manager
            .create_index(unique("audit_events", &["tenant_id", "seq"]))
            .await?;
        manager
            .create_index(index("audit_events", &["tenant_id", "occurred_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(n("audit_events")).to_owned())
            .await?;
        for col in ["audit_head", "audit_seq"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(n("tenants"))
                        .drop_column(n(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
