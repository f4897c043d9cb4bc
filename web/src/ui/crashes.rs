//! The crash pages: `/ui/t/{tenant}/crashes` (the environment's crash groups, newest first, a page at
//! a time, filtered by flag) and `/ui/t/{tenant}/crashes/{id}` (one group with its latest reports and
//! its crash rate per flag variant). They read through the same use cases as `GET /api/v1/crashes` and
//! `GET /api/v1/crashes/{groupID}`, with the same permission (`flags:read`), plus
//! `Analytics::crash_rates` for the charts; a group of another tenant or environment is not found.

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_analytics::crashes::{CrashRates, FlagCrashRates};
use flagent_analytics::{
    AnalyticsError, CrashFilter, CrashGroup, CrashGroupDetail, CrashGroupPage,
};
use flagent_auth::Need;
use flagent_flags::FlagFilter;
use flagent_types::perm;
use flagent_ui::{
    CrashGroupRow, CrashPage, CrashSummary, CrashesPage, FlagRates, RateChart, RecentCrash, Shell,
    VariantRate, crashes_link, flag_choices,
};
use serde::Deserialize;

/// Groups per page.
pub(super) const CRASH_PAGE: u64 = 25;

/// The crash groups page's query: the frame's, the flag filter and the cursor.
#[derive(Deserialize)]
pub(super) struct CrashesQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    flag: String,
    #[serde(default)]
    cursor: Option<String>,
}

fn refuse(error: AnalyticsError) -> Refusal {
    Refusal::from_api(error.into())
}

/// A group as the pages' rows take it.
fn summary(group: CrashGroup) -> CrashSummary {
    CrashSummary {
        id: group.id,
        error_type: group.error_type,
        message: group.message,
        occurrences: group.occurrences,
        entities_affected: group.entities_affected,
        first_seen: group.first_seen,
        last_seen: group.last_seen,
        app_versions: group.app_versions,
    }
}

/// `/ui/t/{tenant}/crashes`: the environment's crash groups, most recently seen first.
pub(super) async fn crashes(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<CrashesQuery>,
) -> Result<HttpResponse, Refusal> {
    let query = query.into_inner();
    let need = Need::of::<perm::Read>();
    let viewer = Viewer::needing(
        &req,
        &state,
        &tenant,
        &query.page,
        "crashes",
        "Crashes",
        need,
    );
    let viewer = viewer.await?;
    let flag = query.flag.trim().to_owned();
    let cursor = query.cursor.filter(|c| !c.is_empty());
    let (groups, error) = groups(&state, &viewer, &flag, cursor.clone()).await?;
    let keys = state
        .flags
        .list_flags(&viewer.scope, &FlagFilter::default())
        .await
        .map_err(|e| Refusal::from_api(e.into()))?
        .into_iter()
        .map(|f| f.key)
        .collect();
    let page = list_page(viewer.shell, groups, flag, cursor.is_some(), keys, error);
    let nonce = page.shell.nonce.clone();
    Ok(html(&page, Some(&nonce)))
}

/// The page of groups `viewer` asked for, or none and the API's reason when the request is invalid
/// (a cursor from elsewhere).
async fn groups(
    state: &AppState,
    viewer: &Viewer,
    flag: &str,
    cursor: Option<String>,
) -> Result<(CrashGroupPage, Option<String>), Refusal> {
    let filter = CrashFilter {
        flag: Some(flag.to_owned()).filter(|f| !f.is_empty()),
        cursor,
        limit: Some(CRASH_PAGE),
    };
    match state.analytics.crash_groups(&viewer.scope, filter).await {
        Ok(page) => Ok((page, None)),
        Err(AnalyticsError::Invalid { reason, .. }) => {
            let none = CrashGroupPage {
                groups: Vec::new(),
                next_cursor: None,
            };
            Ok((none, Some(reason)))
        }
        Err(e) => Err(refuse(e)),
    }
}

/// The list of `groups` under `flag` (a later page when `later`), with the project's flag `keys` to
/// filter by.
fn list_page(
    shell: Shell,
    groups: CrashGroupPage,
    flag: String,
    later: bool,
    keys: Vec<String>,
    error: Option<String>,
) -> CrashesPage {
    let now = chrono::Utc::now();
    CrashesPage {
        groups: groups
            .groups
            .into_iter()
            .map(|g| CrashGroupRow::new(&shell, summary(g), now))
            .collect(),
        older: groups
            .next_cursor
            .map(|next| crashes_link(&shell, &flag, Some(&next))),
        newest: later.then(|| crashes_link(&shell, &flag, None)),
        flags: flag_choices(keys, &flag),
        flag,
        error,
        shell,
    }
}

/// `/ui/t/{tenant}/crashes/{id}`: one crash group of the environment.
pub(super) async fn crash(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let need = Need::of::<perm::Read>();
    let viewer = Viewer::needing(&req, &state, &tenant, &query, "crashes", "Crash", need).await?;
    let detail = state.analytics.crash_group(&viewer.scope, id).await;
    let detail = detail.map_err(refuse)?;
    let rates = state.analytics.crash_rates(&viewer.scope, id).await;
    let page = group_page(viewer.shell, detail, rates.map_err(refuse)?);
    let nonce = page.shell.nonce.clone();
    Ok(html(&page, Some(&nonce)))
}

/// The page of one group, with its crash rates.
fn group_page(mut shell: Shell, detail: CrashGroupDetail, rates: CrashRates) -> CrashPage {
    let now = chrono::Utc::now();
    let group = detail.group;
    shell.title = format!("Crash: {}", group.error_type);
    CrashPage {
        platform: group.platform.clone(),
        fingerprint: group.fingerprint.clone(),
        frames: group
            .frames
            .iter()
            .map(|f| (f.function.clone(), f.file.clone()))
            .collect(),
        recent: detail
            .recent_crashes
            .into_iter()
            .map(|r| RecentCrash::new(r.app_version, &r.timestamp, r.message, r.entity_hash, now))
            .collect(),
        charts: rates.flags.into_iter().map(|f| chart(&shell, f)).collect(),
        more_flags: rates.more,
        group: CrashGroupRow::new(&shell, summary(group), now),
        shell,
    }
}

/// The chart of one flag's rates, linking to its results page when the project has the flag.
fn chart(shell: &Shell, flag: FlagCrashRates) -> RateChart {
    RateChart::new(FlagRates {
        link: flag
            .flag_id
            .map(|id| shell.link(&format!("flags/{id}/experiment"))),
        flag_key: flag.flag_key,
        variants: flag
            .variants
            .into_iter()
            .map(|v| VariantRate {
                variant: v.variant_key,
                crashes: v.crashes,
                exposed: v.exposed,
                rate: v.rate,
            })
            .collect(),
    })
}
