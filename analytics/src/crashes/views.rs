//! Reading crash groups (`GET /api/v1/crashes`, `GET /api/v1/crashes/{groupID}`): an environment's
//! groups, most recently seen first, a page at a time, and one group with its latest reports.
//!
//! `entitiesAffected` counts the distinct (hashed) entities among the group's stored reports, so it is
//! exact for the reports kept (the plan's retention). Entities are shown only as their hash.
//! Invariant: a group of another tenant or another environment is not found, never shown.

use super::fingerprint::Frame;
use crate::{Analytics, AnalyticsError};
use flagent_storage::entities::{crash, crash_group};
use flagent_storage::{CrashGroupQuery, TenantDb};
use flagent_types::{TenantScope, perm};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Groups per page when the caller does not say.
pub const DEFAULT_GROUPS: u64 = 50;
/// Groups per page at most.
pub const MAX_GROUPS: u64 = 200;
/// Reports shown with one group.
pub const RECENT_CRASHES: u64 = 20;

/// Which groups to list.
#[derive(Debug, Clone, Default)]
pub struct CrashFilter {
    /// Only groups with crashes under this flag (by key).
    pub flag: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Groups per page, 1 to 200 (50 when missing).
    pub limit: Option<u64>,
}

/// A crash group: the reports of an environment sharing a fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrashGroup {
    /// Its id.
    pub id: i64,
    /// SHA-256 (hex) of the error type and the top normalised in-app frames.
    pub fingerprint: String,
    /// The platform of its first report.
    pub platform: String,
    /// The error type.
    pub error_type: String,
    /// The message of its first report.
    pub message: String,
    /// The normalised frames the fingerprint was made of, innermost first.
    pub frames: Vec<Frame>,
    /// Reports received.
    pub occurrences: i64,
    /// Distinct entities among the stored reports.
    pub entities_affected: i64,
    /// When the earliest report crashed (RFC 3339).
    pub first_seen: String,
    /// When the latest report crashed (RFC 3339).
    pub last_seen: String,
    /// App versions seen, the most recently reported first (at most 50).
    pub app_versions: Vec<String>,
    /// Reports per flag variant that was active, by flag and variant key.
    pub variants: Vec<CrashVariant>,
}

/// How many reports of a group had one flag's variant active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrashVariant {
    /// The flag's key.
    pub flag_key: String,
    /// The variant's key.
    pub variant_key: String,
    /// Reports with it active.
    pub crashes: i64,
}

/// One report as it was sent (the entity shown as its hash).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrashReport {
    /// Its id.
    pub id: i64,
    /// The entity's stored hash (16 hex digits), never the id sent.
    pub entity_hash: String,
    /// The app version.
    pub app_version: String,
    /// The message (at most 1,024 bytes).
    pub message: String,
    /// The frames as sent: `[{function, file, line?}]`.
    #[schema(value_type = Vec<Object>)]
    pub frames: Value,
    /// The flags active: `{flagKey: variantKey}`.
    #[schema(value_type = Object)]
    pub flags: Value,
    /// When it crashed (RFC 3339).
    pub timestamp: String,
}

/// One group with its most recent reports.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrashGroupDetail {
    /// The group.
    #[serde(flatten)]
    pub group: CrashGroup,
    /// Its 20 most recent reports, newest first.
    pub recent_crashes: Vec<CrashReport>,
}

/// A page of groups.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrashGroupPage {
    /// The groups, most recently seen first.
    pub groups: Vec<CrashGroup>,
    /// Pass it as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

impl Analytics {
    /// A page of the crash groups of the caller's environment, most recently seen first.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn crash_groups(
        &self,
        scope: &TenantScope,
        filter: CrashFilter,
    ) -> Result<CrashGroupPage, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let limit = filter.limit.unwrap_or(DEFAULT_GROUPS);
        if !(1..=MAX_GROUPS).contains(&limit) {
            return Err(AnalyticsError::invalid(
                "limit",
                format!("limit must be from 1 to {MAX_GROUPS}"),
            ));
        }
        let after = filter.cursor.as_deref().map(parse_cursor).transpose()?;
        let db = self.db.scoped(scope);
        let query = CrashGroupQuery {
            environment_id: scope.environment_id().0,
            flag: filter.flag.as_deref(),
            after,
            limit: limit + 1,
        };
        let mut rows = db.crash_groups(query).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|g| format!("{}_{}", g.last_seen, g.id));
        Ok(CrashGroupPage {
            groups: views(&db, rows).await?,
            next_cursor,
        })
    }

    /// The crash group `id` of the caller's environment, with its most recent reports.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), group_id = id))]
    pub async fn crash_group(
        &self,
        scope: &TenantScope,
        id: i64,
    ) -> Result<CrashGroupDetail, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let row = db
            .crash_group(scope.environment_id().0, id)
            .await?
            .ok_or(AnalyticsError::CrashGroupNotFound(id))?;
        let recent = db.recent_crashes(row.id, RECENT_CRASHES).await?;
        let group = views(&db, vec![row])
            .await?
            .pop()
            .ok_or(AnalyticsError::CrashGroupNotFound(id))?;
        Ok(CrashGroupDetail {
            group,
            recent_crashes: recent.into_iter().map(report_view).collect(),
        })
    }
}

/// `{lastSeen}_{id}`, as `nextCursor` writes it.
fn parse_cursor(text: &str) -> Result<(i64, i64), AnalyticsError> {
    text.split_once('_')
        .and_then(|(seen, id)| Some((seen.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| {
            AnalyticsError::invalid("cursor", "cursor must be the nextCursor of a previous page")
        })
}

/// The views of `rows`, with their variant counts and affected entities.
async fn views(
    db: &TenantDb,
    rows: Vec<crash_group::Model>,
) -> Result<Vec<CrashGroup>, AnalyticsError> {
    let ids: Vec<i64> = rows.iter().map(|g| g.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut variants: HashMap<i64, Vec<CrashVariant>> = HashMap::new();
    for v in db.crash_group_variants(&ids).await? {
        variants.entry(v.group_id).or_default().push(CrashVariant {
            flag_key: v.flag_key,
            variant_key: v.variant_key,
            crashes: v.crashes,
        });
    }
    let entities: HashMap<i64, i64> = db.crash_entities(&ids).await?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|g| CrashGroup {
            id: g.id,
            // Stored by this crate only, so they parse; anything else shows as empty.
            frames: serde_json::from_str(&g.frames).unwrap_or_default(),
            app_versions: serde_json::from_str(&g.app_versions).unwrap_or_default(),
            entities_affected: entities.get(&g.id).copied().unwrap_or(0),
            variants: variants.remove(&g.id).unwrap_or_default(),
            first_seen: rfc3339(g.first_seen),
            last_seen: rfc3339(g.last_seen),
            occurrences: g.occurrences,
            fingerprint: g.fingerprint,
            platform: g.platform,
            error_type: g.error_type,
            message: g.message,
        })
        .collect())
}

/// A stored report as the API shows it.
fn report_view(row: crash::Model) -> CrashReport {
    CrashReport {
        id: row.id,
        entity_hash: format!("{:016x}", u64::from_be_bytes(row.entity.to_be_bytes())),
        app_version: row.app_version,
        message: row.message,
        frames: serde_json::from_str(&row.frames).unwrap_or(Value::Array(Vec::new())),
        flags: serde_json::from_str(&row.flags).unwrap_or(Value::Object(Default::default())),
        timestamp: rfc3339(row.occurred_at),
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 text (UTC, milliseconds).
fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_pages_write() {
        assert_eq!(
            parse_cursor("1796637600000_42").unwrap(),
            (1_796_637_600_000, 42)
        );
        for bad in ["", "12", "a_b", "12_", "_3"] {
            assert!(matches!(
                parse_cursor(bad),
                Err(AnalyticsError::Invalid {
                    field: "cursor",
                    ..
                })
            ));
        }
        assert_eq!(rfc3339(1_796_637_600_000), "2026-12-07T10:00:00.000Z");
    }
}
