//! Audit log routes: query with filters and a cursor, export as JSON Lines or CSV, and verify the chain.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Query, ServiceConfig};
use flagent_tenants::audit::{AuditFilter, AuditPage, VerifyReport, to_csv, to_json_lines};
use flagent_types::perm;
use serde::Deserialize;
use utoipa::IntoParams;

/// Registers the audit routes under `/api/v1`.
pub(crate) fn configure_audit(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/audit").route(web::get().to(list_audit_events)))
        .service(web::resource("/audit/verify").route(web::get().to(verify_audit_log)))
        .service(web::resource("/audit/export").route(web::get().to(export_audit_log)));
}

/// Query of `GET /audit`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct AuditQueryParams {
    /// Exact actor, as shown in events.
    actor: Option<String>,
    /// Exact action, or a prefix ending in `.` such as `flag.`.
    action: Option<String>,
    /// `type` or `type:id`, such as `flag:12`.
    resource: Option<String>,
    /// From this time (RFC 3339, inclusive).
    from: Option<String>,
    /// Until this time (RFC 3339, exclusive).
    to: Option<String>,
    /// The `nextCursor` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    limit: Option<u64>,
}

fn millis(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_millis())
            .map_err(|_| {
                ApiError::invalid(
                    field,
                    format!("{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"),
                )
            })
    })
    .transpose()
}

/// Lists the tenant's audit events, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQueryParams),
    responses((status = 200, body = AuditPage)), security(("api_key" = ["admin"]), ("session" = ["audit:read"])))]
pub(crate) async fn list_audit_events(
    auth: Auth<perm::ReadAudit>,
    state: Data<AppState>,
    query: Query<AuditQueryParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let q = query.into_inner();
    let filter = AuditFilter {
        from: millis("from", q.from.as_deref())?,
        to: millis("to", q.to.as_deref())?,
        actor: q.actor,
        action: q.action,
        resource: q.resource,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(state.audit.list(auth.scope(), filter).await?))
}

/// Recomputes the tenant's hash chain and names the first broken event.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyReport)), security(("api_key" = ["admin"]), ("session" = ["audit:read"])))]
pub(crate) async fn verify_audit_log(
    auth: Auth<perm::ReadAudit>,
    state: Data<AppState>,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(state.audit.verify(auth.scope()).await?))
}

/// Query of `GET /audit/export`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ExportParams {
    /// `jsonl` (default) or `csv`.
    format: Option<String>,
}

/// Exports every event of the tenant, oldest first, as JSON Lines or CSV.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportParams),
    responses((status = 200, description = "JSON Lines or CSV")), security(("api_key" = ["admin"]), ("session" = ["audit:read"])))]
pub(crate) async fn export_audit_log(
    auth: Auth<perm::ReadAudit>,
    state: Data<AppState>,
    query: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let (content_type, render): (&str, fn(&[_]) -> String) = match query.format.as_deref() {
        None | Some("jsonl") => ("application/jsonl", to_json_lines),
        Some("csv") => ("text/csv; charset=utf-8", to_csv),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("format must be \"jsonl\" or \"csv\", got {other:?}"),
            ));
        }
    };
    let events = state.audit.all(auth.scope()).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .body(render(&events)))
}
