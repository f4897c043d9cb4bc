//! The audit log's use cases: reading it with filters and a cursor, exporting it as JSON Lines or CSV,
//! and verifying that its hash chain is intact.
//!
//! Invariant: listing and exporting show only the events within the plan's audit retention window
//! (`audit_retention_days`, none for unlimited); older events are kept, never deleted, so the chain still
//! verifies end to end.
//! Invariant: verification recomputes every hash from the stored fields and checks sequence numbers and
//! the chain head on the tenant row, so an edited, deleted or truncated event is found and named.

use crate::TenantsError;
use crate::plans::audit_window_start;
use flagent_storage::entities::audit_event;
use flagent_storage::{AuditQuery, Db, chain_hash, event_fields};
use flagent_types::{TenantScope, perm};
use serde::Serialize;
use utoipa::ToSchema;

/// The audit log of every tenant, reached one tenant at a time through a scope.
#[derive(Clone)]
pub struct AuditLog {
    db: Db,
}

impl AuditLog {
    /// The log stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A page of the caller tenant's events matching `filter`, newest first.
    pub async fn list(
        &self,
        scope: &TenantScope,
        filter: AuditFilter,
    ) -> Result<AuditPage, TenantsError> {
        list_events(&self.db, scope, filter).await
    }

    /// Every event of the caller's tenant within its plan's retention window, oldest first.
    pub async fn all(&self, scope: &TenantScope) -> Result<Vec<AuditEvent>, TenantsError> {
        all_events(&self.db, scope).await
    }

    /// Verifies the caller tenant's chain.
    pub async fn verify(&self, scope: &TenantScope) -> Result<VerifyReport, TenantsError> {
        verify(&self.db, scope).await
    }
}

/// Most events one page holds.
pub const MAX_PAGE: u64 = 500;

/// Chain events read per round trip while verifying or exporting.
const BATCH: u64 = 1000;

/// One audit event as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Row id.
    pub id: i64,
    /// Position in the tenant's chain (1, 2, …).
    pub seq: i64,
    /// When (RFC 3339).
    pub occurred_at: String,
    /// Who.
    pub actor: String,
    /// `api_key`, `user` or `system`.
    pub actor_type: String,
    /// The actor's id.
    pub actor_id: String,
    /// Client IP address.
    pub ip: String,
    /// Client user agent.
    pub user_agent: String,
    /// What happened.
    pub action: String,
    /// Kind of resource.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Environment key, when the change belongs to one.
    pub environment: String,
    /// The resource before (JSON, `null` when created).
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// The resource after (JSON, `null` when deleted).
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    /// This event's chain hash.
    pub hash: String,
    /// The previous event's chain hash.
    pub prev_hash: String,
}

/// A page of events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// The events.
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Filters of `GET /audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact actor.
    pub actor: Option<String>,
    /// Exact action, or a prefix ending in `.` (`flag.`).
    pub action: Option<String>,
    /// `type` or `type:id` (`flag`, `flag:12`).
    pub resource: Option<String>,
    /// From this time (ms, inclusive).
    pub from: Option<i64>,
    /// Until this time (ms, exclusive).
    pub to: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<i64>,
    /// Page size (default 100, at most 500).
    pub limit: Option<u64>,
}

/// The outcome of verifying a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// Whether every event and the chain head check out.
    pub intact: bool,
    /// How many events were checked.
    pub checked: u64,
    /// The newest sequence number recorded on the tenant.
    pub head_seq: i64,
    /// The first event found broken, if any.
    pub first_broken: Option<BrokenEvent>,
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokenEvent {
    /// The sequence number of the first event that does not verify (or is missing).
    pub seq: i64,
    /// Its row id, when the row exists.
    pub id: Option<i64>,
    /// What is wrong.
    pub reason: String,
}

fn view(row: audit_event::Model) -> AuditEvent {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    AuditEvent {
        id: row.id,
        seq: row.seq,
        occurred_at: chrono::DateTime::<chrono::Utc>::from_timestamp_millis(row.occurred_at)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        before: parse(&row.before),
        after: parse(&row.after),
        actor: row.actor,
        actor_type: row.actor_type,
        actor_id: row.actor_id,
        ip: row.ip,
        user_agent: row.user_agent,
        action: row.action,
        resource_type: row.resource_type,
        resource_id: row.resource_id,
        environment: row.environment,
        hash: row.hash,
        prev_hash: row.prev_hash,
    }
}

/// A page of the caller tenant's events matching `filter`, newest first.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
pub async fn list_events(
    db: &Db,
    scope: &TenantScope,
    filter: AuditFilter,
) -> Result<AuditPage, TenantsError> {
    scope.require::<perm::ReadAudit>()?;
    let limit = filter.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let (resource_type, resource_id) = match filter.resource.as_deref() {
        Some(r) => match r.split_once(':') {
            Some((t, id)) => (Some(t.to_owned()), Some(id.to_owned())),
            None => (Some(r.to_owned()), None),
        },
        None => (None, None),
    };
    let tdb = db.scoped(scope);
    let window = audit_window_start(&tdb).await?;
    let query = AuditQuery {
        actor: filter.actor,
        action: filter.action,
        resource_type,
        resource_id,
        from: filter.from.max(window),
        to: filter.to,
        before_seq: filter.cursor,
        limit: limit + 1,
    };
    let mut rows = tdb.audit_events(&query).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        events: rows.into_iter().map(view).collect(),
        next_cursor,
    })
}

/// Every event of the caller's tenant within its plan's retention window, oldest first (for export).
pub async fn all_events(db: &Db, scope: &TenantScope) -> Result<Vec<AuditEvent>, TenantsError> {
    scope.require::<perm::ReadAudit>()?;
    let tdb = db.scoped(scope);
    let window = audit_window_start(&tdb).await?;
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = tdb.audit_chain(after, window, BATCH).await?;
        let full = page.len() as u64 == BATCH;
        after = page.last().map_or(after, |r| r.seq);
        events.extend(page.into_iter().map(view));
        if !full {
            return Ok(events);
        }
    }
}

/// Recomputes the caller tenant's chain and reports the first broken event.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
pub async fn verify(db: &Db, scope: &TenantScope) -> Result<VerifyReport, TenantsError> {
    scope.require::<perm::ReadAudit>()?;
    let tdb = db.scoped(scope);
    let tenant = scope.tenant_id().0;
    let (head_seq, head_hash) = tdb.audit_head().await?;
    let (mut prev, mut expected, mut checked) = (String::new(), 1_i64, 0_u64);
    let broken = |checked, seq, id, reason: String| VerifyReport {
        intact: false,
        checked,
        head_seq,
        first_broken: Some(BrokenEvent { seq, id, reason }),
    };
    loop {
        let page = tdb.audit_chain(expected - 1, None, BATCH).await?;
        let full = page.len() as u64 == BATCH;
        for row in page {
            if row.seq != expected {
                return Ok(broken(
                    checked,
                    expected,
                    None,
                    format!("event {expected} is missing"),
                ));
            }
            if row.prev_hash != prev {
                return Ok(broken(
                    checked,
                    row.seq,
                    Some(row.id),
                    "its previous hash does not match the event before it".into(),
                ));
            }
            if chain_hash(&prev, tenant, row.seq, &event_fields(&row)) != row.hash {
                return Ok(broken(
                    checked,
                    row.seq,
                    Some(row.id),
                    "its contents do not match its hash".into(),
                ));
            }
            prev = row.hash;
            expected += 1;
            checked += 1;
        }
        if !full {
            break;
        }
    }
    if head_seq != expected - 1 {
        return Ok(broken(
            checked,
            expected,
            None,
            format!("events {expected} to {head_seq} are missing"),
        ));
    }
    if head_hash != prev {
        return Ok(broken(
            checked,
            expected - 1,
            None,
            "the newest event does not match the chain head".into(),
        ));
    }
    Ok(VerifyReport {
        intact: true,
        checked,
        head_seq,
        first_broken: None,
    })
}

/// Events as JSON Lines.
pub fn to_json_lines(events: &[AuditEvent]) -> String {
    events
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|line| line + "\n")
        .collect()
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Events as CSV with a header row; `before` and `after` are JSON text.
pub fn to_csv(events: &[AuditEvent]) -> String {
    let mut out = String::from(
        "seq,occurred_at,actor,actor_type,actor_id,ip,user_agent,action,resource_type,resource_id,environment,before,after,hash,prev_hash\n",
    );
    for e in events {
        let fields = [
            e.seq.to_string(),
            e.occurred_at.clone(),
            e.actor.clone(),
            e.actor_type.clone(),
            e.actor_id.clone(),
            e.ip.clone(),
            e.user_agent.clone(),
            e.action.clone(),
            e.resource_type.clone(),
            e.resource_id.clone(),
            e.environment.clone(),
            e.before.to_string(),
            e.after.to_string(),
            e.hash.clone(),
            e.prev_hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
