//! Operations routes: health, info, Prometheus metrics, the OpenAPI document and the offline docs page.

use crate::openapi::ApiDoc;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json, ServiceConfig};
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::{OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Registers `/health`, `/metrics` and the docs page, which reads the OpenAPI document from
/// `/api/v1/openapi.json` (served in the `/api/v1` scope by [`configure_api_ops`]).
pub(crate) fn configure_root_ops(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/metrics").route(web::get().to(metrics)))
        .service(web::resource("/api/docs").route(web::get().to(docs_redirect)))
        .service(SwaggerUi::new("/api/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"])));
}

/// Registers `/health`, `/info` and `/openapi.json` under `/api/v1`.
pub(crate) fn configure_api_ops(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/info").route(web::get().to(info)))
        .service(web::resource("/openapi.json").route(web::get().to(openapi_document)));
}

/// The OpenAPI document, built once.
async fn openapi_document() -> HttpResponse {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

/// Health of the server.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `OK` while the server answers (evaluation does not need the database).
    status: &'static str,
    /// `up` or `down`.
    database: &'static str,
}

/// Whether the server answers, and whether its database does.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn health(state: Data<AppState>) -> Json<Health> {
    let database = if state.flags.database_ok().await {
        "up"
    } else {
        "down"
    };
    Json(Health {
        status: "OK",
        database,
    })
}

/// What this server is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Info {
    /// Release version.
    version: &'static str,
    /// Build profile.
    build: &'static str,
    /// Database engine.
    database: &'static str,
    /// Features this build serves.
    features: Vec<&'static str>,
}

/// Version, build and enabled features.
#[utoipa::path(get, path = "/api/v1/info", tag = "health", responses((status = 200, body = Info)))]
pub(crate) async fn info(state: Data<AppState>) -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION"),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        database: state.flags.database_backend(),
        features: state.features.clone(),
    })
}

async fn metrics(state: Data<AppState>) -> HttpResponse {
    let cache = state.flags.cache().environments();
    state
        .metrics
        .cache_environments
        .set(i64::try_from(cache).unwrap_or(i64::MAX));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", "/api/docs/index.html"))
        .finish()
}
