//! Who is calling: missing and bad keys, both key headers, scopes, environments, tenant isolation and
//! the public routes.

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

fn url(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.address)
}

async fn send(req: RequestBuilder) -> (u16, Value) {
    read(req.send().await.expect("request")).await
}

/// One request per kind of protected route, without credentials.
fn protected(app: &TestApp) -> Vec<RequestBuilder> {
    let c = &app.client;
    let eval = json!({"flagKey": "x", "entityID": "u1"});
    vec![
        c.get(url(app, "/api/v1/flags")),
        c.post(url(app, "/api/v1/flags"))
            .json(&json!({"key": "k", "description": "d"})),
        c.get(url(app, "/api/v1/flags/1")),
        c.post(url(app, "/api/v1/evaluation")).json(&eval),
        c.get(url(app, "/api/v1/evaluation"))
            .query(&[("json", eval.to_string())]),
        c.post(url(app, "/api/v1/evaluation/batch"))
            .json(&json!({"entities": [{"entityID": "u1"}], "flagKeys": ["x"]})),
        c.get(url(app, "/api/v1/export/gitops")),
        c.post(url(app, "/api/v1/import"))
            .json(&json!({"flags": []})),
    ]
}

#[tokio::test]
async fn request_without_key_returns_401_missing_credentials() {
    let app = spawn_app().await;
    for req in protected(&app) {
        let (status, body) = send(req).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(code(&body), "missing_credentials");
    }
    // A non-Bearer scheme and an empty key count as no key.
    for req in [
        app.client
            .get(url(&app, "/api/v1/flags"))
            .header("Authorization", format!("Basic {}", app.a.admin)),
        app.client
            .get(url(&app, "/api/v1/flags"))
            .header("X-API-Key", ""),
    ] {
        let (status, body) = send(req).await;
        assert_eq!(
            (status, code(&body)),
            (401, "missing_credentials"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn request_with_garbage_or_unknown_key_returns_401_invalid_api_key() {
    let app = spawn_app().await;
    let unknown = format!("flg_mgmt_{}", "A".repeat(43));
    let too_long = format!("flg_{}", "a".repeat(200));
    let tampered = format!("{}x", app.a.admin);
    for key in ["garbage", unknown.as_str(), too_long.as_str(), &tampered] {
        for req in protected(&app) {
            let (status, body) = send(req.bearer_auth(key)).await;
            assert_eq!(status, 401, "{key}: {body}");
            // A token without the key prefix is taken for a session token.
            let expected = if key.starts_with("flg_") {
                "invalid_api_key"
            } else {
                "invalid_session"
            };
            assert_eq!(code(&body), expected);
        }
        let req = app
            .client
            .get(url(&app, "/api/v1/flags"))
            .header("X-API-Key", key);
        assert_eq!(send(req).await.0, 401);
    }
}

#[tokio::test]
async fn x_api_key_header_authenticates_like_bearer() {
    let app = spawn_app().await;
    app.create_flag("visible").await;
    let req = app
        .client
        .get(url(&app, "/api/v1/flags"))
        .header("X-API-Key", &app.a.admin);
    let (status, flags) = send(req).await;
    assert_eq!(status, 200, "{flags}");
    assert_eq!(flags[0]["key"], "visible");
    let req = app
        .client
        .post(url(&app, "/api/v1/evaluation"))
        .header("X-API-Key", &app.a.eval)
        .json(&json!({"flagKey": "visible", "entityID": "u1"}));
    let (status, result) = send(req).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["flagKey"], "visible");
}

#[tokio::test]
async fn eval_key_on_management_routes_returns_403_forbidden() {
    let app = spawn_app().await;
    let flag = app.create_flag("managed").await;
    let id = flag["id"].as_i64().unwrap();
    let key = app.a.eval.clone();
    let cases = [
        (Method::GET, "/api/v1/flags".to_owned(), None),
        (Method::GET, format!("/api/v1/flags/{id}"), None),
        (
            Method::POST,
            "/api/v1/flags".to_owned(),
            Some(json!({"key": "k", "description": "d"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": true})),
        ),
        (Method::GET, "/api/v1/export/gitops".to_owned(), None),
    ];
    for (method, path, body) in cases {
        let (status, body) = app.call(&key, None, method, &path, body).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(code(&body), "forbidden");
    }
    let (status, _) = app
        .call(
            &key,
            None,
            Method::DELETE,
            &format!("/api/v1/flags/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, flag) = app
        .admin(Method::GET, &format!("/api/v1/flags/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        flag["archived"], false,
        "the refused delete must not have happened"
    );
}

#[tokio::test]
async fn read_key_writing_returns_403_forbidden() {
    let app = spawn_app().await;
    let flag = app.create_flag("read-only").await;
    let id = flag["id"].as_i64().unwrap();
    let key = app.a.read.clone();
    let (status, flags) = app
        .call(&key, None, Method::GET, "/api/v1/flags", None)
        .await;
    assert_eq!(status, 200, "{flags}");
    let cases = [
        (
            Method::POST,
            "/api/v1/flags".to_owned(),
            Some(json!({"key": "k", "description": "d"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}"),
            Some(json!({"description": "changed"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": true})),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/variants"),
            Some(json!({"key": "v"})),
        ),
        (Method::DELETE, format!("/api/v1/flags/{id}"), None),
        (
            Method::POST,
            "/api/v1/import".to_owned(),
            Some(json!({"flags": []})),
        ),
    ];
    for (method, path, body) in cases {
        let (status, body) = app.call(&key, None, method, &path, body).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(code(&body), "forbidden");
    }
    let (_, flag) = app
        .admin(Method::GET, &format!("/api/v1/flags/{id}"), None)
        .await;
    assert_eq!(flag["description"], "read-only flag");
    assert_eq!(flag["variants"], json!([]));
}

#[tokio::test]
async fn eval_key_asking_for_other_environment_returns_403_environment_forbidden() {
    let app = spawn_app().await;
    let body = json!({"flagKey": "x", "entityID": "u1"});
    for env in ["development", "nope"] {
        let (status, r) = app
            .call(
                &app.a.eval,
                Some(env),
                Method::POST,
                "/api/v1/evaluation",
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 403, "{env}: {r}");
        assert_eq!(code(&r), "environment_forbidden");
    }
    let path = "/api/v1/evaluation?environment=development";
    let (status, r) = send(app.request(Method::POST, path, &app.a.eval).json(&body)).await;
    assert_eq!((status, code(&r)), (403, "environment_forbidden"), "{r}");
    let (status, r) = app
        .call(
            &app.a.eval,
            Some("production"),
            Method::POST,
            "/api/v1/evaluation",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "its own environment is allowed: {r}");
}

#[tokio::test]
async fn admin_key_with_unknown_environment_returns_404_environment_not_found() {
    let app = spawn_app().await;
    let (status, body) = app
        .call(
            &app.a.admin,
            Some("nope"),
            Method::GET,
            "/api/v1/flags",
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(code(&body), "environment_not_found");
    let (status, body) = app
        .admin(Method::GET, "/api/v1/flags?environment=nope", None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "environment_not_found"),
        "{body}"
    );
    let (status, _) = app
        .admin(Method::GET, "/api/v1/flags?environment=production", None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn tenant_b_cannot_see_or_evaluate_tenant_a_flags() {
    let app = spawn_app().await;
    let spec = [SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[100],
    }];
    let a = app
        .build_flag(&app.a.admin, "production", "a-secret", &["on"], &spec)
        .await;
    app.build_flag(&app.b.admin, "production", "b-flag", &["on"], &spec)
        .await;
    let b = app.b.admin.clone();
    let (status, flags) = app.call(&b, None, Method::GET, "/api/v1/flags", None).await;
    assert_eq!(status, 200, "{flags}");
    let keys: Vec<&str> = flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["b-flag"]);
    let (status, body) = app
        .call(
            &b,
            None,
            Method::GET,
            &format!("/api/v1/flags/{}", a.id),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (404, "flag_not_found"), "{body}");
    let path = format!("/api/v1/flags/{}/enabled", a.id);
    let (status, _) = app
        .call(
            &b,
            Some("production"),
            Method::PUT,
            &path,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 404);
    for body in [
        json!({"flagKey": "a-secret", "entityID": "u1"}),
        json!({"flagID": a.id, "entityID": "u1"}),
    ] {
        let (status, r) = app.evaluate_with(&app.b.eval, body).await;
        assert_eq!(status, 200, "{r}");
        assert!(r.get("variantID").is_none(), "{r}");
        assert_eq!(r["reason"], "FLAG_NOT_FOUND");
    }
    let (_, r) = app
        .evaluate(json!({"flagKey": "a-secret", "entityID": "u1"}))
        .await;
    assert_eq!(r["variantKey"], "on", "A's flag is untouched: {r}");
    for path in [
        "/api/v1/export/gitops?format=json",
        "/api/v1/export/eval_cache/json",
    ] {
        let (status, export) = app
            .call(&b, Some("production"), Method::GET, path, None)
            .await;
        assert_eq!(status, 200, "{export}");
        let text = export.to_string();
        assert!(
            text.contains("b-flag") && !text.contains("a-secret"),
            "{path}: {text}"
        );
    }
}

#[tokio::test]
async fn public_routes_answer_without_key() {
    let app = spawn_app().await;
    for path in [
        "/health",
        "/api/v1/health",
        "/api/v1/info",
        "/api/v1/openapi.json",
    ] {
        let (status, body) = send(app.client.get(url(&app, path))).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.is_object(), "{path} answers JSON");
    }
}

/// Every operation of the OpenAPI document with its path parameters filled in.
fn operations(doc: &Value) -> Vec<(String, String, bool)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            ops.push((method.to_uppercase(), concrete, secured));
        }
    }
    ops
}

#[tokio::test]
async fn every_secured_operation_without_key_returns_401() {
    let app = spawn_app().await;
    app.create_flag("walked").await;
    let doc = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let ops = operations(&doc);
    assert!(
        ops.len() >= 38,
        "expected the whole API, got {} operations",
        ops.len()
    );
    let mut public: Vec<_> = ops
        .iter()
        .filter(|(_, _, s)| !s)
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    public.sort_by_key(|op| {
        op.split_once(' ')
            .map(|(m, p)| (p.to_owned(), m.to_owned()))
    });
    assert_eq!(
        public,
        vec![
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/password/forgot",
            "POST /api/v1/auth/password/reset",
            "POST /api/v1/auth/verify-email",
            "GET /api/v1/health",
            "GET /api/v1/info",
            "POST /api/v1/invitations/accept",
            "POST /api/v1/signup",
            "POST /api/v1/sso/discover",
            "GET /sso/1/start",
            "GET /sso/oidc/1/callback",
            "POST /sso/saml/1/acs",
            "GET /sso/saml/1/metadata",
        ],
        "only health, info and the ways in (signup, sign-in, mailed links, SSO) are public"
    );
    for (method, path, _) in ops.iter().filter(|(_, _, secured)| *secured) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let reply = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (status, body) = read(reply).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert_eq!(code(&body), "missing_credentials", "{method} {path}");
    }
}
