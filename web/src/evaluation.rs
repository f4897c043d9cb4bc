//! Evaluation routes (`/api/v1/evaluation`, `/api/v1/evaluation/batch`, also as `GET ?json=`), answered
//! from the caller's environment snapshot in memory.
//!
//! Invariant: no handler here touches the database; an unknown flag is a 200 with no variant (Flagr).
//! Each answered request counts its evaluations (one, or a batch's number of results) once in the
//! tenant's in-memory usage counters; a refused request counts none, and no plan limit ever refuses one.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Body;
use crate::state::AppState;
use actix_web::web::{self, Data, Json, Query, ServiceConfig};
use flagent_eval::{Evaluation, FlagRef, Request, Snapshot, TagMatch, evaluate};
use flagent_tenants::usage::Served;
use flagent_types::{TenantScope, perm};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
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

/// The compiled configuration of the caller's environment (empty when it has none yet).
pub(crate) fn snapshot(state: &AppState, scope: &TenantScope) -> Arc<Snapshot> {
    state
        .flags
        .cache()
        .snapshot(scope.tenant_id(), scope.environment_id())
        .unwrap_or_default()
}

fn checked_context(ctx: &Option<serde_json::Value>) -> Result<(), ApiError> {
    match ctx {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Object(_)) => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "entityContext",
            "entityContext must be a JSON object",
        )),
    }
}

fn random_entity_id() -> String {
    use rand::Rng;
    format!("randomly_generated_{}", rand::rng().random::<u32>())
}

/// Counts an evaluation in the metrics (by reason) and, for a flag that exists, notes what it served
/// in `served`, which the request hands to `Usage::record_served` once (for the experiments view).
pub(crate) fn count(state: &AppState, eval: &Evaluation<'_>, served: &mut Vec<Served>) {
    state
        .metrics
        .evaluations
        .with_label_values(&[eval.reason.as_str()])
        .inc();
    if let Some(flag) = eval.flag {
        served.push(Served {
            flag: flag.id(),
            segment: eval.segment_id,
            variant: eval.variant.map(|v| v.id),
        });
    }
}

/// Counts a request's evaluations for the tenant's usage, and what they served.
pub(crate) fn record_usage(
    state: &AppState,
    scope: &TenantScope,
    evaluations: u64,
    served: &[Served],
) {
    state.usage.record(scope.tenant_id(), evaluations);
    let (tenant, environment) = (scope.tenant_id(), scope.environment_id());
    state.usage.record_served(tenant, environment, served);
}

fn result(
    eval: Evaluation<'_>,
    ctx: EvalContext,
    state: &AppState,
    served: &mut Vec<Served>,
) -> EvalResult {
    count(state, &eval, served);
    let flag = eval.flag;
    EvalResult {
        flag_id: flag.map_or(ctx.flag_id.unwrap_or(0), |f| f.id()),
        flag_key: flag.map_or_else(
            || ctx.flag_key.clone().unwrap_or_default(),
            |f| f.key().to_owned(),
        ),
        flag_snapshot_id: flag.map_or(0, |f| f.snapshot_id()),
        flag_tags: flag.map_or_else(Vec::new, |f| f.tags().to_vec()),
        segment_id: eval.segment_id,
        variant_id: eval.variant.map(|v| v.id),
        variant_key: eval.variant.map(|v| v.key.clone()),
        variant_attachment: eval.variant.map(|v| v.attachment.clone()),
        eval_context: ctx,
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        reason: eval.reason.as_str(),
        eval_debug_log: eval.debug_log,
    }
}

fn evaluate_one(
    state: &AppState,
    snap: &Snapshot,
    mut ctx: EvalContext,
    served: &mut Vec<Served>,
) -> Result<EvalResult, ApiError> {
    checked_context(&ctx.entity_context)?;
    let flag = match (ctx.flag_id, ctx.flag_key.as_deref()) {
        (Some(id), _) if id > 0 => FlagRef::Id(id),
        (_, Some(key)) if !key.is_empty() => FlagRef::Key(key),
        _ => return Err(ApiError::invalid("flagID", "flagID or flagKey is required")),
    };
    if ctx.entity_id.is_empty() {
        ctx.entity_id = random_entity_id();
    }
    let request = Request {
        flag,
        entity_id: &ctx.entity_id,
        context: ctx.entity_context.as_ref(),
        debug: ctx.enable_debug,
    };
    let eval = evaluate(snap, &request);
    Ok(result(eval, ctx, state, served))
}

/// Evaluates one flag in the caller's environment and counts one evaluation for the tenant's usage.
fn single(state: &AppState, scope: &TenantScope, ctx: EvalContext) -> Result<EvalResult, ApiError> {
    let snap = snapshot(state, scope);
    let mut served = Vec::with_capacity(1);
    let result = evaluate_one(state, &snap, ctx, &mut served)?;
    record_usage(state, scope, 1, &served);
    Ok(result)
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
    if req.entities.is_empty() {
        return Err(ApiError::invalid(
            "entities",
            "entities must list at least one entity",
        ));
    }
    if req.flag_ids.is_empty() && req.flag_keys.is_empty() && req.flag_tags.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptySelector,
            "give at least one of flagIDs, flagKeys or flagTags",
        ));
    }
    let op = match req.flag_tags_operator.as_deref() {
        None | Some("") | Some("ANY") => TagMatch::Any,
        Some("ALL") => TagMatch::All,
        Some(other) => {
            return Err(ApiError::invalid(
                "flagTagsOperator",
                format!("flagTagsOperator must be \"ANY\" or \"ALL\", got {other:?}"),
            ));
        }
    };
    let snap = snapshot(state, scope);
    let mut selectors: Vec<(Option<i64>, Option<String>)> = Vec::new();
    selectors.extend(
        snap.flag_ids_with_tags(&req.flag_tags, op)
            .into_iter()
            .map(|id| (Some(id), None)),
    );
    selectors.extend(req.flag_ids.iter().map(|id| (Some(*id), None)));
    selectors.extend(req.flag_keys.iter().map(|k| (None, Some(k.clone()))));
    let total = selectors.len().saturating_mul(req.entities.len());
    if total > state.limits.max_batch_results {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "the batch would produce {total} results; the limit is {}",
                state.limits.max_batch_results
            ),
        ));
    }
    let mut results = Vec::with_capacity(total);
    let mut served = Vec::with_capacity(total);
    for entity in req.entities {
        checked_context(&entity.entity_context)?;
        let entity_id = if entity.entity_id.is_empty() {
            random_entity_id()
        } else {
            entity.entity_id
        };
        for (flag_id, flag_key) in &selectors {
            let ctx = EvalContext {
                entity_id: entity_id.clone(),
                entity_type: entity.entity_type.clone(),
                entity_context: entity.entity_context.clone(),
                flag_id: *flag_id,
                flag_key: flag_key.clone(),
                enable_debug: req.enable_debug,
            };
            results.push(evaluate_one(state, &snap, ctx, &mut served)?);
        }
    }
    record_usage(state, scope, results.len() as u64, &served);
    Ok(EvaluationBatchResponse {
        evaluation_results: results,
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
