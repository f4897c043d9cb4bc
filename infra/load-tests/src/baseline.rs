//! The baseline: a minimal actix-web JSON endpoint, run as a child process of the tool
//! (`flagent-load baseline-server --port N --workers W`) so that it is measured exactly like the server.
//!
//! `POST /eval` parses a body shaped like Flagent's evaluation request and answers a small JSON object;
//! `GET /health` answers `{}`. No middleware, no authentication, no state.

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::{Deserialize, Serialize};

/// The request body (the fields of Flagent's `POST /api/v1/evaluation`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EvalRequest {
    #[serde(rename = "entityID", default)]
    entity_id: String,
    #[serde(default)]
    entity_context: serde_json::Value,
    #[serde(default)]
    flag_key: String,
}

/// The answer, about the size of Flagent's evaluation result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvalAnswer {
    flag_key: String,
    #[serde(rename = "entityID")]
    entity_id: String,
    variant_key: &'static str,
    entity_context: serde_json::Value,
    reason: &'static str,
}

async fn eval(body: web::Json<EvalRequest>) -> HttpResponse {
    let body = body.into_inner();
    HttpResponse::Ok().json(EvalAnswer {
        flag_key: body.flag_key,
        entity_id: body.entity_id,
        variant_key: "treatment",
        entity_context: body.entity_context,
        reason: "SPLIT",
    })
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({}))
}

/// Serves the baseline on `127.0.0.1:port` with `workers` worker threads until killed.
pub(crate) fn serve(port: u16, workers: usize) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .route("/eval", web::post().to(eval))
                .route("/health", web::get().to(health))
        })
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}
