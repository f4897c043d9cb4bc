//! Plan limits for tenant use cases: the checks that guard creating projects, environments and seats,
//! the audit retention window, and the usage report of `GET /api/v1/usage`.
//!
//! Invariant: a check runs inside the write transaction that creates the thing (its tenant row is
//! locked first by `TenantDb::begin`), so two concurrent creations cannot both pass the last free place;
//! a refusal writes nothing. Limits are data (the `plans` table); `None` is unlimited.
//! Invariant: the monthly evaluations limit is reported, never enforced: evaluation never stops because
//! of billing (see [`crate::usage`]).

use crate::TenantsError;
use crate::usage::{Period, Usage};
use flagent_storage::{Connection, Db, Scoped, StorageError};
use flagent_types::{TenantScope, perm};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use utoipa::ToSchema;

pub use flagent_types::{Limit, LimitReached, Plan, PlanLimits};

/// Milliseconds in a day, for the audit retention window.
const DAY_MILLIS: i64 = 86_400_000;

/// Refuses adding `adding` things counted by `limit` when the plan allows fewer; `count` (how many
/// exist) is only awaited when the plan limits them.
pub(crate) async fn check_limit(
    plan: &Plan,
    limit: Limit,
    adding: u64,
    count: impl Future<Output = Result<u64, StorageError>>,
) -> Result<(), TenantsError> {
    if adding == 0 || plan.limits.allowed(limit).is_none() {
        return Ok(());
    }
    plan.check(limit, count.await?, adding)?;
    Ok(())
}

/// Members plus pending invitations of the tenant of `tx`.
async fn count_seats(tx: &Scoped<impl Connection>) -> Result<u64, StorageError> {
    tx.seats_in_use(chrono::Utc::now().timestamp_millis()).await
}

/// How many seats the tenant of `tx` uses: its members plus its pending invitations.
pub async fn seats_used(tx: &Scoped<impl Connection>) -> Result<u64, TenantsError> {
    Ok(count_seats(tx).await?)
}

/// Refuses adding `adding` seats (members or invitations) to the tenant of `tx` beyond its plan.
///
/// Call it inside the write transaction that adds them (a `TenantTx`, which locked the tenant row), so
/// concurrent invitations cannot both take the last seat. Accepting an invitation turns a pending
/// invitation into a member and adds no seat.
pub async fn check_seats(tx: &Scoped<impl Connection>, adding: u64) -> Result<(), TenantsError> {
    let plan = tx.tenant_plan().await?;
    check_limit(&plan, Limit::Seats, adding, count_seats(tx)).await
}

/// The first instant (ms) of the audit events the tenant of `db` may see, or `None` for all of them.
pub(crate) async fn audit_window_start(
    db: &Scoped<impl Connection>,
) -> Result<Option<i64>, TenantsError> {
    let plan = db.tenant_plan().await?;
    Ok(plan.limits.audit_retention_days.map(|days| {
        let days = i64::try_from(days).unwrap_or(i64::MAX / DAY_MILLIS);
        chrono::Utc::now().timestamp_millis() - days.saturating_mul(DAY_MILLIS)
    }))
}

/// A plan as `GET /usage` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    /// The plan's key (`free`, `pro`, `enterprise`, `self-hosted`).
    pub key: String,
    /// The display name.
    pub name: String,
}

/// What the plan allows; `null` is unlimited.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    /// Members plus pending invitations.
    pub seats: Option<u64>,
    /// Projects.
    pub projects: Option<u64>,
    /// Live environments per project.
    pub environments: Option<u64>,
    /// Live flags, in all projects.
    pub flags: Option<u64>,
    /// Evaluations per calendar month (UTC); reported, never enforced.
    pub monthly_evaluations: Option<u64>,
    /// Days of audit events shown and exported.
    pub audit_retention_days: Option<u64>,
    /// Days raw events and crash reports are kept.
    pub event_retention_days: Option<u64>,
    /// Whether single sign-on is included.
    pub sso: bool,
}

/// What the tenant uses now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// Members plus pending invitations.
    pub seats: u64,
    /// Projects.
    pub projects: u64,
    /// Live environments of the project that has the most (the environments limit is per project).
    pub environments: u64,
    /// Live flags, in all projects.
    pub flags: u64,
    /// Evaluations this month: those written to the database plus those this server has not written yet.
    pub evaluations: u64,
}

/// `GET /usage`: the tenant's plan, its limits, its usage this month and the limits it is over.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// The plan.
    pub plan: PlanView,
    /// The calendar month (UTC) evaluations are counted in, `YYYY-MM`.
    pub period: String,
    /// What the plan allows.
    pub limits: LimitsView,
    /// What the tenant uses.
    pub usage: UsageView,
    /// The limits the tenant is over now (`flags`, `monthlyEvaluations`…), as after moving to a smaller
    /// plan: nothing is removed, only adding more is refused.
    pub exceeded: Vec<String>,
}

fn limits_view(limits: &PlanLimits) -> LimitsView {
    LimitsView {
        seats: limits.seats,
        projects: limits.projects,
        environments: limits.environments,
        flags: limits.flags,
        monthly_evaluations: limits.monthly_evaluations,
        audit_retention_days: limits.audit_retention_days,
        event_retention_days: limits.event_retention_days,
        sso: limits.sso,
    }
}

/// Plans and usage, one method per use case.
#[derive(Clone)]
pub struct Plans {
    db: Db,
    usage: Arc<Usage>,
}

impl Plans {
    /// Plans stored in `db`; evaluations not yet written are read from `usage`.
    pub fn new(db: Db, usage: Arc<Usage>) -> Self {
        Self { db, usage }
    }

    /// The plan of the caller's tenant.
    pub async fn plan(&self, scope: &TenantScope) -> Result<Plan, TenantsError> {
        scope.require::<perm::Read>()?;
        Ok(self.db.scoped(scope).tenant_plan().await?)
    }

    /// The caller tenant's plan, limits, usage this month and the limits it is over.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn usage_report(&self, scope: &TenantScope) -> Result<UsageReport, TenantsError> {
        scope.require::<perm::Read>()?;
        let tdb = self.db.scoped(scope);
        let plan = tdb.tenant_plan().await?;
        let period = Period::now();
        let evaluations = tdb.evaluations_in(&period.to_string()).await?
            + self.usage.unflushed(scope.tenant_id(), period);
        let usage = UsageView {
            seats: seats_used(&tdb).await?,
            projects: tdb.count_projects().await?,
            environments: tdb.most_live_environments().await?,
            flags: tdb.count_live_flags().await?,
            evaluations,
        };
        let exceeded = Limit::ALL
            .into_iter()
            .filter(|&limit| {
                let current = match limit {
                    Limit::Seats => usage.seats,
                    Limit::Projects => usage.projects,
                    Limit::Environments => usage.environments,
                    Limit::Flags => usage.flags,
                    Limit::MonthlyEvaluations => usage.evaluations,
                };
                plan.exceeded(limit, current)
            })
            .map(|limit| limit.as_str().to_owned())
            .collect();
        Ok(UsageReport {
            limits: limits_view(&plan.limits),
            plan: PlanView {
                key: plan.key,
                name: plan.name,
            },
            period: period.to_string(),
            usage,
            exceeded,
        })
    }
}
