//! Measurement routes: ingestion (`POST /api/v1/events`, `POST /api/v1/exposures`, any key of the
//! environment), the project's event settings (`/api/v1/events/settings`), metric definitions
//! (`/api/v1/metrics…`), and a flag's experiment settings, results and funnels
//! (`/api/v1/flags/{flagID}/experiment`, `…/results`, `…/funnel`).
//!
//! Invariant: an ingestion answer is `202` only once the accepted items are committed; a body over
//! 1 MiB is `413` before it is read whole, and a full ingest queue is `429` with `Retry-After`.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Body, json_config};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, Path, Query, ServiceConfig};
use flagent_analytics::{
    EventSettings, Experiment, ExperimentChange, Funnel, FunnelQuery, Ingested, Metric,
    MetricChange, NewMetric, Results,
};
use flagent_types::{FlagId, perm};
use serde::Deserialize;
use utoipa::IntoParams;

/// The largest ingestion body.
pub(crate) const MAX_INGEST_BYTES: usize = 1 << 20;

/// Registers the measurement routes under `/api/v1`.
pub(crate) fn configure_analytics(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/events")
            .app_data(json_config(MAX_INGEST_BYTES))
            .route(web::post().to(post_events)),
    )
    .service(
        web::resource("/events/settings")
            .route(web::get().to(get_event_settings))
            .route(web::put().to(put_event_settings)),
    )
    .service(
        web::resource("/exposures")
            .app_data(json_config(MAX_INGEST_BYTES))
            .route(web::post().to(post_exposures)),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(list_metrics))
            .route(web::post().to(create_metric)),
    )
    .service(
        web::resource("/metrics/{metricKey}")
            .route(web::get().to(get_metric))
            .route(web::put().to(put_metric))
            .route(web::delete().to(delete_metric)),
    )
    .service(
        web::resource("/flags/{flagID}/experiment")
            .route(web::get().to(get_experiment))
            .route(web::put().to(put_experiment)),
    )
    .service(web::resource("/flags/{flagID}/results").route(web::get().to(get_results)))
    .service(web::resource("/flags/{flagID}/funnel").route(web::get().to(get_funnel)));
}

/// Records a batch of events (`{events: [{key, entityID, timestamp, value?, properties?}]}`, at most
/// 1,000) in the key's environment; answers once the accepted ones are committed, naming each refused
/// one with its index and reason.
#[utoipa::path(post, path = "/api/v1/events", tag = "measurement",
    request_body = serde_json::Value,
    responses((status = 202, body = Ingested), (status = 400), (status = 413), (status = 429)),
    security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn post_events(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    body: Body<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.checked()?;
    let ingested = state.analytics.ingest_events(auth.scope(), &body).await?;
    Ok(HttpResponse::Accepted().json(ingested))
}

/// Records a batch of exposures evaluated in-process by an SDK (`{exposures: [{flagKey, variantKey,
/// entityID, timestamp}]}`, at most 1,000); the first exposure of an entity to a flag is the one that
/// counts.
#[utoipa::path(post, path = "/api/v1/exposures", tag = "measurement",
    request_body = serde_json::Value,
    responses((status = 202, body = Ingested), (status = 400), (status = 413), (status = 429)),
    security(("api_key" = ["client"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn post_exposures(
    auth: Auth<perm::Client>,
    state: Data<AppState>,
    body: Body<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.checked()?;
    let ingested = state
        .analytics
        .ingest_exposures(auth.scope(), &body)
        .await?;
    Ok(HttpResponse::Accepted().json(ingested))
}

/// The project's metrics, the built-in ones first.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "measurement",
    responses((status = 200, body = [Metric])),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn list_metrics(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<Vec<Metric>>, ApiError> {
    Ok(Json(state.analytics.metrics(auth.scope()).await?))
}

/// Defines a metric in the project.
#[utoipa::path(post, path = "/api/v1/metrics", tag = "measurement",
    request_body = NewMetric,
    responses((status = 201, body = Metric), (status = 400), (status = 409)),
    security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_metric(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    body: Body<NewMetric>,
) -> Result<HttpResponse, ApiError> {
    let new = body.checked()?;
    let metric = state.analytics.create_metric(auth.scope(), new).await?;
    Ok(HttpResponse::Created().json(metric))
}

/// One metric of the project.
#[utoipa::path(get, path = "/api/v1/metrics/{metricKey}", tag = "measurement",
    params(("metricKey" = String, Path)),
    responses((status = 200, body = Metric), (status = 404)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_metric(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    key: Path<String>,
) -> Result<Json<Metric>, ApiError> {
    Ok(Json(state.analytics.metric(auth.scope(), &key).await?))
}

/// Changes a metric's name, description, direction or guardrail setting (what it computes is fixed).
#[utoipa::path(put, path = "/api/v1/metrics/{metricKey}", tag = "measurement",
    params(("metricKey" = String, Path)), request_body = MetricChange,
    responses((status = 200, body = Metric), (status = 400), (status = 404)),
    security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_metric(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    key: Path<String>,
    body: Body<MetricChange>,
) -> Result<Json<Metric>, ApiError> {
    let change = body.checked()?;
    Ok(Json(
        state
            .analytics
            .update_metric(auth.scope(), &key, change)
            .await?,
    ))
}

/// Deletes a metric no experiment or ratio metric reads.
#[utoipa::path(delete, path = "/api/v1/metrics/{metricKey}", tag = "measurement",
    params(("metricKey" = String, Path)),
    responses((status = 204), (status = 404), (status = 409)),
    security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_metric(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    key: Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.analytics.delete_metric(auth.scope(), &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A flag's experiment settings: control variant, primary and secondary metrics, correction.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/experiment", tag = "measurement",
    params(("flagID" = i64, Path)),
    responses((status = 200, body = Experiment), (status = 404)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_experiment(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    flag: Path<i64>,
) -> Result<Json<Experiment>, ApiError> {
    let flag = FlagId(flag.into_inner());
    Ok(Json(state.analytics.experiment(auth.scope(), flag).await?))
}

/// Replaces a flag's experiment settings.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/experiment", tag = "measurement",
    params(("flagID" = i64, Path)), request_body = ExperimentChange,
    responses((status = 200, body = Experiment), (status = 400), (status = 404)),
    security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_experiment(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    flag: Path<i64>,
    body: Body<ExperimentChange>,
) -> Result<Json<Experiment>, ApiError> {
    let change = body.checked()?;
    let flag = FlagId(flag.into_inner());
    Ok(Json(
        state
            .analytics
            .set_experiment(auth.scope(), flag, change)
            .await?,
    ))
}

/// A flag's results in the request's environment: per metric and variant, the value, the difference
/// to the control with intervals, p-values (fixed-horizon and sequential), the Bayesian chance to beat
/// the control, CUPED, the correction across secondary metrics and the sample-ratio check.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/results", tag = "measurement",
    params(("flagID" = i64, Path)),
    responses((status = 200, body = Results), (status = 404)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_results(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    flag: Path<i64>,
) -> Result<Json<Results>, ApiError> {
    let flag = FlagId(flag.into_inner());
    Ok(Json(state.analytics.results(auth.scope(), flag).await?))
}

/// Query of `GET /flags/{flagID}/funnel`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub(crate) struct FunnelParams {
    /// The steps (required): 2 to 10 conversion metric keys, in order, separated by commas.
    steps: Option<String>,
    /// Hours after the first step within which the later steps count (1 to 2,160; default 168).
    window_hours: Option<i64>,
}

/// A flag's funnel in the request's environment: per variant, the entities that did each step in
/// order within the window, the step-to-step and overall rates with Wilson intervals, and the
/// completion rate against the control's.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/funnel", tag = "measurement",
    params(("flagID" = i64, Path), FunnelParams),
    responses((status = 200, body = Funnel), (status = 400), (status = 404)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_funnel(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    flag: Path<i64>,
    query: Query<FunnelParams>,
) -> Result<Json<Funnel>, ApiError> {
    let q = query.into_inner();
    let query = FunnelQuery {
        steps: q.steps.unwrap_or_default(),
        window_hours: q.window_hours,
    };
    let flag = FlagId(flag.into_inner());
    Ok(Json(
        state.analytics.funnel(auth.scope(), flag, &query).await?,
    ))
}

/// The project's event settings: whether events whose key no metric reads yet are accepted.
#[utoipa::path(get, path = "/api/v1/events/settings", tag = "measurement",
    responses((status = 200, body = EventSettings)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_event_settings(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<EventSettings>, ApiError> {
    Ok(Json(state.analytics.event_settings(auth.scope()).await?))
}

/// Replaces the project's event settings.
#[utoipa::path(put, path = "/api/v1/events/settings", tag = "measurement",
    request_body = EventSettings,
    responses((status = 200, body = EventSettings), (status = 400)),
    security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_event_settings(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    body: Body<EventSettings>,
) -> Result<Json<EventSettings>, ApiError> {
    let settings = body.checked()?;
    Ok(Json(
        state
            .analytics
            .set_event_settings(auth.scope(), settings)
            .await?,
    ))
}
