//! Operations routes: health, info, metrics, OpenAPI and docs.

use crate::helpers::{code, read, spawn_app};
use reqwest::Method;

#[tokio::test]
async fn health_answers_ok_without_credentials() {
    let app = spawn_app().await;
    for path in ["/health", "/api/v1/health"] {
        let (status, body) = read(
            app.client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["status"], "OK");
        assert_eq!(body["database"], "up");
    }
}

#[tokio::test]
async fn info_names_version_and_backend() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.client
            .get(format!("{}/api/v1/info", app.address))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"], flagent_testkit::backend_name());
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    app.create_flag("metered").await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("flagent_http_requests_total")
                && l.contains("route=\"/api/v1/flags\"")
                && l.contains("method=\"POST\"")),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_document_lists_flag_routes_and_docs_page_is_offline() {
    let app = spawn_app().await;
    let (status, doc) = read(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(
        doc["paths"]["/api/v1/flags/{flagID}/segments/{segmentID}/distributions"]["put"]
            .is_object()
    );
    let page = app
        .client
        .get(format!("{}/api/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("swagger") && !html.contains("cdn."),
        "docs page must load nothing from a CDN"
    );
}

#[tokio::test]
async fn unknown_route_answers_json_404() {
    let app = spawn_app().await;
    let (status, body) = app.admin(Method::GET, "/api/v1/nope", None).await;
    assert_eq!(status, 404);
    assert_eq!(code(&body), "route_not_found");
}
