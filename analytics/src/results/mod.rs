//! A flag's experiment results in the caller's environment (`GET /api/v1/flags/{id}/results`): per
//! metric and variant, the value and its comparison with the control, corrected across the secondary
//! metrics, with the sample-ratio check of the exposures against the configured split.
//!
//! Invariant: results read only the daily sums (`exposure_daily`, `metric_daily`), never raw events;
//! the arithmetic is `flagent-stats`'s. Statuses are decided by the sequential (always-valid)
//! p-values, so looking every day does not inflate false positives.

mod compare;
mod split;

pub use compare::{
    ALPHA, Comparison, MIN_CONVERSIONS, MIN_EXPOSED, SEQUENTIAL_TUNED_AT, SequentialView, Status,
};

use crate::experiments::{Role, experiment_view, own_flag};
use crate::metrics::{Direction, Metric, MetricKind, views};
use crate::{Analytics, AnalyticsError};
use compare::{Shape, Sums};
use flagent_stats::{Correction, QuantileSketch};
use flagent_storage::entities::{metric_day, variant};
use flagent_types::{FlagId, TenantScope, perm};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A flag's results.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    /// The flag.
    pub flag_id: i64,
    /// The environment the results are for.
    pub environment_id: i64,
    /// The control variant's key (none while the flag has no variant).
    pub control: Option<String>,
    /// The significance level.
    pub alpha: f64,
    /// How the secondary metrics' p-values are corrected.
    pub correction: &'static str,
    /// Which p-value decides the statuses.
    pub status_basis: &'static str,
    /// The sample-ratio check of exposures against the configured split.
    pub srm: Option<split::SrmView>,
    /// Each metric's results: primary, secondary, then guardrails.
    pub metrics: Vec<MetricResult>,
}

/// One metric's results.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    /// The metric's key.
    pub metric: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: MetricKind,
    /// Which way is better.
    pub direction: Direction,
    /// Its role in the experiment.
    pub role: Role,
    /// One row per variant, the control first.
    pub variants: Vec<VariantResult>,
}

/// One variant's row of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    /// The variant's key.
    pub variant: String,
    /// Whether it is the control.
    pub control: bool,
    /// Entities exposed.
    pub exposed: u64,
    /// The rate, mean, ratio or quantile.
    pub value: Option<f64>,
    /// The per-entity standard deviation, for means.
    pub stddev: Option<f64>,
    /// The comparison with the control (none for the control, or without enough data).
    #[serde(flatten)]
    pub comparison: Option<Comparison>,
    /// The sequential p-value after the correction across secondary metrics.
    pub adjusted_p_value: Option<f64>,
    /// The verdict.
    pub status: Option<Status>,
}

impl Analytics {
    /// The results of flag `flag` in the caller's environment.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id = flag.0))]
    pub async fn results(
        &self,
        scope: &TenantScope,
        flag: FlagId,
    ) -> Result<Results, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let row = own_flag(&db, scope, flag).await?;
        let variants = db.variants_of_flag(row.id).await?;
        let metrics = views(&db.metrics_of_project(row.project_id).await?);
        let experiment = experiment_view(&db, row.id, &variants, &metrics).await?;
        let environment = scope.environment_id().0;
        let exposures = db.exposure_days(environment, row.id).await?;
        let chosen = chosen(&experiment.roles(&metrics), &metrics);
        let ids: Vec<i64> = chosen.iter().map(|(m, _)| m.id).collect();
        let days = db.metric_days(environment, row.id, &ids).await?;
        let control = experiment.control_of(&variants);
        let mut exposed: BTreeMap<i64, u64> = variants.iter().map(|v| (v.id, 0)).collect();
        for d in &exposures {
            *exposed.entry(d.variant_id).or_default() += u64::try_from(d.entities).unwrap_or(0);
        }
        let first_day = exposures.iter().map(|d| d.day).min();
        let srm = split::check(self, scope, &row, &variants, &exposed, first_day).await?;
        let correction = experiment.correction;
        let results = chosen
            .iter()
            .map(|(metric, role)| metric_result(metric, *role, &variants, control, &exposed, &days))
            .collect();
        let mut results = Results {
            flag_id: row.id,
            environment_id: environment,
            control: control
                .and_then(|c| variants.iter().find(|v| v.id == c))
                .map(|v| v.key.clone()),
            alpha: ALPHA,
            correction: correction.name(),
            status_basis: "sequential",
            srm,
            metrics: results,
        };
        correct(&mut results, correction);
        Ok(results)
    }
}

/// The metrics shown, in order: the experiment's primary and secondary metrics, then every guardrail
/// (the built-in error and crash rates among them).
fn chosen(roles: &[(i64, Role)], metrics: &[Metric]) -> Vec<(Metric, Role)> {
    let mut out: Vec<(Metric, Role)> = roles
        .iter()
        .filter_map(|(id, role)| {
            metrics
                .iter()
                .find(|m| m.id == *id)
                .map(|m| (m.clone(), *role))
        })
        .collect();
    for m in metrics.iter().filter(|m| m.guardrail) {
        if !out.iter().any(|(o, _)| o.id == m.id) {
            out.push((m.clone(), Role::Guardrail));
        }
    }
    out
}

/// One metric's rows, from the days' sums.
fn metric_result(
    metric: &Metric,
    role: Role,
    variants: &[variant::Model],
    control: Option<i64>,
    exposed: &BTreeMap<i64, u64>,
    days: &[metric_day::Model],
) -> MetricResult {
    let shape = Shape {
        kind: metric.kind,
        direction: metric.direction,
        quantile: metric.quantile,
    };
    let mut sums: HashMap<i64, Sums> = HashMap::new();
    for d in days.iter().filter(|d| d.metric_id == metric.id) {
        let s = sums.entry(d.variant_id).or_default();
        s.paired.sum_x += d.sum_x;
        s.paired.sum_x_sq += d.sum_x_sq;
        s.paired.sum_y += d.sum_y;
        s.paired.sum_y_sq += d.sum_y_sq;
        s.paired.sum_xy += d.sum_xy;
        s.nonzero += u64::try_from(d.nonzero).unwrap_or(0);
        if let Some(sketch) = d
            .sketch
            .as_deref()
            .and_then(|t| serde_json::from_str::<QuantileSketch>(t).ok())
        {
            s.sketch.merge(&sketch);
        }
    }
    let mut ordered: Vec<&variant::Model> = variants.iter().collect();
    ordered.sort_by_key(|v| (Some(v.id) != control, v.id));
    let sums_of = |id: i64| {
        let mut s = sums.get(&id).cloned().unwrap_or_default();
        s.exposed = exposed.get(&id).copied().unwrap_or(0);
        s.paired.n = s.exposed;
        s
    };
    let control_sums = control.map(sums_of);
    let rows = ordered
        .into_iter()
        .map(|v| {
            let s = sums_of(v.id);
            let (value, stddev) = compare::value(shape, &s);
            let is_control = Some(v.id) == control;
            let compared = match (&control_sums, is_control) {
                (Some(c), false) => compare::compare(shape, c, &s).map(|r| r.0),
                _ => None,
            };
            let status = match (&control_sums, is_control) {
                (Some(c), false) => Some(compare::status(
                    shape,
                    c,
                    &s,
                    compared.as_ref(),
                    compared.as_ref().map_or(1.0, |c| c.sequential.p_value),
                )),
                _ => None,
            };
            VariantResult {
                variant: v.key.clone(),
                control: is_control,
                exposed: s.exposed,
                value,
                stddev: stddev.filter(|_| !matches!(shape.kind, MetricKind::Conversion)),
                adjusted_p_value: compared.as_ref().map(|c| c.sequential.p_value),
                comparison: compared,
                status,
            }
        })
        .collect();
    MetricResult {
        metric: metric.key.clone(),
        name: metric.name.clone(),
        kind: metric.kind,
        direction: metric.direction,
        role,
        variants: rows,
    }
}

/// Corrects the sequential p-values of the secondary metrics (every treatment of every secondary
/// metric is one test of the family) and re-decides their statuses.
fn correct(results: &mut Results, correction: Correction) {
    let mut family: Vec<(usize, usize, f64)> = Vec::new();
    for (m, metric) in results.metrics.iter().enumerate() {
        if metric.role != Role::Secondary {
            continue;
        }
        for (v, row) in metric.variants.iter().enumerate() {
            if let Some(c) = &row.comparison {
                family.push((m, v, c.sequential.p_value));
            }
        }
    }
    let raw: Vec<f64> = family.iter().map(|f| f.2).collect();
    for ((m, v, _), adjusted) in family.into_iter().zip(correction.adjust(&raw)) {
        let row = &mut results.metrics[m].variants[v];
        row.adjusted_p_value = Some(adjusted);
        if let (Some(Status::SignificantBetter | Status::SignificantWorse), true) =
            (row.status, adjusted >= ALPHA)
        {
            row.status = Some(Status::Inconclusive);
        }
    }
}
