//! Identity and plans: users (global, a user may belong to several tenants), their memberships and the
//! tenants' custom roles, invitations, one-time tokens (email verification, password reset), sessions,
//! the mail outbox, plan limits as data, per-tenant usage counters and server-wide settings.

use crate::schema::{
    big, big_null, boolean, index, long_text, n, table, tenant_table, text, text_null, unique,
};
use sea_orm_migration::prelude::*;

/// Creates the identity, plan and usage tables and seeds the plans.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Every table this migration creates, parents first.
const TABLES: &[&str] = &[
    "users",
    "user_tokens",
    "sessions",
    "outbox",
    "plans",
    "system_settings",
    "memberships",
    "roles",
    "invitations",
    "usage_counters",
];

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;

/// A foreign key from `table.user_id` to `users.id`.
fn user_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user"))
        .from(n(table), n("user_id"))
        .to(n("users"), n("id"))
        .on_delete(CASCADE)
        .to_owned()
}

fn users() -> TableCreateStatement {
    table("users")
        .col(text("email", 320))
        .col(text("name", 200))
        .col(text_null("password_hash", 255))
        .col(big_null("email_verified_at"))
        .col(big("failed_logins"))
        .col(big_null("locked_until"))
        .col(big("sessions_valid_after"))
        .col(boolean("platform_admin"))
        .col(big("created_at"))
        .col(big("updated_at"))
        .to_owned()
}

fn user_tokens() -> TableCreateStatement {
    table("user_tokens")
        .col(big("user_id"))
        .col(text("purpose", 32))
        .col(text("token_hash", 64))
        .col(big_null("tenant_id"))
        .col(big("created_at"))
        .col(big("expires_at"))
        .col(big_null("used_at"))
        .foreign_key(&mut user_fk("user_tokens"))
        .to_owned()
}

fn sessions() -> TableCreateStatement {
    table("sessions")
        .col(big("user_id"))
        .col(big("created_at"))
        .col(big("expires_at"))
        .col(big_null("revoked_at"))
        .col(text("ip", 64))
        .col(text("user_agent", 512))
        .foreign_key(&mut user_fk("sessions"))
        .to_owned()
}

fn outbox() -> TableCreateStatement {
    table("outbox")
        .col(text("recipient", 320))
        .col(text("subject", 300))
        .col(long_text("body"))
        .col(big("created_at"))
        .col(big_null("sent_at"))
        .to_owned()
}

fn plans() -> TableCreateStatement {
    table("plans")
        .col(text("key", 32))
        .col(text("name", 100))
        .col(big_null("seats"))
        .col(big_null("projects"))
        .col(big_null("environments"))
        .col(big_null("flags"))
        .col(big_null("monthly_evaluations"))
        .col(big_null("audit_retention_days"))
        .col(boolean("sso"))
        .to_owned()
}

fn system_settings() -> TableCreateStatement {
    table("system_settings")
        .col(text("key", 64))
        .col(long_text("value"))
        .to_owned()
}

fn memberships() -> TableCreateStatement {
    tenant_table("memberships")
        .col(big("user_id"))
        .col(text("role", 64))
        .col(big("created_at"))
        .foreign_key(&mut user_fk("memberships"))
        .to_owned()
}

fn roles() -> TableCreateStatement {
    tenant_table("roles")
        .col(text("key", 64))
        .col(text("name", 200))
        .col(long_text("permissions"))
        .col(big("created_at"))
        .col(big("updated_at"))
        .to_owned()
}

fn invitations() -> TableCreateStatement {
    tenant_table("invitations")
        .col(text("email", 320))
        .col(text("role", 64))
        .col(text("token_hash", 64))
        .col(text("invited_by", 200))
        .col(big("created_at"))
        .col(big("expires_at"))
        .col(big_null("accepted_at"))
        .col(big_null("revoked_at"))
        .to_owned()
}

fn usage_counters() -> TableCreateStatement {
    tenant_table("usage_counters")
        .col(text("period", 7))
        .col(big("evaluations"))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        unique("users", &["email"]),
        unique("user_tokens", &["token_hash"]),
        index("user_tokens", &["user_id"]),
        index("sessions", &["user_id"]),
        unique("plans", &["key"]),
        unique("system_settings", &["key"]),
        unique("memberships", &["tenant_id", "user_id"]),
        index("memberships", &["user_id"]),
        unique("roles", &["tenant_id", "key"]),
        unique("invitations", &["token_hash"]),
        index("invitations", &["tenant_id", "email"]),
        unique("usage_counters", &["tenant_id", "period"]),
    ]
}

/// The plans a tenant can be on: `None` is unlimited.
/// (key, name, seats, projects, environments per project, flags, monthly evaluations, audit days, SSO)
type PlanRow = (
    &'static str,
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
);

const PLANS: &[PlanRow] = &[
    (
        "free",
        "Free",
        Some(5),
        Some(2),
        Some(3),
        Some(100),
        Some(1_000_000),
        Some(30),
        false,
    ),
    (
        "pro",
        "Pro",
        Some(50),
        Some(20),
        Some(10),
        Some(5_000),
        Some(100_000_000),
        Some(365),
        false,
    ),
    (
        "enterprise",
        "Enterprise",
        None,
        None,
        None,
        None,
        None,
        Some(2_555),
        true,
    ),
    (
        "self-hosted",
        "Self-hosted",
        None,
        None,
        None,
        None,
        None,
        None,
        true,
    ),
];

fn seed_plans() -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(n("plans")).columns([
        n("key"),
        n("name"),
        n("seats"),
        n("projects"),
        n("environments"),
        n("flags"),
        n("monthly_evaluations"),
        n("audit_retention_days"),
        n("sso"),
    ]);
    for &(key, name, seats, projects, envs, flags, evals, audit, sso) in PLANS {
        insert.values_panic([
            key.into(),
            name.into(),
            seats.into(),
            projects.into(),
            envs.into(),
            flags.into(),
            evals.into(),
            audit.into(),
            sso.into(),
        ]);
    }
    insert.to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let creates = [
            users(),
            user_tokens(),
            sessions(),
            outbox(),
            plans(),
            system_settings(),
            memberships(),
            roles(),
            invitations(),
            usage_counters(),
        ];
        for create in creates {
            manager.create_table(create).await?;
        }
        for idx in indexes() {
            manager.create_index(idx).await?;
        }
        manager.exec_stmt(seed_plans()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(n(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}
