//! Single sign-on, third part: the SAML assertions already used (`sso_assertions`), kept until they could
//! no longer be accepted, so an assertion replayed on any node is refused.

use crate::m20261124_000006_row_level_security::{run, secure, unsecure};
use crate::schema::{big, index, n, parent, tenant_table, text, unique};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The used assertions.
pub(crate) const ASSERTIONS: &str = "sso_assertions";

/// The new tenant-owned table, behind row-level security on PostgreSQL.
pub(crate) const TABLES: [&str; 1] = [ASSERTIONS];

/// Creates `sso_assertions`.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(ASSERTIONS)
                    .col(big("provider_id"))
                    // SHA-256 (hex) of the assertion's ID: fixed length whatever the IdP sends.
                    .col(text("assertion_hash", 64))
                    // When the assertion could no longer be accepted anyway; the row goes after that.
                    .col(big("expires_at"))
                    .foreign_key(&mut parent(
                        ASSERTIONS,
                        "provider_id",
                        "sso_providers",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // The second use of an assertion collides here, on whichever node it arrives.
        manager
            .create_index(unique(
                ASSERTIONS,
                &["tenant_id", "provider_id", "assertion_hash"],
            ))
            .await?;
        manager
            .create_index(index(ASSERTIONS, &["expires_at"]))
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                run(manager, secure(table)).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                run(manager, unsecure(table)).await?;
            }
        }
        manager
            .drop_table(Table::drop().table(n(ASSERTIONS)).to_owned())
            .await
    }
}
