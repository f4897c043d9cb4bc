//! Tenant isolation, attacked: every operation of the OpenAPI document is called with tenant B's
//! credentials (admin, read and evaluation keys) on tenant A's ids, and must answer 4xx on A's
//! resources while leaving A's data byte-for-byte unchanged. New routes are covered automatically.

use crate::helpers::{SegmentSpec, TestApp, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Tenant A's ids, by OpenAPI path parameter name.
struct Ids {
    by_param: Vec<(&'static str, String)>,
}

/// Gives tenant A a flag with variants, a constrained segment, a tag, and an extra key.
async fn seed_tenant_a(app: &TestApp) -> Ids {
    let spec = [SegmentSpec {
        constraints: &[("state", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    }];
    let flag = app
        .build_flag(
            &app.a.admin,
            "development",
            "a-secret",
            &["off", "on"],
            &spec,
        )
        .await;
    let (status, tag) = app
        .admin(
            Method::POST,
            &format!("/api/v1/flags/{}/tags", flag.id),
            Some(json!({"value": "a-tag"})),
        )
        .await;
    assert_eq!(status, 200, "{tag}");
    let (status, segment) = app
        .admin(
            Method::GET,
            &format!("/api/v1/flags/{}/segments", flag.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let constraint = segment[0]["constraints"][0]["id"].as_i64().unwrap();
    let (status, key) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "a key", "scopes": ["read"]})),
        )
        .await;
    assert_eq!(status, 200, "{key}");
    Ids {
        by_param: vec![
            ("flagID", flag.id.to_string()),
            ("variantID", flag.variants[0].to_string()),
            ("segmentID", flag.segments[0].to_string()),
            ("constraintID", constraint.to_string()),
            ("tagID", tag["id"].to_string()),
            ("keyID", key["id"].to_string()),
        ],
    }
}

/// Everything of tenant A an attacker could change, as one JSON value.
async fn state_of_a(app: &TestApp) -> Value {
    let mut state = serde_json::Map::new();
    for env in ["development", "production"] {
        let path = format!("/api/v1/export/gitops?format=json&environment={env}");
        let (status, doc) = app.admin(Method::GET, &path, None).await;
        assert_eq!(status, 200);
        state.insert(format!("flags/{env}"), doc);
    }
    for path in [
        "/api/v1/flags?deleted=true",
        "/api/v1/tags",
        "/api/v1/keys",
        "/api/v1/audit/verify",
    ] {
        let (status, body) = app.admin(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        state.insert(path.to_owned(), body);
    }
    Value::Object(state)
}

/// Every operation: method, path with A's ids filled in, and whether it names one of A's resources.
fn operations(doc: &Value, ids: &Ids) -> Vec<(Method, String, bool)> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let mut path = template.clone();
        let mut names_a = false;
        for (param, id) in &ids.by_param {
            let placeholder = format!("{{{param}}}");
            if path.contains(&placeholder) {
                path = path.replace(&placeholder, id);
                names_a = true;
            }
        }
        // Parameters without a seeded id (keys of things A alone has) get a value B cannot own either.
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            path.replace_range(open..=close, "a-only-resource");
            names_a = true;
        }
        for method in item.as_object().unwrap().keys() {
            ops.push((
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path.clone(),
                names_a,
            ));
        }
    }
    ops
}

/// A body that gets most routes past parsing, so they reach the tenant check.
fn probe_body() -> Value {
    json!({
        "key": "b-probe", "description": "probe", "name": "probe", "enabled": true, "rolloutPercent": 50,
        "property": "state", "operator": "EQ", "value": "probe", "attachment": {}, "scopes": ["read"],
        "distributions": [], "segmentIDs": [], "keys": [], "flags": [], "entities": [{"entityID": "x"}],
        "flagIDs": [1], "entityID": "x", "flagID": 1
    })
}

#[tokio::test]
async fn tenant_b_on_every_route_cannot_read_or_change_tenant_a() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let before = state_of_a(&app).await;
    let (_, doc) = read(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ops = operations(&doc, &ids);
    assert!(
        ops.iter().filter(|(_, _, a)| *a).count() >= 20,
        "expected many id routes: {}",
        ops.len()
    );
    for key in [&app.b.admin, &app.b.read, &app.b.eval] {
        for (method, path, names_a) in &ops {
            let reply = app
                .request(method.clone(), path, key)
                .json(&probe_body())
                .send()
                .await
                .unwrap();
            let (status, body) = read(reply).await;
            assert!(status < 500, "{method} {path} answered {status}: {body}");
            if *names_a {
                assert!(
                    matches!(status, 400 | 401 | 403 | 404 | 409 | 422),
                    "{method} {path} with tenant B's key reached tenant A's resource: {status} {body}"
                );
                let text = body.to_string();
                assert!(
                    !text.contains("a-secret") && !text.contains("a-tag"),
                    "{method} {path} leaked A: {text}"
                );
            }
        }
    }
    assert_eq!(state_of_a(&app).await, before, "tenant A's data changed");
}
