//! Single sign-on, second part: the email domains a tenant claims and proves with a DNS TXT record
//! (`sso_domains`), and whether the tenant's members must sign in through its providers
//! (`tenants.sso_enforced`, with the members still allowed a password: `tenants.sso_break_glass`).

use crate::m20261124_000006_row_level_security::{TENANT_ROLE, run, secure, unsecure};
use crate::schema::{big, big_null, boolean, n, tenant_table, text, text_null, unique};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The claimed email domains.
pub(crate) const DOMAINS: &str = "sso_domains";

/// The new tenant-owned table, behind row-level security on PostgreSQL.
pub(crate) const TABLES: [&str; 1] = [DOMAINS];

/// Creates `sso_domains` and adds the enforcement columns to `tenants`.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(DOMAINS)
                    // Lower case, without a trailing dot.
                    .col(text("domain", 253))
                    // The value the TXT record must hold.
                    .col(text("token", 64))
                    .col(big_null("verified_at"))
                    // The domain again once verified, else NULL: unique, so one tenant at most holds
                    // a domain verified (NULLs do not collide on any of the three databases).
                    .col(text_null("verified_domain", 253))
                    .col(big("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(DOMAINS, &["tenant_id", "domain"]))
            .await?;
        manager
            .create_index(unique(DOMAINS, &["verified_domain"]))
            .await?;
        for column in [
            boolean("sso_enforced").default(false).to_owned(),
            // A JSON array of the user ids who keep password sign-in while SSO is enforced.
            text("sso_break_glass", 2000).default("[]").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(n("tenants"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                run(manager, secure(table)).await?;
            }
            // An owner switches enforcement on their own tenant's row.
            run(
                manager,
                vec![format!(
                    "GRANT UPDATE (sso_enforced, sso_break_glass) ON TABLE tenants TO {TENANT_ROLE}"
                )],
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            run(
                manager,
                vec![format!(
                    "REVOKE UPDATE (sso_enforced, sso_break_glass) ON TABLE tenants FROM {TENANT_ROLE}"
                )],
            )
            .await?;
            for table in TABLES {
                run(manager, unsecure(table)).await?;
            }
        }
        for column in ["sso_break_glass", "sso_enforced"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(n("tenants"))
                        .drop_column(n(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(n(DOMAINS)).to_owned())
            .await
    }
}
