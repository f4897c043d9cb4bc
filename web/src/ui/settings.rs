//! The Settings pages: the project's API keys, the tenant's members and invitations, and the audit
//! log (the roles and the plan's usage have their own modules). Each reads through the same domain service as the JSON API's list route and needs the same
//! permission (`keys:manage`, `members:manage`, `audit:read`): a viewer without it gets a 403 page.
//! Their forms submit to the JSON API (`/api/v1/keys…`, `/api/v1/members…`, `/api/v1/invitations…`).

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use flagent_auth::Need;
use flagent_tenants::audit::AuditFilter;
use flagent_types::{Permission, Principal, Scope, UserId, perm};
use flagent_ui::{
    AuditFilters, AuditLogPage, AuditRow, InvitationRow, KeyRow, KeysPage, MemberRow, MembersPage,
    Moment, RoleOption,
};
use serde::Deserialize;

/// Events one page of the audit log shows.
const AUDIT_PAGE: u64 = 100;

/// Whether the viewer's role grants `permission` in the page's tenant.
pub(super) async fn allows(state: &AppState, viewer: &Viewer, permission: &str) -> bool {
    let Principal::User { id, .. } = viewer.scope.principal() else {
        return false;
    };
    state
        .auth
        .policy()
        .allows(*id, viewer.scope.tenant_id(), permission, None)
        .await
}

fn viewer_id(viewer: &Viewer) -> Option<UserId> {
    match viewer.scope.principal() {
        Principal::User { id, .. } => Some(*id),
        Principal::ApiKey { .. } | Principal::System { .. } => None,
    }
}

/// The project's API keys (revoked ones included) as the pages show them.
pub(super) async fn key_rows(
    state: &AppState,
    scope: &flagent_types::TenantScope,
) -> Result<Vec<KeyRow>, Refusal> {
    let now = Utc::now();
    let time = |millis| Moment::from_millis(millis, now);
    Ok(flagent_auth::list_api_keys(&state.auth, scope)
        .await
        .map_err(|e| Refusal::from_api(ApiError::from(e)))?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            environment: k.environment,
            created_at: time(k.created_at),
            last_used_at: k.last_used_at.map(time),
            expired: k.expires_at.is_some_and(|e| e <= now.timestamp_millis()),
            expires_at: k.expires_at.map(time),
            revoked_at: k.revoked_at.map(time),
        })
        .collect())
}

/// `/ui/t/{tenant}/keys`: the project's API keys, revoked ones included.
pub(super) async fn keys(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::ManageKeys>();
    let viewer = Viewer::needing(&req, &state, &tenant, &query, "keys", "API keys", need).await?;
    let keys = key_rows(&state, &viewer.scope).await?;
    let can_manage = allows(&state, &viewer, perm::ManageKeys::NAME).await;
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &KeysPage {
            shell: viewer.shell,
            keys,
            can_manage,
            scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        },
        Some(&nonce),
    ))
}

/// `/ui/t/{tenant}/members`: members with their roles, and pending invitations.
pub(super) async fn members(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::ManageMembers>();
    let viewer = Viewer::needing(&req, &state, &tenant, &query, "members", "Members", need).await?;
    let refuse = |e: flagent_tenants::TenantsError| Refusal::from_api(e.into());
    let me = viewer_id(&viewer);
    let now = Utc::now();
    let time = |millis| Moment::from_millis(millis, now);
    let members = state
        .members
        .list_members(&viewer.scope)
        .await
        .map_err(refuse)?
        .into_iter()
        .map(|m| MemberRow {
            is_viewer: Some(UserId(m.user_id)) == me,
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role,
            joined_at: time(m.joined_at),
        })
        .collect();
    let invitations = state
        .members
        .list_invitations(&viewer.scope)
        .await
        .map_err(refuse)?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            created_at: time(i.created_at),
            expires_at: time(i.expires_at),
        })
        .collect();
    let roles = state
        .members
        .list_roles(&viewer.scope)
        .await
        .map_err(refuse)?
        .into_iter()
        .map(|r| RoleOption {
            key: r.key,
            name: r.name,
            built_in: r.built_in,
        })
        .collect();
    let can_manage = allows(&state, &viewer, perm::ManageMembers::NAME).await;
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &MembersPage {
            shell: viewer.shell,
            members,
            invitations,
            roles,
            can_manage,
        },
        Some(&nonce),
    ))
}

/// The audit page's query: the frame's, the filters of `GET /api/v1/audit`, and the cursor.
#[derive(Deserialize)]
pub(super) struct AuditQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: Option<i64>,
}

/// `from`/`to` as the API reads them: RFC 3339, or the API's message.
fn millis(field: &str, text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|d| Some(d.timestamp_millis()))
        .map_err(|_| format!("{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"))
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `/ui/t/{tenant}/audit`: the tenant's newest audit events, filtered like `GET /api/v1/audit`.
pub(super) async fn audit(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, Refusal> {
    let query = query.into_inner();
    let need = Need::of::<perm::ReadAudit>();
    let viewer = Viewer::needing(
        &req,
        &state,
        &tenant,
        &query.page,
        "audit",
        "Audit log",
        need,
    )
    .await?;
    let filters = AuditFilters {
        actor: query.actor.trim().to_owned(),
        action: query.action.trim().to_owned(),
        resource: query.resource.trim().to_owned(),
        from: query.from.trim().to_owned(),
        to: query.to.trim().to_owned(),
    };
    let range =
        millis("from", &filters.from).and_then(|from| Ok((from, millis("to", &filters.to)?)));
    let (events, older, error) = match range {
        Err(message) => (Vec::new(), None, Some(message)),
        Ok((from, to)) => {
            let filter = AuditFilter {
                actor: non_empty(&filters.actor),
                action: non_empty(&filters.action),
                resource: non_empty(&filters.resource),
                from,
                to,
                cursor: query.cursor,
                limit: Some(AUDIT_PAGE),
            };
            match state.audit.list(&viewer.scope, filter).await {
                Ok(page) => {
                    let older = page
                        .next_cursor
                        .map(|cursor| older_link(&viewer, &filters, cursor));
                    (page.events, older, None)
                }
                Err(e) => match Refusal::from_api(e.into()) {
                    Refusal::Problem {
                        status: 400..=499,
                        message,
                        ..
                    } => (Vec::new(), None, Some(message)),
                    other => return Err(other),
                },
            }
        }
    };
    let now = Utc::now();
    let events = events
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            occurred_at: Moment::parse(&e.occurred_at, now),
            actor: e.actor,
            action: e.action,
            resource: if e.resource_id.is_empty() {
                e.resource_type
            } else {
                format!("{}:{}", e.resource_type, e.resource_id)
            },
            environment: e.environment,
        })
        .collect();
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &AuditLogPage {
            shell: viewer.shell,
            events,
            filters,
            error,
            older,
        },
        Some(&nonce),
    ))
}

/// The audit page after `cursor`, with the same filters.
fn older_link(viewer: &Viewer, filters: &AuditFilters, cursor: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("actor", &filters.actor),
        ("action", &filters.action),
        ("resource", &filters.resource),
        ("from", &filters.from),
        ("to", &filters.to),
    ] {
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    query.append_pair("cursor", &cursor.to_string());
    format!("{}&{}", viewer.shell.link("audit"), query.finish())
}
