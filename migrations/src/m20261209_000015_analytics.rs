//! Measurement: what entities were served (`exposures`), what they did (`events`), what crashed
//! (`crashes`, grouped in `crash_groups` with per-variant counts in `crash_group_variants`), the
//! metrics that read events (`metrics`), each flag's experiment (`experiments`, `experiment_metrics`),
//! and the sufficient statistics results read (`exposure_daily`, `metric_entities`, `metric_daily`).
//! Tenants get the salt their entity ids are hashed with, projects the choice of accepting event keys
//! no metric reads yet, plans how many days raw events and crash reports are kept.
//!
//! On PostgreSQL the raw tables (`events`, `crashes`) are partitioned by `occurred_at`, so retention
//! drops whole day partitions instead of deleting rows.
//!
//! Entity ids are never stored: `entity` columns hold the first 8 bytes of SHA-256(salt ‖ id) as a
//! signed 64-bit number. Days are whole days since the Unix epoch (UTC).

use crate::m20261124_000006_row_level_security::{TENANT_ROLE, run, secure, unsecure};
use crate::schema::{
    big, big_null, boolean, index, long_text, n, parent, tenant_table, text, text_null, unique,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// First exposures: one row per (environment, flag, entity).
pub(crate) const EXPOSURES: &str = "exposures";
/// Raw events, kept for the plan's retention.
pub(crate) const EVENTS: &str = "events";
/// Crash groups: reports with the same fingerprint.
pub(crate) const CRASH_GROUPS: &str = "crash_groups";
/// Raw crash reports, kept for the plan's retention.
pub(crate) const CRASHES: &str = "crashes";
/// Crashes of a group per flag and variant active at the time.
pub(crate) const CRASH_VARIANTS: &str = "crash_group_variants";
/// Metric definitions per project.
pub(crate) const METRICS: &str = "metrics";
/// A flag's experiment: its control variant and the correction for several metrics.
pub(crate) const EXPERIMENTS: &str = "experiments";
/// The metrics an experiment reads, primary first.
pub(crate) const EXPERIMENT_METRICS: &str = "experiment_metrics";
/// Entities first exposed per flag, environment, variant and day.
pub(crate) const EXPOSURE_DAILY: &str = "exposure_daily";
/// Each exposed entity's value of each metric so far.
pub(crate) const METRIC_ENTITIES: &str = "metric_entities";
/// Sums over entities per flag, environment, metric, variant and exposure day.
pub(crate) const METRIC_DAILY: &str = "metric_daily";

/// The new tenant-owned tables, behind row-level security on PostgreSQL.
pub(crate) const TABLES: [&str; 11] = [
    EXPOSURES,
    EVENTS,
    CRASH_GROUPS,
    CRASHES,
    CRASH_VARIANTS,
    METRICS,
    EXPERIMENTS,
    EXPERIMENT_METRICS,
    EXPOSURE_DAILY,
    METRIC_ENTITIES,
    METRIC_DAILY,
];

/// Days raw events and crash reports are kept per plan (a plan not named keeps them forever).
const EVENT_RETENTION_DAYS: [(&str, i64); 4] = [
    ("free", 30),
    ("pro", 90),
    ("enterprise", 400),
    ("self-hosted", 400),
];

/// A non-null double column.
fn real(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name))
        .double()
        .not_null()
        .default(0.0)
        .to_owned()
}

/// A nullable double column.
fn real_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).double().null().to_owned()
}

/// A nullable long text column.
fn long_text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).text().null().to_owned()
}

/// Creates a raw table (`events`, `crashes`): on PostgreSQL as `postgres` says, partitioned by
/// `occurred_at` (the primary key then includes it) with a default partition for rows no day partition
/// holds (the retention job adds day partitions and drops expired ones); elsewhere `plain`.
async fn create_raw(
    manager: &SchemaManager<'_>,
    name: &str,
    plain: TableCreateStatement,
    postgres: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        run(
            manager,
            vec![
                postgres.to_owned(),
                format!("CREATE TABLE {name}_default PARTITION OF {name} DEFAULT"),
            ],
        )
        .await
    } else {
        manager.create_table(plain).await
    }
}

/// Creates the measurement tables.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

impl Migration {
    async fn ingestion(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(EXPOSURES)
                    .col(big("environment_id"))
                    .col(big("flag_id"))
                    .col(big("variant_id"))
                    .col(big("entity"))
                    .col(big("exposed_at"))
                    .foreign_key(&mut parent(
                        EXPOSURES,
                        "environment_id",
                        "environments",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // The first exposure wins: later ones collide here and are dropped.
        manager
            .create_index(unique(
                EXPOSURES,
                &["tenant_id", "environment_id", "flag_id", "entity"],
            ))
            .await?;
        manager
            .create_index(index(EXPOSURES, &["tenant_id", "environment_id", "entity"]))
            .await?;
        let events = tenant_table(EVENTS)
            .col(big("environment_id"))
            .col(text("event_key", 256))
            .col(big("entity"))
            .col(big("occurred_at"))
            .col(real_null("value"))
            .col(long_text_null("properties"))
            .col(big("received_at"))
            .foreign_key(&mut parent(
                EVENTS,
                "environment_id",
                "environments",
                ForeignKeyAction::Cascade,
            ))
            .to_owned();
        create_raw(
            manager,
            EVENTS,
            events,
            "CREATE TABLE events (
                id bigserial NOT NULL,
                tenant_id bigint NOT NULL,
                environment_id bigint NOT NULL,
                event_key varchar(256) NOT NULL,
                entity bigint NOT NULL,
                occurred_at bigint NOT NULL,
                value double precision NULL,
                properties text NULL,
                received_at bigint NOT NULL,
                PRIMARY KEY (id, occurred_at),
                CONSTRAINT fk_events_tenant FOREIGN KEY (tenant_id)
                    REFERENCES tenants (id) ON DELETE CASCADE,
                CONSTRAINT fk_events_environment_id FOREIGN KEY (tenant_id, environment_id)
                    REFERENCES environments (tenant_id, id) ON DELETE CASCADE
            ) PARTITION BY RANGE (occurred_at)",
        )
        .await?;
        manager
            .create_index(index(EVENTS, &["tenant_id", "environment_id", "entity"]))
            .await?;
        manager
            .create_index(index(EVENTS, &["tenant_id", "environment_id", "event_key"]))
            .await?;
        manager
            .create_index(index(EVENTS, &["occurred_at"]))
            .await?;
        Ok(())
    }

    async fn crashes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(CRASH_GROUPS)
                    .col(big("environment_id"))
                    // SHA-256 (hex) of the error type and the top normalised in-app frames.
                    .col(text("fingerprint", 64))
                    .col(text("platform", 64))
                    .col(text("error_type", 256))
                    .col(text("message", 1024))
                    // The normalised frames the fingerprint was made of, as JSON.
                    .col(long_text("frames"))
                    // The app versions seen, as a JSON array (at most 50).
                    .col(long_text("app_versions"))
                    .col(big("occurrences"))
                    .col(big("first_seen"))
                    .col(big("last_seen"))
                    .foreign_key(&mut parent(
                        CRASH_GROUPS,
                        "environment_id",
                        "environments",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                CRASH_GROUPS,
                &["tenant_id", "environment_id", "fingerprint"],
            ))
            .await?;
        let crashes = tenant_table(CRASHES)
            .col(big("environment_id"))
            .col(big("group_id"))
            .col(big("entity"))
            .col(text("app_version", 64))
            .col(text("message", 1024))
            // The frames as sent (function, file, line), as JSON.
            .col(long_text("frames"))
            // The flags and variants active at the time, as a JSON object.
            .col(long_text("flags"))
            .col(big("occurred_at"))
            .col(big("received_at"))
            .foreign_key(&mut parent(
                CRASHES,
                "group_id",
                CRASH_GROUPS,
                ForeignKeyAction::Cascade,
            ))
            .to_owned();
        create_raw(
            manager,
            CRASHES,
            crashes,
            "CREATE TABLE crashes (
                id bigserial NOT NULL,
                tenant_id bigint NOT NULL,
                environment_id bigint NOT NULL,
                group_id bigint NOT NULL,
                entity bigint NOT NULL,
                app_version varchar(64) NOT NULL,
                message varchar(1024) NOT NULL,
                frames text NOT NULL,
                flags text NOT NULL,
                occurred_at bigint NOT NULL,
                received_at bigint NOT NULL,
                PRIMARY KEY (id, occurred_at),
                CONSTRAINT fk_crashes_tenant FOREIGN KEY (tenant_id)
                    REFERENCES tenants (id) ON DELETE CASCADE,
                CONSTRAINT fk_crashes_group_id FOREIGN KEY (tenant_id, group_id)
                    REFERENCES crash_groups (tenant_id, id) ON DELETE CASCADE
            ) PARTITION BY RANGE (occurred_at)",
        )
        .await?;
        manager
            .create_index(index(CRASHES, &["tenant_id", "group_id", "entity"]))
            .await?;
        manager
            .create_index(index(CRASHES, &["occurred_at"]))
            .await?;
        manager
            .create_table(
                tenant_table(CRASH_VARIANTS)
                    .col(big("group_id"))
                    .col(text("flag_key", 256))
                    .col(text("variant_key", 256))
                    .col(big("crashes"))
                    .foreign_key(&mut parent(
                        CRASH_VARIANTS,
                        "group_id",
                        CRASH_GROUPS,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                CRASH_VARIANTS,
                &["tenant_id", "group_id", "flag_key", "variant_key"],
            ))
            .await?;
        Ok(())
    }

    async fn definitions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(METRICS)
                    .col(big("project_id"))
                    .col(text("key", 128))
                    .col(text("name", 256))
                    .col(long_text("description"))
                    // conversion, count, sum, mean, ratio or quantile.
                    .col(text("kind", 16))
                    // The event read; NULL for ratios, which read their two metrics.
                    .col(text_null("event_key", 256))
                    // The event property read as the value; NULL reads the event's `value`.
                    .col(text_null("value_property", 128))
                    .col(big_null("numerator_id"))
                    .col(big_null("denominator_id"))
                    .col(real_null("quantile"))
                    // increase or decrease: which way is better.
                    .col(text("direction", 16))
                    .col(big("window_hours"))
                    .col(real_null("winsorize_at"))
                    .col(boolean("guardrail"))
                    .col(big("created_at"))
                    .col(big("updated_at"))
                    .foreign_key(&mut parent(
                        METRICS,
                        "project_id",
                        "projects",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(METRICS, &["tenant_id", "project_id", "key"]))
            .await?;
        manager
            .create_table(
                tenant_table(EXPERIMENTS)
                    .col(big("flag_id"))
                    .col(big_null("control_variant_id"))
                    // holm or benjamini_hochberg, across the secondary metrics.
                    .col(text("correction", 32))
                    .col(big("updated_at"))
                    .foreign_key(&mut parent(
                        EXPERIMENTS,
                        "flag_id",
                        "flags",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(EXPERIMENTS, &["tenant_id", "flag_id"]))
            .await?;
        manager
            .create_table(
                tenant_table(EXPERIMENT_METRICS)
                    .col(big("flag_id"))
                    .col(big("metric_id"))
                    // primary or secondary.
                    .col(text("role", 16))
                    .col(big("position"))
                    .foreign_key(&mut parent(
                        EXPERIMENT_METRICS,
                        "flag_id",
                        "flags",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut parent(
                        EXPERIMENT_METRICS,
                        "metric_id",
                        METRICS,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                EXPERIMENT_METRICS,
                &["tenant_id", "flag_id", "metric_id"],
            ))
            .await?;
        manager
            .create_index(index(EXPERIMENT_METRICS, &["tenant_id", "metric_id"]))
            .await?;
        Ok(())
    }

    async fn aggregates(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .create_table(
                tenant_table(EXPOSURE_DAILY)
                    .col(big("environment_id"))
                    .col(big("flag_id"))
                    .col(big("variant_id"))
                    .col(big("day"))
                    .col(big("entities"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                EXPOSURE_DAILY,
                &[
                    "tenant_id",
                    "environment_id",
                    "flag_id",
                    "variant_id",
                    "day",
                ],
            ))
            .await?;
        manager
            .create_table(
                tenant_table(METRIC_ENTITIES)
                    .col(big("environment_id"))
                    .col(big("flag_id"))
                    // A metric's id, or a negative number for a built-in metric.
                    .col(big("metric_id"))
                    .col(big("entity"))
                    .col(big("variant_id"))
                    .col(big("day"))
                    // The value after exposure so far (uncapped), and the second value: the
                    // denominator of a ratio, or the value before exposure (CUPED's covariate).
                    .col(real("x"))
                    .col(real("y"))
                    // When the entity's first event after exposure counted for the metric happened
                    // (epoch ms; null until there is one): the order of a funnel's steps.
                    .col(big_null("first_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                METRIC_ENTITIES,
                &[
                    "tenant_id",
                    "environment_id",
                    "flag_id",
                    "metric_id",
                    "entity",
                ],
            ))
            .await?;
        // The rollup reads a flag's values of a batch of entities, every metric at once.
        manager
            .create_index(index(
                METRIC_ENTITIES,
                &["tenant_id", "environment_id", "flag_id", "entity"],
            ))
            .await?;
        manager
            .create_table(
                tenant_table(METRIC_DAILY)
                    .col(big("environment_id"))
                    .col(big("flag_id"))
                    .col(big("metric_id"))
                    .col(big("variant_id"))
                    .col(big("day"))
                    .col(real("sum_x"))
                    .col(real("sum_x_sq"))
                    .col(real("sum_y"))
                    .col(real("sum_y_sq"))
                    .col(real("sum_xy"))
                    // Entities whose value is not zero (conversions, for a conversion metric).
                    .col(big("nonzero"))
                    // A quantile metric's sketch of event values, as JSON.
                    .col(long_text_null("sketch"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                METRIC_DAILY,
                &[
                    "tenant_id",
                    "environment_id",
                    "flag_id",
                    "metric_id",
                    "variant_id",
                    "day",
                ],
            ))
            .await?;
        Ok(())
    }

    async fn settings(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(n("tenants"))
                    .add_column(ColumnDef::new(n("entity_salt")).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(n("projects"))
                    .add_column(
                        ColumnDef::new(n("accept_new_events"))
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(n("plans"))
                    .add_column(big_null("event_retention_days"))
                    .to_owned(),
            )
            .await?;
        for (plan, days) in EVENT_RETENTION_DAYS {
            manager
                .exec_stmt(
                    Query::update()
                        .table(n("plans"))
                        .value(n("event_retention_days"), days)
                        .and_where(Expr::col(n("key")).eq(plan))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Self::ingestion(manager).await?;
        Self::crashes(manager).await?;
        Self::definitions(manager).await?;
        Self::aggregates(manager).await?;
        Self::settings(manager).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                run(manager, secure(table)).await?;
            }
            // The first ingestion of a tenant stores its salt on its own row.
            run(
                manager,
                vec![format!(
                    "GRANT UPDATE (entity_salt) ON TABLE tenants TO {TENANT_ROLE}"
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
                    "REVOKE UPDATE (entity_salt) ON TABLE tenants FROM {TENANT_ROLE}"
                )],
            )
            .await?;
            for table in TABLES {
                run(manager, unsecure(table)).await?;
            }
        }
        for (table, column) in [
            ("plans", "event_retention_days"),
            ("projects", "accept_new_events"),
            ("tenants", "entity_salt"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(n(table))
                        .drop_column(n(column))
                        .to_owned(),
                )
                .await?;
        }
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(n(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
