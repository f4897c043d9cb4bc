//! SCIM provisioning: the people an identity provider provisions into a tenant (`scim_users`, each
//! linked to an account once it has an email address), its groups (`scim_groups`) and their members (`scim_group_members`).

use crate::m20261124_000006_row_level_security::{run, secure, unsecure};
use crate::schema::{big, big_null, index, n, parent, tenant_table, text, text_null, unique};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The provisioned people.
pub(crate) const USERS: &str = "scim_users";
/// The provisioned groups.
pub(crate) const GROUPS: &str = "scim_groups";
/// Who is in which group.
pub(crate) const MEMBERS: &str = "scim_group_members";

/// The new tenant-owned tables, behind row-level security on PostgreSQL.
pub(crate) const TABLES: [&str; 3] = [USERS, GROUPS, MEMBERS];

/// Creates the SCIM tables.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(USERS)
                    // The account; NULL while the person has no email address to know it by.
                    .col(big_null("user_id"))
                    // `userName` as the IdP sent it, and lower-cased for lookups (it is not
                    // case-sensitive).
                    .col(text("user_name", 320))
                    .col(text("user_name_key", 320))
                    .col(text_null("external_id", 512))
                    // `active` as the IdP sent it: false is provisioned but not a member
                    // (deactivated); NULL (never sent, or removed) counts as active.
                    .col(ColumnDef::new(n("active")).boolean().null())
                    // The SCIM attributes Flagent keeps besides the account's own, as JSON
                    // (`name`, `displayName`, `emails`, …).
                    .col(ColumnDef::new(n("attributes")).text().not_null())
                    .col(big("created_at"))
                    .col(big("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_users_user")
                            .from(n(USERS), n("user_id"))
                            .to(n("users"), n("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(USERS, &["tenant_id", "user_id"]))
            .await?;
        manager
            .create_index(unique(USERS, &["tenant_id", "user_name_key"]))
            .await?;
        manager
            .create_index(index(USERS, &["tenant_id", "external_id"]))
            .await?;
        manager
            .create_table(
                tenant_table(GROUPS)
                    .col(text("display_name", 256))
                    // Lower-cased, unique in the tenant: a group names a role through the mapping
                    // rules, so two groups of one name would be one.
                    .col(text("display_name_key", 256))
                    .col(text_null("external_id", 512))
                    .col(big("created_at"))
                    .col(big("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(GROUPS, &["tenant_id", "display_name_key"]))
            .await?;
        manager
            .create_table(
                tenant_table(MEMBERS)
                    .col(big("group_id"))
                    .col(big("scim_user_id"))
                    // The member's `display` as the IdP sent it when adding them (RFC 7643 §2.4:
                    // immutable, so set only then); NULL shows the person's userName.
                    .col(text_null("display", 256))
                    .foreign_key(&mut parent(
                        MEMBERS,
                        "group_id",
                        GROUPS,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut parent(
                        MEMBERS,
                        "scim_user_id",
                        USERS,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(MEMBERS, &["tenant_id", "group_id", "scim_user_id"]))
            .await?;
        manager
            .create_index(index(MEMBERS, &["tenant_id", "scim_user_id"]))
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
        for table in [MEMBERS, GROUPS, USERS] {
            manager
                .drop_table(Table::drop().table(n(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
