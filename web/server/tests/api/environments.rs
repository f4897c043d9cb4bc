//! API tests: a flag across environments (copy its configuration from one environment to another, and
//! compare it).

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// A flag configured and enabled in development only (CA users split 50/50); returns its id.
async fn configured_in_development(app: &TestApp) -> i64 {
    let spec = [SegmentSpec {
        constraints: &[("state", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    }];
    let flag = app
        .build_flag(&app.a.admin, "development", "copied", &["a", "b"], &spec)
        .await;
    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/flags/{}/enabled", flag.id),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    flag.id
}

async fn compare(app: &TestApp, id: i64, query: &str) -> Value {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/v1/flags/{id}/compare{query}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn copy_flag_to_production_makes_it_evaluate_there_and_compare_identical() {
    let app = spawn_app().await;
    let id = configured_in_development(&app).await;
    let before = compare(&app, id, "").await;
    assert_eq!(before["identical"], false);
    assert_eq!(
        before["differences"],
        json!(["production.enabled", "production.segments"])
    );
    let ask = json!({"flagKey": "copied", "entityID": "user-1", "entityContext": {"state": "CA"}});
    let (_, result) = app.evaluate(ask.clone()).await;
    assert_eq!(
        result["reason"], "DISABLED",
        "production is still off before the copy"
    );

    let (status, flag) = app
        .admin(
            Method::POST,
            &format!("/api/v1/flags/{id}/copy"),
            Some(json!({"from": "development", "to": "production"})),
        )
        .await;
    assert_eq!(status, 200, "{flag}");
    assert_eq!(flag["environment"], "production");
    assert_eq!(flag["enabled"], true);
    assert_eq!(flag["segments"][0]["constraints"][0]["value"], "\"CA\"");
    let (_, result) = app.evaluate(ask).await;
    assert_eq!(
        result["reason"], "SPLIT",
        "the production key sees the copy at once: {result}"
    );
    let after = compare(&app, id, "?environments=development,production").await;
    assert_eq!(after["identical"], true, "{after}");
    assert_eq!(
        after["environments"][1]["segments"],
        after["environments"][0]["segments"]
    );
}

#[tokio::test]
async fn copy_flag_records_one_audit_event_in_the_target_environment() {
    let app = spawn_app().await;
    let id = configured_in_development(&app).await;
    let body = json!({"from": "development", "to": "production"});
    app.admin(
        Method::POST,
        &format!("/api/v1/flags/{id}/copy"),
        Some(body.clone()),
    )
    .await;
    let (_, page) = app
        .admin(Method::GET, "/api/v1/audit?action=flag.copy", None)
        .await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["environment"], "production");
    assert_eq!(events[0]["before"]["enabled"], false);
    assert_eq!(events[0]["after"]["enabled"], true);
    app.admin(
        Method::POST,
        &format!("/api/v1/flags/{id}/copy"),
        Some(body),
    )
    .await;
    let (_, page) = app
        .admin(Method::GET, "/api/v1/audit?action=flag.copy", None)
        .await;
    assert_eq!(
        page["events"].as_array().unwrap().len(),
        1,
        "copying an identical state changes nothing"
    );
}

#[tokio::test]
async fn copy_flag_with_bad_environments_returns_4xx_and_changes_nothing() {
    let app = spawn_app().await;
    let id = configured_in_development(&app).await;
    let before = compare(&app, id, "").await;
    let cases = [
        (
            json!({"from": "development", "to": "nope"}),
            404,
            "environment_not_found",
        ),
        (
            json!({"from": "nope", "to": "production"}),
            404,
            "environment_not_found",
        ),
        (
            json!({"from": "development", "to": "development"}),
            400,
            "validation_failed",
        ),
        (json!({"from": "development"}), 400, "invalid_json"),
    ];
    for (body, status, expected) in cases {
        let reply = app
            .admin(
                Method::POST,
                &format!("/api/v1/flags/{id}/copy"),
                Some(body.clone()),
            )
            .await;
        assert_eq!((reply.0, code(&reply.1)), (status, expected), "{body}");
    }
    assert_eq!(compare(&app, id, "").await, before);
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/v1/flags/{id}/compare?environments=nope"),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (404, "environment_not_found"));
}

#[tokio::test]
async fn copy_and_compare_respect_scopes_and_tenants() {
    let app = spawn_app().await;
    let id = configured_in_development(&app).await;
    let before = compare(&app, id, "").await;
    let body = json!({"from": "development", "to": "production"});
    let copy = |key: &str| {
        app.request(Method::POST, &format!("/api/v1/flags/{id}/copy"), key)
            .json(&body)
            .send()
    };
    let (status, reply) = read(copy(&app.a.read).await.unwrap()).await;
    assert_eq!((status, code(&reply)), (403, "forbidden"));
    let (status, _) = read(
        app.request(
            Method::GET,
            &format!("/api/v1/flags/{id}/compare"),
            &app.a.read,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "a read key may compare");
    let (status, reply) = read(copy(&app.b.admin).await.unwrap()).await;
    assert_eq!((status, code(&reply)), (404, "flag_not_found"));
    let (status, _) = read(
        app.request(
            Method::GET,
            &format!("/api/v1/flags/{id}/compare"),
            &app.b.admin,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(compare(&app, id, "").await, before);
}

#[tokio::test]
async fn new_environment_evaluates_existing_flags_at_once() {
    let app = spawn_app().await;
    app.create_flag("older").await;
    let (status, env) = app
        .admin(
            Method::POST,
            "/api/v1/projects/default/environments",
            Some(json!({"key": "staging", "name": "Staging"})),
        )
        .await;
    assert!(status == 200 || status == 201, "{env}");
    let reply = app
        .request(Method::POST, "/api/v1/evaluation", &app.a.admin)
        .header("X-Environment", "staging")
        .json(&json!({"flagKey": "older", "entityID": "user-1"}))
        .send()
        .await
        .unwrap();
    let (status, result) = read(reply).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["reason"], "DISABLED",
        "the flag exists in the new environment, switched off: {result}"
    );
}
