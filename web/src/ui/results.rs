//! The results section of a flag's experiments page: `Analytics::results` (the same use case as
//! `GET /api/v1/flags/{id}/results`) turned into `flagent-ui`'s view, and for those who may change the
//! experiment's settings (`flags:write` everywhere, as `PUT /api/v1/flags/{id}/experiment` needs) the
//! form with the project's metrics to choose from.

use super::page::{Refusal, Viewer};
use crate::state::AppState;
use flagent_analytics::results::{MetricResult, VariantResult};
use flagent_analytics::{Results, Role, Status};
use flagent_flags::Flag;
use flagent_types::FlagId;
use flagent_ui::{
    Compared, ExperimentForm, ExperimentSettings, Measured, MeasuredMetric, MetricRole,
    MetricTable, ResultsView, SrmWarning, Verdict, correction_label,
};

/// The results section of `flag` for `viewer`.
pub(super) async fn section(
    state: &AppState,
    viewer: &Viewer,
    flag: &Flag,
) -> Result<ResultsView, Refusal> {
    let refuse = |e: flagent_analytics::AnalyticsError| Refusal::from_api(e.into());
    let results = state
        .analytics
        .results(&viewer.scope, FlagId(flag.id))
        .await
        .map_err(refuse)?;
    let form = if viewer.shell.can_write_flags {
        let metrics = state
            .analytics
            .metrics(&viewer.scope)
            .await
            .map_err(refuse)?;
        let own: Vec<(String, String)> = metrics
            .into_iter()
            .filter(|m| !m.built_in)
            .map(|m| (m.key, m.name))
            .collect();
        Some(form(flag, &results, &own))
    } else {
        None
    };
    Ok(view(flag, results, form))
}

/// The section's view of `results`.
fn view(flag: &Flag, results: Results, form: Option<ExperimentForm>) -> ResultsView {
    let named = |role: Role| -> Vec<String> {
        results
            .metrics
            .iter()
            .filter(|m| m.role == role)
            .map(|m| m.name.clone())
            .collect()
    };
    let settings = ExperimentSettings {
        control: results.control.clone(),
        primary: named(Role::Primary).into_iter().next(),
        secondary: named(Role::Secondary),
        correction: correction_label(results.correction),
    };
    let exposed = results
        .metrics
        .iter()
        .map(|m| m.variants.iter().map(|v| v.exposed).sum::<u64>())
        .max()
        .unwrap_or(0);
    ResultsView {
        api: format!("/api/v1/flags/{}/experiment", flag.id),
        settings,
        exposed,
        srm: srm_warning(flag, &results),
        metrics: results.metrics.into_iter().map(table).collect(),
        form,
    }
}

/// The warning when the exposures' split is off, its variants in the flag's order.
fn srm_warning(flag: &Flag, results: &Results) -> Option<SrmWarning> {
    let srm = results.srm.as_ref().filter(|s| s.mismatch)?;
    let keys = flag.variants.iter().map(|v| &v.key);
    let observed: Vec<(String, u64)> = keys
        .clone()
        .filter_map(|k| Some((k.clone(), *srm.observed.get(k)?)))
        .collect();
    let expected: Vec<(String, f64)> = keys
        .filter_map(|k| Some((k.clone(), *srm.expected.get(k)?)))
        .collect();
    Some(SrmWarning::new(&observed, &expected, srm.p_value))
}

/// One metric's table.
fn table(metric: MetricResult) -> MetricTable {
    MetricTable::new(MeasuredMetric {
        key: metric.metric,
        name: metric.name,
        kind: metric.kind.as_str(),
        increase: metric.direction == flagent_analytics::Direction::Increase,
        role: match metric.role {
            Role::Primary => MetricRole::Primary,
            Role::Secondary => MetricRole::Secondary,
            Role::Guardrail => MetricRole::Guardrail,
        },
        rows: metric.variants.into_iter().map(measured).collect(),
    })
}

/// One variant's row, as the results use case computed it.
fn measured(row: VariantResult) -> Measured {
    let adjusted = row.adjusted_p_value;
    Measured {
        compared: row.comparison.map(|c| Compared {
            rel_diff: c.rel_diff,
            rel_ci95: c.rel_ci95,
            p_value: c.p_value,
            sequential_p: c.sequential.p_value,
            adjusted_p: adjusted.filter(|a| *a != c.sequential.p_value),
            chance_to_beat: c.chance_to_beat,
            cuped: c.variance_reduction.filter(|_| c.cuped),
        }),
        verdict: row.status.map(|s| match s {
            Status::Collecting => Verdict::Collecting,
            Status::SignificantBetter => Verdict::Better,
            Status::SignificantWorse => Verdict::Worse,
            Status::Inconclusive => Verdict::Inconclusive,
        }),
        variant: row.variant,
        control: row.control,
        exposed: row.exposed,
        value: row.value,
    }
}

/// The settings form, filled with the settings in force.
fn form(flag: &Flag, results: &Results, metrics: &[(String, String)]) -> ExperimentForm {
    let keys = |role: Role| -> Vec<String> {
        results
            .metrics
            .iter()
            .filter(|m| m.role == role)
            .map(|m| m.metric.clone())
            .collect()
    };
    let variants: Vec<String> = flag.variants.iter().map(|v| v.key.clone()).collect();
    let primary = keys(Role::Primary);
    ExperimentForm::new(
        &variants,
        metrics,
        results.control.as_deref(),
        primary.first().map(String::as_str),
        &keys(Role::Secondary),
        results.correction,
    )
}
