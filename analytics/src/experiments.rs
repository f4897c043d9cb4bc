//! A flag's experiment settings (`/api/v1/flags/{id}/experiment`): its control variant, its primary
//! and secondary metrics, and the correction across the secondary ones. Shared by every environment.
//!
//! Invariant: every change is checked whole (the variant is the flag's, the metrics are the project's
//! and listed once) before anything is written, and is audited.

use crate::metrics::{Metric, views};
use crate::{Analytics, AnalyticsError};
use flagent_stats::Correction;
use flagent_storage::entities::{experiment, experiment_metric, flag, variant};
use flagent_storage::{Connection, NewAuditEvent, Scoped};
use flagent_types::{AuditAction, FlagId, TenantScope, perm};
use serde::{Deserialize, Serialize};

/// A metric's place in an experiment's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The metric the experiment is decided on.
    Primary,
    /// Also watched; corrected for multiple testing.
    Secondary,
    /// A guardrail metric of the project (built-in or marked so).
    Guardrail,
}

/// A flag's experiment settings as the API shows them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Experiment {
    /// The flag.
    pub flag_id: i64,
    /// The control variant's key: the configured one, else the flag's first variant.
    pub control_variant: Option<String>,
    /// The primary metric's key.
    pub primary_metric: Option<String>,
    /// The secondary metrics' keys, in order.
    pub secondary_metrics: Vec<String>,
    /// `holm` or `benjamini_hochberg`.
    pub correction: &'static str,
}

/// A change of a flag's experiment settings: the whole settings, as they should be.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExperimentChange {
    /// The control variant's key (the first variant when missing).
    pub control_variant: Option<String>,
    /// The primary metric's key.
    pub primary_metric: Option<String>,
    /// The secondary metrics' keys.
    #[serde(default)]
    pub secondary_metrics: Vec<String>,
    /// `holm` (the default) or `benjamini_hochberg`.
    pub correction: Option<String>,
}

/// The stored settings, by id.
pub(crate) struct Settings {
    control: Option<i64>,
    roles: Vec<(i64, Role)>,
    pub(crate) correction: Correction,
}

impl Settings {
    /// The metrics with a role, primary first.
    pub(crate) fn roles(&self, _metrics: &[Metric]) -> Vec<(i64, Role)> {
        self.roles.clone()
    }

    /// The control: the configured variant if it still exists, else the first variant.
    pub(crate) fn control_of(&self, variants: &[variant::Model]) -> Option<i64> {
        self.control
            .filter(|c| variants.iter().any(|v| v.id == *c))
            .or_else(|| variants.first().map(|v| v.id))
    }
}

fn correction_of(text: &str) -> Option<Correction> {
    match text {
        "holm" => Some(Correction::Holm),
        "benjamini_hochberg" => Some(Correction::BenjaminiHochberg),
        _ => None,
    }
}

/// The stored settings of `flag` (defaults when it has none).
pub(crate) async fn experiment_view<C: Connection>(
    db: &Scoped<C>,
    flag: i64,
    _variants: &[variant::Model],
    _metrics: &[Metric],
) -> Result<Settings, AnalyticsError> {
    let row = db.experiment_of(flag).await?;
    let roles = db
        .experiment_metrics(flag)
        .await?
        .into_iter()
        .map(|m| {
            let role = if m.role == "primary" {
                Role::Primary
            } else {
                Role::Secondary
            };
            (m.metric_id, role)
        })
        .collect();
    Ok(Settings {
        control: row.as_ref().and_then(|r| r.control_variant_id),
        roles,
        correction: row
            .as_ref()
            .and_then(|r| correction_of(&r.correction))
            .unwrap_or(Correction::Holm),
    })
}

impl Analytics {
    /// The experiment settings of `flag`.
    pub async fn experiment(
        &self,
        scope: &TenantScope,
        flag: FlagId,
    ) -> Result<Experiment, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let row = own_flag(&db, scope, flag).await?;
        let variants = db.variants_of_flag(row.id).await?;
        let metrics = views(&db.metrics_of_project(row.project_id).await?);
        let settings = experiment_view(&db, row.id, &variants, &metrics).await?;
        Ok(shown(row.id, &settings, &variants, &metrics))
    }

    /// Replaces the experiment settings of `flag`.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id = flag.0))]
    pub async fn set_experiment(
        &self,
        scope: &TenantScope,
        flag: FlagId,
        change: ExperimentChange,
    ) -> Result<Experiment, AnalyticsError> {
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = own_flag(&tx, scope, flag).await?;
        let variants = tx.variants_of_flag(row.id).await?;
        let metrics = views(&tx.metrics_of_project(row.project_id).await?);
        let before = shown(
            row.id,
            &experiment_view(&tx, row.id, &variants, &metrics).await?,
            &variants,
            &metrics,
        );
        let (control, roles, correction) = checked(&change, &variants, &metrics)?;
        let now = chrono::Utc::now().timestamp_millis();
        match tx.experiment_of(row.id).await? {
            Some(existing) => {
                tx.update_row(experiment::Model {
                    control_variant_id: control,
                    correction: correction.name().to_owned(),
                    updated_at: now,
                    ..existing
                })
                .await?
            }
            None => {
                tx.insert_row(experiment::New {
                    flag_id: row.id,
                    control_variant_id: control,
                    correction: correction.name().to_owned(),
                    updated_at: now,
                })
                .await?;
            }
        }
        let rows = roles
            .iter()
            .enumerate()
            .map(|(position, (metric, role))| experiment_metric::New {
                flag_id: row.id,
                metric_id: *metric,
                role: if *role == Role::Primary {
                    "primary"
                } else {
                    "secondary"
                }
                .to_owned(),
                position: position as i64,
            })
            .collect();
        tx.set_experiment_metrics(row.id, rows).await?;
        let settings = Settings {
            control,
            roles,
            correction,
        };
        let after = shown(row.id, &settings, &variants, &metrics);
        let json = |e: &Experiment| {
            serde_json::to_string(e).map_err(|e| AnalyticsError::Unexpected(e.into()))
        };
        tx.append_audit(NewAuditEvent::by(
            scope,
            AuditAction::ExperimentUpdate,
            ("flag", &row.id.to_string()),
            "",
            json(&before)?,
            json(&after)?,
        ))
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// The flag `flag` of the caller's project.
pub(crate) async fn own_flag<C: Connection>(
    db: &Scoped<C>,
    scope: &TenantScope,
    flag: FlagId,
) -> Result<flag::Model, AnalyticsError> {
    db.get::<flag::Model>(flag.0)
        .await?
        .filter(|f| f.project_id == scope.project_id().0)
        .ok_or(AnalyticsError::FlagNotFound(flag.0))
}

type Checked = (Option<i64>, Vec<(i64, Role)>, Correction);

/// The settings `change` asks for, by id, or the first thing wrong with it.
fn checked(
    change: &ExperimentChange,
    variants: &[variant::Model],
    metrics: &[Metric],
) -> Result<Checked, AnalyticsError> {
    let control = match &change.control_variant {
        None => None,
        Some(key) => Some(
            variants
                .iter()
                .find(|v| &v.key == key)
                .ok_or_else(|| {
                    AnalyticsError::invalid(
                        "controlVariant",
                        format!("the flag has no variant {key:?}"),
                    )
                })?
                .id,
        ),
    };
    let metric = |field: &'static str, key: &str| -> Result<i64, AnalyticsError> {
        let m = metrics.iter().find(|m| m.key == key).ok_or_else(|| {
            AnalyticsError::invalid(field, format!("no metric has the key {key:?}"))
        })?;
        if m.built_in {
            return Err(AnalyticsError::invalid(
                field,
                format!("{key} is built in and always shown as a guardrail"),
            ));
        }
        Ok(m.id)
    };
    let mut roles = Vec::new();
    if let Some(key) = &change.primary_metric {
        roles.push((metric("primaryMetric", key)?, Role::Primary));
    }
    if change.secondary_metrics.len() > 20 {
        return Err(AnalyticsError::invalid(
            "secondaryMetrics",
            "an experiment has at most 20 secondary metrics",
        ));
    }
    for key in &change.secondary_metrics {
        let id = metric("secondaryMetrics", key)?;
        if roles.iter().any(|(m, _)| *m == id) {
            return Err(AnalyticsError::invalid(
                "secondaryMetrics",
                format!("{key} is listed twice"),
            ));
        }
        roles.push((id, Role::Secondary));
    }
    let correction = match change.correction.as_deref() {
        None => Correction::Holm,
        Some(text) => correction_of(text).ok_or_else(|| {
            AnalyticsError::invalid(
                "correction",
                "correction must be holm or benjamini_hochberg",
            )
        })?,
    };
    Ok((control, roles, correction))
}

/// The settings as the API shows them.
fn shown(
    flag: i64,
    settings: &Settings,
    variants: &[variant::Model],
    metrics: &[Metric],
) -> Experiment {
    let key_of = |id: i64| metrics.iter().find(|m| m.id == id).map(|m| m.key.clone());
    Experiment {
        flag_id: flag,
        control_variant: settings
            .control_of(variants)
            .and_then(|c| variants.iter().find(|v| v.id == c))
            .map(|v| v.key.clone()),
        primary_metric: settings
            .roles
            .iter()
            .find(|r| r.1 == Role::Primary)
            .and_then(|r| key_of(r.0)),
        secondary_metrics: settings
            .roles
            .iter()
            .filter(|r| r.1 == Role::Secondary)
            .filter_map(|r| key_of(r.0))
            .collect(),
        correction: settings.correction.name(),
    }
}
