//! The core schema: tenants, projects, environments, flags with per-environment state, variants,
//! segments, constraints, distributions, tags, entity types, flag snapshots and API keys.

use crate::schema::{
    big, big_null, boolean, index, json, long_text, n, parent, table, tenant_table, text,
    text_null, unique,
};
use sea_orm_migration::prelude::*;

/// Creates the core schema.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 14] = [
    "tenants",
    "projects",
    "environments",
    "flags",
    "flag_states",
    "variants",
    "segments",
    "segment_constraints",
    "distributions",
    "tags",
    "flag_tags",
    "entity_types",
    "flag_snapshots",
    "api_keys",
];

fn tenants() -> TableCreateStatement {
    table("tenants")
        .col(text("key", 64))
        .col(text("name", 200))
        .col(text("status", 16))
        .col(text("plan", 32))
        .col(big("created_at"))
        .index(
            Index::create()
                .name("ux_tenants_key")
                .unique()
                .col(n("key")),
        )
        .to_owned()
}

fn projects() -> TableCreateStatement {
    tenant_table("projects")
        .col(text("key", 64))
        .col(text("name", 200))
        .col(big("created_at"))
        .to_owned()
}

fn environments() -> TableCreateStatement {
    tenant_table("environments")
        .col(big("project_id"))
        .col(text("key", 64))
        .col(text("name", 200))
        .col(big("sort_order"))
        .col(text("color", 16))
        .col(big("revision"))
        .col(big("created_at"))
        .foreign_key(&mut parent(
            "environments",
            "project_id",
            "projects",
            CASCADE,
        ))
        .to_owned()
}

fn flags() -> TableCreateStatement {
    tenant_table("flags")
        .col(big("project_id"))
        .col(text("key", 64))
        .col(long_text("description"))
        .col(text("salt", 128))
        .col(text("bucketing", 16))
        .col(text_null("entity_type", 128))
        .col(long_text("notes"))
        .col(boolean("data_records_enabled"))
        .col(text_null("default_variant", 64))
        .col(json("depends_on"))
        .col(big("version"))
        .col(text("created_by", 200))
        .col(text("updated_by", 200))
        .col(big("created_at"))
        .col(big("updated_at"))
        .col(big_null("deleted_at"))
        .foreign_key(&mut parent("flags", "project_id", "projects", CASCADE))
        .to_owned()
}

fn flag_states() -> TableCreateStatement {
    tenant_table("flag_states")
        .col(big("flag_id"))
        .col(big("environment_id"))
        .col(boolean("enabled"))
        .col(big("updated_at"))
        .foreign_key(&mut parent("flag_states", "flag_id", "flags", CASCADE))
        .foreign_key(&mut parent(
            "flag_states",
            "environment_id",
            "environments",
            CASCADE,
        ))
        .to_owned()
}

fn variants() -> TableCreateStatement {
    tenant_table("variants")
        .col(big("flag_id"))
        .col(text("key", 64))
        .col(json("attachment"))
        .foreign_key(&mut parent("variants", "flag_id", "flags", CASCADE))
        .to_owned()
}

fn segments() -> TableCreateStatement {
    tenant_table("segments")
        .col(big("flag_id"))
        .col(big("environment_id"))
        .col(long_text("description"))
        .col(big("rank"))
        .col(big("rollout_percent"))
        .foreign_key(&mut parent("segments", "flag_id", "flags", CASCADE))
        .foreign_key(&mut parent(
            "segments",
            "environment_id",
            "environments",
            CASCADE,
        ))
        .to_owned()
}

fn segment_constraints() -> TableCreateStatement {
    tenant_table("segment_constraints")
        .col(big("segment_id"))
        .col(text("property", 255))
        .col(text("operator", 32))
        .col(long_text("value"))
        .foreign_key(&mut parent(
            "segment_constraints",
            "segment_id",
            "segments",
            CASCADE,
        ))
        .to_owned()
}

fn distributions() -> TableCreateStatement {
    tenant_table("distributions")
        .col(big("segment_id"))
        .col(big("variant_id"))
        .col(text("variant_key", 64))
        .col(big("percent"))
        .foreign_key(&mut parent(
            "distributions",
            "segment_id",
            "segments",
            CASCADE,
        ))
        .foreign_key(&mut parent(
            "distributions",
            "variant_id",
            "variants",
            RESTRICT,
        ))
        .to_owned()
}

fn tags() -> TableCreateStatement {
    tenant_table("tags")
        .col(big("project_id"))
        .col(text("value", 64))
        .foreign_key(&mut parent("tags", "project_id", "projects", CASCADE))
        .to_owned()
}

fn flag_tags() -> TableCreateStatement {
    tenant_table("flag_tags")
        .col(big("flag_id"))
        .col(big("tag_id"))
        .foreign_key(&mut parent("flag_tags", "flag_id", "flags", CASCADE))
        .foreign_key(&mut parent("flag_tags", "tag_id", "tags", CASCADE))
        .to_owned()
}

fn entity_types() -> TableCreateStatement {
    tenant_table("entity_types")
        .col(big("project_id"))
        .col(text("key", 128))
        .foreign_key(&mut parent(
            "entity_types",
            "project_id",
            "projects",
            CASCADE,
        ))
        .to_owned()
}

fn flag_snapshots() -> TableCreateStatement {
    tenant_table("flag_snapshots")
        .col(big("flag_id"))
        .col(big("environment_id"))
        .col(json("flag"))
        .col(text("updated_by", 200))
        .col(big("created_at"))
        .foreign_key(&mut parent("flag_snapshots", "flag_id", "flags", CASCADE))
        .foreign_key(&mut parent(
            "flag_snapshots",
            "environment_id",
            "environments",
            CASCADE,
        ))
        .to_owned()
}

fn api_keys() -> TableCreateStatement {
    tenant_table("api_keys")
        .col(big("project_id"))
        .col(big_null("environment_id"))
        .col(text("name", 200))
        .col(text("prefix", 32))
        .col(text("key_hash", 64))
        .col(text("scopes", 128))
        .col(big("created_at"))
        .col(big_null("expires_at"))
        .col(big_null("revoked_at"))
        .col(big_null("last_used_at"))
        .foreign_key(&mut parent("api_keys", "project_id", "projects", CASCADE))
        .foreign_key(&mut parent(
            "api_keys",
            "environment_id",
            "environments",
            CASCADE,
        ))
        .index(
            Index::create()
                .name("ux_api_keys_key_hash")
                .unique()
                .col(n("key_hash")),
        )
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        unique("projects", &["tenant_id", "key"]),
        unique("environments", &["tenant_id", "project_id", "key"]),
        unique("flags", &["tenant_id", "project_id", "key"]),
        unique("flag_states", &["tenant_id", "flag_id", "environment_id"]),
        unique("variants", &["tenant_id", "flag_id", "key"]),
        index("segments", &["tenant_id", "flag_id", "environment_id"]),
        index("segment_constraints", &["tenant_id", "segment_id"]),
        index("distributions", &["tenant_id", "segment_id"]),
        unique("tags", &["tenant_id", "project_id", "value"]),
        unique("flag_tags", &["tenant_id", "flag_id", "tag_id"]),
        unique("entity_types", &["tenant_id", "project_id", "key"]),
        index(
            "flag_snapshots",
            &["tenant_id", "flag_id", "environment_id"],
        ),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let creates = [
            tenants(),
            projects(),
            environments(),
            flags(),
            flag_states(),
            variants(),
            segments(),
            segment_constraints(),
            distributions(),
            tags(),
            flag_tags(),
            entity_types(),
            flag_snapshots(),
            api_keys(),
        ];
        for create in creates {
            manager.create_table(create).await?;
        }
        for idx in indexes() {
            manager.create_index(idx).await?;
        }
        Ok(())
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
