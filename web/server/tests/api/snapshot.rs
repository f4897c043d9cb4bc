//! `GET /api/v1/snapshot`: the environment's compiled configuration for local-evaluation SDKs. It
//! round-trips into the engine crate and answers like `/api/v1/evaluation`; its strong `ETag` follows
//! the revision (304 otherwise); client keys get the client view; tenants and environments stay apart.

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app};
use flagent_eval::{FlagConfig, FlagRef, Request, Snapshot, evaluate};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const PROD: &str = "production";

/// `GET /api/v1/snapshot` with `key` and extra headers: status, headers, body.
async fn get(app: &TestApp, key: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut req = app.request(Method::GET, "/api/v1/snapshot", key);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let reply = req.send().await.expect("request");
    let headers = reply.headers().clone();
    let (status, body) = read(reply).await;
    (status, headers, body)
}

/// A snapshot answer that must be a 200.
async fn fetch(app: &TestApp, key: &str) -> (String, Value) {
    let (status, headers, body) = get(app, key, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    let tag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
    (tag, body)
}

/// The engine built from a snapshot answer.
fn engine(body: &Value) -> Snapshot {
    let flags: Vec<FlagConfig> =
        serde_json::from_value(body["flags"].clone()).expect("flags are FlagConfigs");
    Snapshot::build(body["revision"].as_u64().expect("revision"), flags)
}

fn keys(body: &Value) -> Vec<String> {
    body["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn key_with(app: &TestApp, admin: &str, body: Value) -> String {
    let (status, made) = app
        .call(admin, None, Method::POST, "/api/v1/keys", Some(body))
        .await;
    assert_eq!(status, 200, "{made}");
    made["key"].as_str().expect("key").to_owned()
}

/// Two flags in tenant A's production: a country-targeted 50/50 split and a partial rollout.
async fn seed(app: &TestApp) {
    app.build_flag(
        &app.a.admin,
        PROD,
        "checkout",
        &["control", "treatment"],
        &[
            SegmentSpec {
                constraints: &[("country", "EQ", "\"CA\"")],
                rollout: 100,
                percents: &[50, 50],
            },
            SegmentSpec {
                constraints: &[("age", "GTE", "18")],
                rollout: 100,
                percents: &[0, 100],
            },
        ],
    )
    .await;
    app.build_flag(
        &app.a.admin,
        PROD,
        "banner",
        &["on", "off"],
        &[SegmentSpec {
            constraints: &[],
            rollout: 40,
            percents: &[100, 0],
        }],
    )
    .await;
}

#[tokio::test]
async fn the_snapshot_evaluates_locally_like_the_evaluation_api() {
    let app = spawn_app().await;
    seed(&app).await;
    let client = key_with(
        &app,
        &app.a.admin,
        json!({"name": "browser", "scopes": ["client"], "environment": PROD}),
    )
    .await;
    let (_, body) = fetch(&app, &client).await;
    assert!(body["revision"].as_u64().unwrap() > 0, "{body}");
    let snap = engine(&body);
    assert_eq!(snap.len(), 2);
    let contexts = [
        json!({"country": "CA"}),
        json!({"country": "US", "age": 30}),
        json!({"country": "US", "age": 12}),
        json!({}),
    ];
    for flag in ["checkout", "banner", "missing"] {
        for entity in ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"] {
            for context in &contexts {
                let local = evaluate(
                    &snap,
                    &Request {
                        flag: FlagRef::Key(flag),
                        entity_id: entity,
                        context: Some(context),
                        debug: false,
                    },
                );
                let (status, remote) = app
                    .evaluate_with(
                        &client,
                        json!({"flagKey": flag, "entityID": entity, "entityContext": context}),
                    )
                    .await;
                assert_eq!(status, 200, "{remote}");
                let what = format!("{flag} {entity} {context}");
                assert_eq!(
                    local.variant.map(|v| v.key.as_str()),
                    remote["variantKey"].as_str().filter(|k| !k.is_empty()),
                    "{what}: {remote}"
                );
                assert_eq!(
                    local.segment_id,
                    remote["segmentID"].as_i64().filter(|id| *id != 0),
                    "{what}: {remote}"
                );
                assert_eq!(
                    local.flag.map(|f| f.snapshot_id()),
                    remote["flagSnapshotID"]
                        .as_i64()
                        .filter(|_| local.flag.is_some()),
                    "{what}: {remote}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_etag_follows_the_revision_and_answers_304_otherwise() {
    let app = spawn_app().await;
    seed(&app).await;
    let key = app.a.eval.clone();
    let (tag, body) = fetch(&app, &key).await;
    let (status, headers, _) = get(&app, &key, &[("If-None-Match", &tag)]).await;
    assert_eq!(status, 304);
    assert_eq!(headers.get("etag").unwrap().to_str().unwrap(), tag);
    let (status, _, _) = get(&app, &key, &[("If-None-Match", "\"something-else\"")]).await;
    assert_eq!(status, 200);
    // A flag change bumps the revision and the tag.
    let (again, _) = fetch(&app, &key).await;
    assert_eq!(again, tag, "nothing changed");
    let id = body["flags"][0]["id"].as_i64().unwrap();
    let (status, reply) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let (changed, after) = fetch(&app, &key).await;
    assert_ne!(changed, tag);
    assert!(after["revision"].as_u64() > body["revision"].as_u64());
    assert_eq!(after["flags"][0]["enabled"], json!(false));
    let (status, _, _) = get(&app, &key, &[("If-None-Match", &tag)]).await;
    assert_eq!(status, 200, "the old tag is stale");
    let (status, _, _) = get(&app, &key, &[("If-None-Match", &changed)]).await;
    assert_eq!(status, 304);
}

#[tokio::test]
async fn a_client_key_gets_the_client_view_and_a_server_key_the_full_configuration() {
    let app = spawn_app().await;
    seed(&app).await;
    let client = key_with(
        &app,
        &app.a.admin,
        json!({"name": "browser", "scopes": ["client"], "environment": PROD}),
    )
    .await;
    let (client_tag, client_body) = fetch(&app, &client).await;
    let (server_tag, server_body) = fetch(&app, &app.a.eval).await;
    assert_eq!(client_body["view"], "client");
    assert_eq!(server_body["view"], "server");
    assert_ne!(client_tag, server_tag, "different contents, different tags");
    assert_eq!(client_body["revision"], server_body["revision"]);
    assert_eq!(keys(&client_body), keys(&server_body));
    let segment = &server_body["flags"][0]["segments"][0];
    assert_eq!(segment["description"], "segment", "{server_body}");
    for flag in client_body["flags"].as_array().unwrap() {
        for field in [
            "description",
            "notes",
            "createdBy",
            "updatedBy",
            "updatedAt",
        ] {
            assert!(flag.get(field).is_none(), "{field} in {flag}");
        }
        for segment in flag["segments"].as_array().unwrap() {
            assert_eq!(segment["description"], "", "{segment}");
        }
        // What evaluation needs is all there.
        for field in [
            "id",
            "key",
            "salt",
            "bucketing",
            "enabled",
            "variants",
            "segments",
        ] {
            assert!(flag.get(field).is_some(), "{field} missing in {flag}");
        }
    }
    // Without credentials: 401.
    let reply = app
        .client
        .get(format!("{}/api/v1/snapshot", app.address))
        .send()
        .await
        .unwrap();
    let (status, body) = read(reply).await;
    assert_eq!(
        (status, code(&body)),
        (401, "missing_credentials"),
        "{body}"
    );
}

#[tokio::test]
async fn tenants_and_environments_see_only_their_own_flags() {
    let app = spawn_app().await;
    seed(&app).await;
    app.build_flag(&app.b.admin, PROD, "b-only", &["on"], &[])
        .await;
    app.build_flag(&app.a.admin, "development", "dev-only", &["on"], &[])
        .await;
    let (a_tag, a) = fetch(&app, &app.a.eval).await;
    let (b_tag, b) = fetch(&app, &app.b.eval).await;
    assert_ne!(a_tag, b_tag);
    assert!(!keys(&b).contains(&"checkout".to_owned()), "{b}");
    assert!(keys(&b).contains(&"b-only".to_owned()), "{b}");
    assert!(!keys(&a).contains(&"b-only".to_owned()), "{a}");
    // A production-bound key sees production's configuration only; flags exist in every environment
    // of the project, but each environment has its own configuration and revision.
    let dev = key_with(
        &app,
        &app.a.admin,
        json!({"name": "dev", "scopes": ["evaluate"], "environment": "development"}),
    )
    .await;
    let (dev_tag, dev_body) = fetch(&app, &dev).await;
    assert_ne!(dev_tag, a_tag);
    assert_ne!(dev_body["environmentID"], a["environmentID"]);
    let enabled = |body: &Value, key: &str| {
        body["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .map(|f| f["enabled"].clone())
    };
    assert_eq!(enabled(&a, "checkout"), Some(json!(true)), "{a}");
    assert_ne!(
        enabled(&dev_body, "checkout"),
        Some(json!(true)),
        "{dev_body}"
    );
    assert_eq!(
        enabled(&dev_body, "dev-only"),
        Some(json!(true)),
        "{dev_body}"
    );
    assert_ne!(enabled(&a, "dev-only"), Some(json!(true)), "{a}");
    // An `X-Environment` header cannot move a bound key to another environment.
    let (status, _, moved) = get(&app, &app.a.eval, &[("X-Environment", "development")]).await;
    assert!(status == 200 || (400..500).contains(&status), "{moved}");
    if status == 200 {
        assert_eq!(moved["environmentID"], a["environmentID"], "{moved}");
    }
}
