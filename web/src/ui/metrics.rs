//! The metric definitions page (`/ui/t/{tenant}/metrics`): the project's metrics, read through the same
//! use case as `GET /api/v1/metrics` with the same permission (`flags:read`). The create form and the
//! delete buttons are rendered for viewers with `flags:write` in every environment, which
//! `POST /api/v1/metrics` and `DELETE /api/v1/metrics/{key}` need.

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_analytics::{Direction, Metric, MetricKind};
use flagent_auth::Need;
use flagent_types::perm;
use flagent_ui::{MetricEntry, MetricsPage, metric_details};

/// A metric as the page lists it.
fn entry(metric: Metric) -> MetricEntry {
    let ratio = metric
        .numerator
        .as_deref()
        .zip(metric.denominator.as_deref());
    MetricEntry {
        details: metric_details(
            metric.value_property.as_deref(),
            ratio,
            metric.quantile,
            metric.winsorize_at,
        ),
        key: metric.key,
        name: metric.name,
        description: metric.description,
        kind: metric.kind.as_str(),
        event: metric.event,
        increase: metric.direction == Direction::Increase,
        window_hours: metric.window_hours,
        guardrail: metric.guardrail,
        built_in: metric.built_in,
    }
}

/// The keys of the metrics a ratio may read: the project's own conversion, count and sum metrics.
fn ratio_parts(metrics: &[Metric]) -> Vec<String> {
    metrics
        .iter()
        .filter(|m| !m.built_in)
        .filter(|m| {
            matches!(
                m.kind,
                MetricKind::Conversion | MetricKind::Count | MetricKind::Sum
            )
        })
        .map(|m| m.key.clone())
        .collect()
}

/// `/ui/t/{tenant}/metrics`: the project's metrics, and for writers the forms that change them.
pub(super) async fn metrics(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::Read>();
    let viewer = Viewer::needing(&req, &state, &tenant, &query, "metrics", "Metrics", need).await?;
    let metrics = state
        .analytics
        .metrics(&viewer.scope)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let nonce = viewer.shell.nonce.clone();
    let page = MetricsPage {
        shell: viewer.shell,
        ratio_parts: ratio_parts(&metrics),
        metrics: metrics.into_iter().map(entry).collect(),
    };
    Ok(html(&page, Some(&nonce)))
}
