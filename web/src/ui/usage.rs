//! The plan and usage page (`/ui/t/{tenant}/usage`): the tenant's plan and each limit against what it
//! uses, from the same report as `GET /api/v1/usage` with the same permission (`flags:read`).

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_auth::Need;
use flagent_tenants::plans::{Limit, UsageReport};
use flagent_types::perm;
use flagent_ui::{Counted, LimitMeter, UsagePage};

/// The meters of `report`, one per countable limit, in the report's order.
fn meters(report: &UsageReport) -> Vec<LimitMeter> {
    let (limits, usage) = (&report.limits, &report.usage);
    Limit::ALL
        .into_iter()
        .map(|limit| {
            let (counted, used, allowed) = match limit {
                Limit::Seats => (Counted::Seats, usage.seats, limits.seats),
                Limit::Projects => (Counted::Projects, usage.projects, limits.projects),
                Limit::Environments => (
                    Counted::Environments,
                    usage.environments,
                    limits.environments,
                ),
                Limit::Flags => (Counted::Flags, usage.flags, limits.flags),
                Limit::MonthlyEvaluations => (
                    Counted::MonthlyEvaluations,
                    usage.evaluations,
                    limits.monthly_evaluations,
                ),
            };
            LimitMeter {
                counted,
                used,
                allowed,
                exceeded: report.exceeded.iter().any(|e| e == limit.as_str()),
            }
        })
        .collect()
}

/// `/ui/t/{tenant}/usage`: the plan, the billing period and every limit with its use.
pub(super) async fn usage(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::Read>();
    let viewer = Viewer::needing(
        &req,
        &state,
        &tenant,
        &query,
        "usage",
        "Plan and usage",
        need,
    )
    .await?;
    let report = state
        .plans
        .usage_report(&viewer.scope)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &UsagePage {
            shell: viewer.shell,
            meters: meters(&report),
            plan_name: report.plan.name,
            plan_key: report.plan.key,
            period: report.period,
            audit_retention_days: report.limits.audit_retention_days,
            sso: report.limits.sso,
        },
        Some(&nonce),
    ))
}
