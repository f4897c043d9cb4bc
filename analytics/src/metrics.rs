//! Metric definitions per project (`/api/v1/metrics`): what each reads and how it becomes one value per
//! exposed entity, plus the two built-in metrics every project has (`error_rate`, `crash_rate`).
//!
//! Invariant: what a metric computes (kind, event, value property, ratio parts, quantile, window,
//! winsorisation) is fixed once it is created, so the rollup's sums always mean one thing; its name,
//! description, direction and guardrail setting can change. Every change is audited.

use crate::{Analytics, AnalyticsError};
use flagent_storage::entities::metric;
use flagent_storage::{NewAuditEvent, TenantTx};
use flagent_types::{AuditAction, TenantScope, perm};
use serde::{Deserialize, Serialize};

/// The event OpenFeature error hooks and applications send for errors.
pub const BUILT_IN_ERROR_EVENT: &str = "$error";
/// The event each crash report counts as.
pub const BUILT_IN_CRASH_EVENT: &str = "$crash";
/// The built-in error rate's id in the rollup's tables.
pub const ERROR_RATE_ID: i64 = -1;
/// The built-in crash rate's id in the rollup's tables.
pub const CRASH_RATE_ID: i64 = -2;

/// How a metric turns an entity's events into one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// 1 when the entity did the event at least once in the window, else 0.
    Conversion,
    /// How many times the entity did the event.
    Count,
    /// The total of the event's value.
    Sum,
    /// The mean value per event: the sum of values over the number of events, across entities.
    Mean,
    /// The sum of one metric over the sum of another, across entities.
    Ratio,
    /// A quantile of the event's values (latency).
    Quantile,
}

impl MetricKind {
    /// The text stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Conversion => "conversion",
            MetricKind::Count => "count",
            MetricKind::Sum => "sum",
            MetricKind::Mean => "mean",
            MetricKind::Ratio => "ratio",
            MetricKind::Quantile => "quantile",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<MetricKind> {
        [
            MetricKind::Conversion,
            MetricKind::Count,
            MetricKind::Sum,
            MetricKind::Mean,
            MetricKind::Ratio,
            MetricKind::Quantile,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More is better (conversions, revenue).
    Increase,
    /// Less is better (errors, latency).
    Decrease,
}

impl Direction {
    /// The text stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
        }
    }
}

/// A metric as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Its id (negative for a built-in metric).
    pub id: i64,
    /// Its key, unique in the project.
    pub key: String,
    /// Its name.
    pub name: String,
    /// What it means.
    pub description: String,
    /// How it is computed.
    pub kind: MetricKind,
    /// The event it reads (none for a ratio).
    pub event: Option<String>,
    /// The event property read as the value (none: the event's `value`).
    pub value_property: Option<String>,
    /// A ratio's numerator metric, by key.
    pub numerator: Option<String>,
    /// A ratio's denominator metric, by key.
    pub denominator: Option<String>,
    /// A quantile metric's quantile (0 < q < 1).
    pub quantile: Option<f64>,
    /// Which way is better.
    pub direction: Direction,
    /// The attribution window: events this many hours after an entity's exposure count.
    pub window_hours: i64,
    /// The cap each entity's value is winsorised at, if any.
    pub winsorize_at: Option<f64>,
    /// Whether releases and alerts watch it.
    pub guardrail: bool,
    /// Whether it is one of the built-in metrics.
    pub built_in: bool,
}

/// A new metric, as the API receives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMetric {
    /// Its key.
    pub key: String,
    /// Its name (the key when missing).
    pub name: Option<String>,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// How it is computed.
    pub kind: MetricKind,
    /// The event read (required except for ratios).
    pub event: Option<String>,
    /// The event property read as the value.
    pub value_property: Option<String>,
    /// A ratio's numerator, by key.
    pub numerator: Option<String>,
    /// A ratio's denominator, by key.
    pub denominator: Option<String>,
    /// A quantile metric's quantile.
    pub quantile: Option<f64>,
    /// Which way is better (`increase` by default).
    pub direction: Option<Direction>,
    /// The attribution window in hours (168 by default).
    pub window_hours: Option<i64>,
    /// The cap each entity's value is winsorised at.
    pub winsorize_at: Option<f64>,
    /// Whether it is a guardrail.
    #[serde(default)]
    pub guardrail: bool,
}

/// The changeable part of a metric.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricChange {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new direction.
    pub direction: Option<Direction>,
    /// Whether it is a guardrail.
    pub guardrail: Option<bool>,
}

/// The longest attribution window: 90 days.
pub const MAX_WINDOW_HOURS: i64 = 90 * 24;

/// The built-in metrics, as every project lists them.
pub fn built_ins() -> [Metric; 2] {
    let metric = |id, key: &str, name: &str, description: &str, event: &str| Metric {
        id,
        key: key.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        kind: MetricKind::Count,
        event: Some(event.to_owned()),
        value_property: None,
        numerator: None,
        denominator: None,
        quantile: None,
        direction: Direction::Decrease,
        window_hours: 7 * 24,
        winsorize_at: None,
        guardrail: true,
        built_in: true,
    };
    [
        metric(
            ERROR_RATE_ID,
            "error_rate",
            "Error rate",
            "Errors ($error events, OpenFeature error hooks) per exposed entity",
            BUILT_IN_ERROR_EVENT,
        ),
        metric(
            CRASH_RATE_ID,
            "crash_rate",
            "Crash rate",
            "Crash reports per exposed entity",
            BUILT_IN_CRASH_EVENT,
        ),
    ]
}

/// The metric a stored row describes; `keys` names ratio parts by id.
pub(crate) fn view(row: &metric::Model, key_of: impl Fn(i64) -> Option<String>) -> Metric {
    Metric {
        id: row.id,
        key: row.key.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        kind: MetricKind::parse(&row.kind).unwrap_or(MetricKind::Count),
        event: row.event_key.clone(),
        value_property: row.value_property.clone(),
        numerator: row.numerator_id.and_then(&key_of),
        denominator: row.denominator_id.and_then(&key_of),
        quantile: row.quantile,
        direction: if row.direction == "decrease" {
            Direction::Decrease
        } else {
            Direction::Increase
        },
        window_hours: row.window_hours,
        winsorize_at: row.winsorize_at,
        guardrail: row.guardrail,
        built_in: false,
    }
}

/// The views of a project's metric rows, built-ins first.
pub(crate) fn views(rows: &[metric::Model]) -> Vec<Metric> {
    let key_of = |id: i64| rows.iter().find(|r| r.id == id).map(|r| r.key.clone());
    built_ins()
        .into_iter()
        .chain(rows.iter().map(|row| view(row, key_of)))
        .collect()
}

impl Analytics {
    /// The metrics of the caller's project, built-ins first.
    pub async fn metrics(&self, scope: &TenantScope) -> Result<Vec<Metric>, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let rows = self
            .db
            .scoped(scope)
            .metrics_of_project(scope.project_id().0)
            .await?;
        Ok(views(&rows))
    }

    /// The metric `key` of the caller's project.
    pub async fn metric(&self, scope: &TenantScope, key: &str) -> Result<Metric, AnalyticsError> {
        self.metrics(scope)
            .await?
            .into_iter()
            .find(|m| m.key == key)
            .ok_or_else(|| AnalyticsError::MetricNotFound(key.to_owned()))
    }

    /// Defines a metric in the caller's project.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn create_metric(
        &self,
        scope: &TenantScope,
        new: NewMetric,
    ) -> Result<Metric, AnalyticsError> {
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let existing = tx.metrics_of_project(scope.project_id().0).await?;
        let row = crate::metric_rules::checked(new, &existing, scope.project_id().0)?;
        let row = tx.insert_row(row).await?;
        let mut all = existing;
        all.push(row.clone());
        let created = views(&all).pop().expect("the new metric is listed last");
        audit(
            &tx,
            scope,
            AuditAction::MetricCreate,
            &created,
            None,
            Some(&created),
        )
        .await?;
        tx.commit().await?;
        self.catalog.forget(scope.tenant_id(), scope.project_id());
        Ok(created)
    }

    /// Changes the name, description, direction or guardrail setting of metric `key`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn update_metric(
        &self,
        scope: &TenantScope,
        key: &str,
        change: MetricChange,
    ) -> Result<Metric, AnalyticsError> {
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let all = tx.metrics_of_project(scope.project_id().0).await?;
        let row = find_row(&all, key)?;
        let before = view(row, |id| {
            all.iter().find(|r| r.id == id).map(|r| r.key.clone())
        });
        let row = crate::metric_rules::changed(row.clone(), change)?;
        let after = view(&row, |id| {
            all.iter().find(|r| r.id == id).map(|r| r.key.clone())
        });
        tx.update_row(row).await?;
        audit(
            &tx,
            scope,
            AuditAction::MetricUpdate,
            &after,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes metric `key`, unless an experiment or a ratio metric reads it.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn delete_metric(
        &self,
        scope: &TenantScope,
        key: &str,
    ) -> Result<(), AnalyticsError> {
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let all = tx.metrics_of_project(scope.project_id().0).await?;
        let row = find_row(&all, key)?;
        let ratios = tx.ratios_reading(row.id).await?;
        if let Some(ratio) = ratios.first() {
            return Err(AnalyticsError::MetricInUse(format!(
                "the ratio metric {:?} reads {key:?}; delete it first",
                ratio.key
            )));
        }
        let readers = tx.experiments_reading(row.id).await?;
        if !readers.is_empty() {
            let flags: Vec<String> = readers.iter().map(|r| r.flag_id.to_string()).collect();
            return Err(AnalyticsError::MetricInUse(format!(
                "the experiments of flags {} read {key:?}; remove it from them first",
                flags.join(", ")
            )));
        }
        let before = view(row, |id| {
            all.iter().find(|r| r.id == id).map(|r| r.key.clone())
        });
        tx.delete_metric(row.id).await?;
        audit(
            &tx,
            scope,
            AuditAction::MetricDelete,
            &before,
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.catalog.forget(scope.tenant_id(), scope.project_id());
        Ok(())
    }
}

/// The row of metric `key`; built-in metrics cannot be changed.
fn find_row<'a>(all: &'a [metric::Model], key: &str) -> Result<&'a metric::Model, AnalyticsError> {
    if built_ins().iter().any(|m| m.key == key) {
        return Err(AnalyticsError::invalid(
            "key",
            format!("{key} is a built-in metric and cannot be changed"),
        ));
    }
    all.iter()
        .find(|r| r.key == key)
        .ok_or_else(|| AnalyticsError::MetricNotFound(key.to_owned()))
}

/// Appends the audit event of a metric change.
async fn audit(
    tx: &TenantTx,
    scope: &TenantScope,
    action: AuditAction,
    metric: &Metric,
    before: Option<&Metric>,
    after: Option<&Metric>,
) -> Result<(), AnalyticsError> {
    let json = |m: Option<&Metric>| {
        serde_json::to_string(&m).map_err(|e| AnalyticsError::Unexpected(e.into()))
    };
    tx.append_audit(NewAuditEvent::by(
        scope,
        action,
        ("metric", &metric.key),
        "",
        json(before)?,
        json(after)?,
    ))
    .await?;
    Ok(())
}
