//! An outage right after a change: an environment added in tenant A and in tenant B re-checks only
//! those tenants' cached keys, and keys of tenant A not used since the change keep evaluating from
//! memory while the database is unreachable (management answers 503 `database_unavailable`).

use super::{behind_proxy, enabled_flag, evaluate_three_ways_at, eventually};
use crate::helpers::{TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::json;

/// One evaluation with `key` (in its default environment): the status and the variant served.
async fn evaluate_with(app: &TestApp, key: &str) -> (u16, serde_json::Value) {
    let req = app
        .request(Method::POST, "/api/v1/evaluation", key)
        .json(&json!({"flagKey": "new-checkout", "entityID": "user-1"}));
    let (status, body) = read(req.send().await.unwrap()).await;
    (status, body["variantKey"].clone())
}

/// Loads tenant A's evaluation and read keys, then adds an environment in tenant A and one in tenant B
/// (with the admin keys); returns what the two A keys evaluated to.
async fn load_keys_then_change_environments(app: &TestApp) -> Vec<serde_json::Value> {
    enabled_flag(app).await;
    let eval = evaluate_three_ways_at(&app.client, &app.address, &app.a.eval).await;
    let (status, _) = evaluate_with(app, &app.a.read).await;
    assert_eq!(status, 200);
    for admin in [&app.a.admin, &app.b.admin] {
        let req = app
            .request(Method::POST, "/api/v1/projects/default/environments", admin)
            .json(&json!({"key": "staging", "name": "Staging"}));
        let (status, body) = read(req.send().await.unwrap()).await;
        assert!(status == 200 || status == 201, "{body}");
    }
    eval
}

/// During the outage: both A keys evaluate as before, management answers 503.
async fn check_outage(app: &TestApp, eval: &[serde_json::Value]) {
    eventually("management answers 503 during the outage", || async {
        let (status, body) = app.admin(Method::GET, "/api/v1/flags", None).await;
        status == 503 && code(&body) == "database_unavailable"
    })
    .await;
    assert_eq!(
        evaluate_three_ways_at(&app.client, &app.address, &app.a.eval).await,
        eval
    );
    assert_eq!(evaluate_with(app, &app.a.read).await.0, 200);
}

#[tokio::test]
async fn keys_unused_since_an_environment_change_evaluate_through_a_cut_database() {
    let Some((app, proxy)) = behind_proxy(|_| {}).await else {
        return;
    };
    let eval = load_keys_then_change_environments(&app).await;
    proxy.down();
    check_outage(&app, &eval).await;
    proxy.up();
    eventually("management recovers once the database is back", || async {
        app.admin(Method::GET, "/api/v1/flags", None).await.0 == 200
    })
    .await;
}

#[tokio::test]
async fn keys_unused_since_an_environment_change_evaluate_with_the_pool_closed() {
    let app = spawn_app().await;
    let eval = load_keys_then_change_environments(&app).await;
    app.db.close().await.expect("close the pool");
    check_outage(&app, &eval).await;
}
