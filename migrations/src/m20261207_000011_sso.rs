//! Single sign-on: a tenant's identity providers (`sso_providers`, the client secret or private key sealed
//! with the server's secret keys), the link of a user to a provider's subject (`sso_identities`), the
//! sign-ins started in a browser and not yet finished (`sso_logins`), and which provider a session came
//! through (`sessions.sso_provider_id`).

use crate::m20261124_000006_row_level_security::{run, secure, unsecure};
use crate::schema::{big, big_null, boolean, long_text, n, parent, tenant_table, text, unique};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The identity providers.
pub(crate) const PROVIDERS: &str = "sso_providers";
/// Users linked to a provider's subject.
pub(crate) const IDENTITIES: &str = "sso_identities";
/// Sign-ins in flight.
pub(crate) const LOGINS: &str = "sso_logins";

/// The three tables, each behind row-level security on PostgreSQL.
pub(crate) const TABLES: [&str; 3] = [PROVIDERS, IDENTITIES, LOGINS];

/// Creates the SSO tables and adds `sessions.sso_provider_id`.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(PROVIDERS)
                    .col(text("name", 200))
                    // `oidc` or `saml`.
                    .col(text("kind", 16))
                    .col(boolean("enabled"))
                    // What the kind needs that is not secret, as JSON.
                    .col(long_text("config"))
                    // The client secret or private key, sealed; never sent anywhere.
                    .col(ColumnDef::new(n("secret")).text().null())
                    .col(text("default_role", 64))
                    // The role mapping rules, a JSON array, first match wins.
                    .col(long_text("role_rules"))
                    .col(boolean("resync_roles"))
                    .col(big("created_at"))
                    .col(big("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                tenant_table(IDENTITIES)
                    .col(big("provider_id"))
                    // OIDC `sub`, or the SAML NameID prefixed by its format.
                    .col(text("subject", 512))
                    .col(big("user_id"))
                    .col(big("created_at"))
                    .col(big("last_login_at"))
                    .foreign_key(&mut parent(
                        IDENTITIES,
                        "provider_id",
                        PROVIDERS,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_identities_user")
                            .from(n(IDENTITIES), n("user_id"))
                            .to(n("users"), n("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(IDENTITIES, &["tenant_id", "provider_id", "subject"]))
            .await?;
        manager
            .create_table(
                tenant_table(LOGINS)
                    .col(big("provider_id"))
                    // The random `state` (OIDC) or AuthnRequest id (SAML) the provider sends back.
                    .col(text("state", 64))
                    .col(text("nonce", 64))
                    // The PKCE verifier (OIDC; empty for SAML).
                    .col(text("verifier", 128))
                    // SHA-256 (hex) of the value of the browser's login cookie: the browser the sign-in
                    // started in is the only one that can finish it.
                    .col(text("binding", 64))
                    // Where the member goes afterwards (a path inside the UI).
                    .col(text("next", 1000))
                    .col(big("created_at"))
                    .col(big("expires_at"))
                    .foreign_key(&mut parent(
                        LOGINS,
                        "provider_id",
                        PROVIDERS,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(LOGINS, &["tenant_id", "state"]))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(n("sessions"))
                    .add_column(big_null("sso_provider_id"))
                    .to_owned(),
            )
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
            .alter_table(
                Table::alter()
                    .table(n("sessions"))
                    .drop_column(n("sso_provider_id"))
                    .to_owned(),
            )
            .await?;
        for table in [LOGINS, IDENTITIES, PROVIDERS] {
            manager
                .drop_table(Table::drop().table(n(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
