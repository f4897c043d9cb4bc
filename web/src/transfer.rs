//! Export and import routes: the GitOps document as YAML or JSON, Flagr's eval-cache export, and the
//! all-or-nothing import of either.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::web::{self, Bytes, Data, Json, Query, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_flags::{Document, FlagrExport, ImportReport, from_flagr};
use flagent_types::perm;
use serde::Deserialize;
use utoipa::IntoParams;

/// Registers the export and import routes under `/api/v1`.
pub(crate) fn configure_transfer(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/export/gitops").route(web::get().to(export_gitops)))
        .service(web::resource("/export/eval_cache/json").route(web::get().to(export_eval_cache)))
        .service(web::resource("/import").route(web::post().to(import_flags)));
}

/// Query of `GET /export/gitops`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ExportQuery {
    /// `yaml` (default) or `json`.
    format: Option<String>,
}

/// Query of `POST /import`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    dry_run: bool,
}

/// Exports the caller's environment as a GitOps document.
#[utoipa::path(get, path = "/api/v1/export/gitops", tag = "export", params(ExportQuery),
    responses((status = 200, body = Document)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn export_gitops(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    query: Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let doc = state.flags.export_document(auth.scope()).await?;
    match query.format.as_deref() {
        None | Some("yaml") | Some("yml") => {
            let text = yaml_serde::to_string(&doc).map_err(ApiError::internal)?;
            Ok(HttpResponse::Ok()
                .content_type("application/yaml")
                .body(text))
        }
        Some("json") => Ok(HttpResponse::Ok().json(doc)),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("format must be \"yaml\" or \"json\", got {other:?}"),
        )),
    }
}

/// Exports the caller's environment in Flagr's eval-cache shape (`{"Flags": [...]}`).
#[utoipa::path(get, path = "/api/v1/export/eval_cache/json", tag = "export",
    responses((status = 200, body = Object)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn export_eval_cache(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<FlagrExport>, ApiError> {
    Ok(Json(state.flags.export_flagr(auth.scope()).await?))
}

/// Reads an import body: a GitOps document (JSON or YAML) or a Flagr eval-cache export (JSON).
fn parse_document(req: &HttpRequest, body: &[u8]) -> Result<Document, ApiError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let value: serde_json::Value = if content_type.contains("yaml") {
        yaml_serde::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid YAML: {e}")))?
    } else if content_type.contains("json") {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?
    } else {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the document as application/json or application/yaml",
        ));
    };
    if value.get("Flags").is_some() {
        let export: FlagrExport = serde_json::from_value(value).map_err(|e| {
            ApiError::new(ErrorCode::InvalidJson, format!("invalid Flagr export: {e}"))
        })?;
        return Ok(from_flagr(export));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid document: {e}")))
}

/// Imports flags into the caller's environment; nothing is written if any item is invalid.
#[utoipa::path(post, path = "/api/v1/import", tag = "export", params(ImportQuery),
    request_body(content = Document, content_type = "application/json"),
    responses((status = 200, body = ImportReport)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn import_flags(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    query: Query<ImportQuery>,
    req: HttpRequest,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let doc = parse_document(&req, &body)?;
    Ok(Json(
        state.flags.import(auth.scope(), doc, query.dry_run).await?,
    ))
}
