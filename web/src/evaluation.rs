//! Evaluation routes (`/api/v1/evaluation`, `/api/v1/evaluation/batch`, also as `GET ?json=`), answered
//! from the caller's environment snapshot in memory.
//!
//! Each handler parses Flagr's wire shapes, calls the `Evaluator` (`flagent-evaluation`), which decides
//! and counts every answer, and maps its `Decision`s back to Flagr's `evalResult` (plus `reason`).
//!
//! Invariant: no handler here touches the database; an unknown flag is a 200 with no variant (Flagr).
//! Each answered request counts its evaluations (one, or a batch's number of results) once in the
//! tenant's in-memory usage counters; a refused request counts none, and no plan limit ever refuses one.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Body;
use crate::state::AppState;
use actix_web::web::{self, Data, Json, Query, ServiceConfig};
use flagent_evaluation::{BatchQuery, Decision, Entity, EvalQuery};
use flagent_types::{TenantScope, perm};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Registers the evaluation routes under `/api/v1`.
pub(crate) fn configure_evaluation(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/evaluation")
            .route(web::post().to(post_evaluation))
            .route(web::get().to(get_evaluation)),
    )
    .service(
        web::resource("/evaluation/batch")
            .route(web::post().to(post_evaluation_batch))
            .route(web::get().to(get_evaluation_batch)),
    );
}

/// One evaluation request (Flagr's `evalContext`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvalContext {
    /// The entity; a random one is generated (and echoed) when empty.
    #[serde(rename = "entityID", default)]
    entity_id: String,
    /// The entity type.
    #[serde(default)]
    entity_type: String,
    /// Properties constraints look at (a JSON object).
    #[serde(default)]
    #[schema(value_type = Object)]
    entity_context: Option<serde_json::Value>,
    /// The flag by id.
    #[serde(rename = "flagID", default, skip_serializing_if = "Option::is_none")]
    flag_id: Option<i64>,
    /// The flag by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flag_key: Option<String>,
    /// Include the debug log.
    #[serde(default)]
    enable_debug: bool,
}

/// One evaluation result (Flagr's `evalResult`, plus `reason`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvalResult {
    #[serde(rename = "flagID")]
    flag_id: i64,
    flag_key: String,
    #[serde(rename = "flagSnapshotID")]
    flag_snapshot_id: i64,
    flag_tags: Vec<String>,
    #[serde(rename = "segmentID", skip_serializing_if = "Option::is_none")]
    segment_id: Option<i64>,
    #[serde(rename = "variantID", skip_serializing_if = "Option::is_none")]
    variant_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    variant_attachment: Option<flagent_eval::Attachment>,
    eval_context: EvalContext,
    timestamp: String,
    /// `TARGETING_MATCH`, `SPLIT`, `DEFAULT`, `DISABLED`, `PREREQUISITE_FAILED`, `FLAG_NOT_FOUND` or `ERROR`.
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    eval_debug_log: Option<flagent_eval::DebugLog>,
}

/// One entity of a batch.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvaluationEntity {
    #[serde(rename = "entityID", default)]
    entity_id: String,
    #[serde(default)]
    entity_type: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    entity_context: Option<serde_json::Value>,
}

/// `POST /evaluation/batch`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvaluationBatchRequest {
    entities: Vec<EvaluationEntity>,
    #[serde(default)]
    enable_debug: bool,
    #[serde(rename = "flagIDs", default)]
    flag_ids: Vec<i64>,
    #[serde(default)]
    flag_keys: Vec<String>,
    #[serde(default)]
    flag_tags: Vec<String>,
    /// `ANY` (default) or `ALL`.
    #[serde(default)]
    flag_tags_operator: Option<String>,
}

/// `{evaluationResults: [...]}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvaluationBatchResponse {
    evaluation_results: Vec<EvalResult>,
}

/// `?json=<url-encoded body>` of the GET forms.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct JsonQuery {
    json: String,
}

impl From<EvalContext> for EvalQuery {
    fn from(ctx: EvalContext) -> Self {
        EvalQuery {
            entity_id: ctx.entity_id,
            entity_type: ctx.entity_type,
            entity_context: ctx.entity_context,
            flag_id: ctx.flag_id,
            flag_key: ctx.flag_key,
            debug: ctx.enable_debug,
        }
    }
}

impl From<EvalQuery> for EvalContext {
    fn from(query: EvalQuery) -> Self {
        EvalContext {
            entity_id: query.entity_id,
            entity_type: query.entity_type,
            entity_context: query.entity_context,
            flag_id: query.flag_id,
            flag_key: query.flag_key,
            enable_debug: query.debug,
        }
    }
}

impl From<EvaluationBatchRequest> for BatchQuery {
    fn from(req: EvaluationBatchRequest) -> Self {
        BatchQuery {
            entities: req
                .entities
                .into_iter()
                .map(|e| Entity {
                    entity_id: e.entity_id,
                    entity_type: e.entity_type,
                    entity_context: e.entity_context,
                })
                .collect(),
            debug: req.enable_debug,
            flag_ids: req.flag_ids,
            flag_keys: req.flag_keys,
            flag_tags: req.flag_tags,
            flag_tags_operator: req.flag_tags_operator,
        }
    }
}

impl From<Decision> for EvalResult {
    fn from(d: Decision) -> Self {
        EvalResult {
            flag_id: d.flag_id,
            flag_key: d.flag_key,
            flag_snapshot_id: d.snapshot_id,
            flag_tags: d.tags,
            segment_id: d.segment_id,
            variant_id: d.variant_id,
            variant_key: d.variant_key,
            variant_attachment: d.attachment,
            eval_context: d.query.into(),
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            reason: d.reason.as_str(),
            eval_debug_log: d.debug_log,
        }
    }
}

/// Evaluates one flag in the caller's environment (counted by the evaluator).
fn single(state: &AppState, scope: &TenantScope, ctx: EvalContext) -> Result<EvalResult, ApiError> {
    Ok(state.evaluator.evaluate(scope, ctx.into())?.into())
}

/// Evaluates one flag for one entity.
#[utoipa::path(post, path = "/api/v1/evaluation", tag = "evaluation", request_body = EvalContext,
    responses((status = 200, body = EvalResult)), security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn post_evaluation(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    body: Body<EvalContext>,
) -> Result<Json<EvalResult>, ApiError> {
    let body = Json(body.checked()?);
    Ok(Json(single(&state, auth.scope(), body.into_inner())?))
}

/// Evaluates one flag for one entity; the request is the URL-encoded JSON body in `json`.
#[utoipa::path(get, path = "/api/v1/evaluation", tag = "evaluation", params(JsonQuery),
    responses((status = 200, body = EvalResult)), security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn get_evaluation(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    query: Query<JsonQuery>,
) -> Result<Json<EvalResult>, ApiError> {
    let ctx: EvalContext = parse_json_query(&query.json)?;
    Ok(Json(single(&state, auth.scope(), ctx)?))
}

fn parse_json_query<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("json parameter: {e}")))
}

fn batch(
    state: &AppState,
    scope: &TenantScope,
    req: EvaluationBatchRequest,
) -> Result<EvaluationBatchResponse, ApiError> {
    let decisions = state.evaluator.evaluate_batch(scope, req.into())?;
    Ok(EvaluationBatchResponse {
        evaluation_results: decisions.into_iter().map(EvalResult::from).collect(),
    })
}

/// Evaluates several flags for several entities.
#[utoipa::path(post, path = "/api/v1/evaluation/batch", tag = "evaluation", request_body = EvaluationBatchRequest,
    responses((status = 200, body = EvaluationBatchResponse)), security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn post_evaluation_batch(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    body: Body<EvaluationBatchRequest>,
) -> Result<Json<EvaluationBatchResponse>, ApiError> {
    let body = Json(body.checked()?);
    Ok(Json(batch(&state, auth.scope(), body.into_inner())?))
}

/// Evaluates several flags for several entities; the request is the URL-encoded JSON body in `json`.
#[utoipa::path(get, path = "/api/v1/evaluation/batch", tag = "evaluation", params(JsonQuery),
    responses((status = 200, body = EvaluationBatchResponse)), security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn get_evaluation_batch(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    query: Query<JsonQuery>,
) -> Result<Json<EvaluationBatchResponse>, ApiError> {
    let req: EvaluationBatchRequest = parse_json_query(&query.json)?;
    Ok(Json(batch(&state, auth.scope(), req)?))
}
