//! Behaviour while the database is unreachable (`app.db.close()`): evaluation keeps answering from
//! memory, management answers 503 with `Retry-After`, health says the database is down; and bad keys
//! are refused without trouble.

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// Builds and enables `new-checkout` (variants 1 and 2 at 50/50) in production.
async fn enabled_flag(app: &TestApp) {
    let spec = [SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[50, 50],
    }];
    app.build_flag(
        &app.a.admin,
        "production",
        "new-checkout",
        &["1", "2"],
        &spec,
    )
    .await;
}

/// The fields of a result that must not change while the database is down.
fn decision(r: &Value) -> Value {
    json!([
        r["flagID"],
        r["flagSnapshotID"],
        r["segmentID"],
        r["variantID"],
        r["variantKey"],
        r["reason"]
    ])
}

/// One single, one batch and one GET evaluation with tenant A's production key.
async fn evaluate_three_ways(app: &TestApp) -> Vec<Value> {
    let single = json!({"flagKey": "new-checkout", "entityID": "user-1"});
    let (status, one) = app.evaluate(single.clone()).await;
    assert_eq!(status, 200, "{one}");
    let body = json!({"entities": [{"entityID": "user-1"}, {"entityID": "alice@example.com"}],
        "flagKeys": ["new-checkout"]});
    let req = app
        .request(Method::POST, "/api/v1/evaluation/batch", &app.a.eval)
        .json(&body);
    let (status, batch) = read(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{batch}");
    let req = app
        .request(Method::GET, "/api/v1/evaluation", &app.a.eval)
        .query(&[("json", single.to_string())]);
    let (status, got) = read(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{got}");
    let mut decisions = vec![decision(&one), decision(&got)];
    decisions.extend(
        batch["evaluationResults"]
            .as_array()
            .unwrap()
            .iter()
            .map(decision),
    );
    decisions
}

#[tokio::test]
async fn evaluate_while_database_is_down_returns_same_results() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let before = evaluate_three_ways(&app).await;
    assert_eq!(before[0][4], "2", "user-1 gets variant 2: {before:?}");
    assert_eq!(before[3][4], "1", "alice gets variant 1: {before:?}");
    app.db.close().await.expect("close the pool");
    for _ in 0..5 {
        assert_eq!(evaluate_three_ways(&app).await, before);
    }
}

#[tokio::test]
async fn management_while_database_is_down_returns_503_with_retry_after() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let (_, flags) = app.admin(Method::GET, "/api/v1/flags", None).await;
    let id = flags[0]["id"].as_i64().unwrap();
    let eval = json!({"flagKey": "new-checkout", "entityID": "user-1"});
    assert_eq!(
        app.evaluate(eval.clone()).await.0,
        200,
        "warms the key cache"
    );
    app.db.close().await.expect("close the pool");
    let cases = [
        (
            app.a.admin.clone(),
            Method::GET,
            "/api/v1/flags".to_owned(),
            None,
        ),
        (
            app.a.admin.clone(),
            Method::GET,
            format!("/api/v1/flags/{id}"),
            None,
        ),
        (
            app.a.admin.clone(),
            Method::POST,
            "/api/v1/flags".to_owned(),
            Some(json!({"key": "k", "description": "d"})),
        ),
        (
            app.a.admin.clone(),
            Method::PUT,
            format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": false})),
        ),
        (
            app.a.admin.clone(),
            Method::GET,
            "/api/v1/export/gitops".to_owned(),
            None,
        ),
        // A key never seen before cannot be checked either.
        (
            app.a.read.clone(),
            Method::GET,
            "/api/v1/flags".to_owned(),
            None,
        ),
    ];
    for (key, method, path, body) in cases {
        let mut req = app.request(method, &path, &key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.unwrap();
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = read(response).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(code(&body), "database_unavailable");
        let retry_after = retry_after.expect("Retry-After header");
        assert!(retry_after.to_str().unwrap().parse::<u32>().unwrap() > 0);
    }
    let (status, r) = app.evaluate(eval).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["reason"], "SPLIT",
        "the refused disable must not have reached the cache"
    );
}

#[tokio::test]
async fn health_while_database_is_down_returns_200_with_database_down() {
    let app = spawn_app().await;
    app.db.close().await.expect("close the pool");
    for path in ["/health", "/api/v1/health"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"status": "OK", "database": "down"}));
    }
}

/// Sends `n` evaluations with `key` concurrently; returns every `(status, code)`.
async fn flood(app: &TestApp, key: &str, n: usize) -> Vec<(u16, String)> {
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let req = app
            .request(Method::POST, "/api/v1/evaluation", key)
            .json(&json!({"flagKey": "new-checkout", "entityID": format!("e{i}")}));
        tasks.spawn(async move {
            let (status, body) = read(req.send().await.unwrap()).await;
            (status, code(&body).to_owned())
        });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn invalid_key_flood_returns_401_and_keeps_serving_valid_keys() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let unknown = format!("flg_eval_{}", "Z".repeat(43));
    let refused = (401, "invalid_api_key".to_owned());
    let answers = flood(&app, &unknown, 200).await;
    assert_eq!(answers.len(), 200);
    assert!(answers.iter().all(|a| *a == refused), "{answers:?}");
    for i in 0..50 {
        let key = format!("flg_eval_{i:0>43}");
        assert_eq!(flood(&app, &key, 1).await, vec![refused.clone()]);
    }
    let (status, r) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!((status, &r["variantKey"]), (200, &json!("2")), "{r}");
    // Refusals are remembered: the flooding key is refused without the database.
    app.db.close().await.expect("close the pool");
    assert!(
        flood(&app, &unknown, 20)
            .await
            .iter()
            .all(|a| *a == refused)
    );
    let (status, r) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!(status, 200, "{r}");
}

#[tokio::test]
async fn evaluate_with_key_never_used_while_database_is_down_answers_from_warm_cache() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    app.db.close().await.unwrap();
    // The production evaluation key has not been presented yet: it was loaded into the key cache at start.
    let (status, result) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["variantKey"], "2");
    assert_eq!(result["reason"], "SPLIT");
}
