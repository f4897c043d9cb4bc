//! Operators create tenants directly (`POST /api/v1/admin/tenants`): an active tenant with its default
//! project and environments and an `admin` key, optionally an existing account as owner; bad input, taken
//! keys and callers who are not operators are refused and create nothing.

use super::operate;
use crate::accounts::{anonymous, count, send};
use crate::helpers::{TestApp, code, expect_error, expect_invalid, expect_ok, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// `POST /admin/tenants` as the bootstrapped operator.
async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    let operator = app.owner_session().await;
    operate(app, &operator, Method::POST, "", Some(body)).await
}

/// A flag giving everyone `on`, imported into production with `key`.
async fn import_flag(app: &TestApp, key: &str, flag: &str) {
    let doc = json!({"flags": [{"key": flag, "description": "d", "enabled": true,
        "variants": [{"key": "on"}],
        "segments": [{"rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]}]});
    let reply = app
        .call(
            key,
            Some("production"),
            Method::POST,
            "/api/v1/import",
            Some(doc),
        )
        .await;
    expect_ok(reply);
}

#[tokio::test]
async fn an_operator_creates_an_active_tenant_whose_key_manages_and_evaluates_its_flags() {
    let app = spawn_app().await;
    let (status, body) = create(
        &app,
        json!({"key": "load-1", "name": "Load one", "plan": "pro"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let tenant = &body["tenant"];
    assert_eq!(
        (
            tenant["key"].as_str(),
            tenant["status"].as_str(),
            tenant["plan"].as_str()
        ),
        (Some("load-1"), Some("active"), Some("pro")),
        "{body}"
    );
    let key = body["managementKey"]
        .as_str()
        .expect("managementKey")
        .to_owned();
    assert!(key.starts_with("flg_"), "{body}");

    let projects = expect_ok(
        app.call(
            &key,
            None,
            Method::GET,
            "/api/v1/projects/default/environments",
            None,
        )
        .await,
    );
    let envs: Vec<&str> = projects
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| e["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(envs, ["development", "production"], "{projects}");
    import_flag(&app, &key, "banner").await;
    let body = json!({"entityID": "u1", "flagKey": "banner"});
    let reply = app
        .call(
            &key,
            Some("production"),
            Method::POST,
            "/api/v1/evaluation",
            Some(body),
        )
        .await;
    assert_eq!(expect_ok(reply)["variantKey"], "on");
    // Tenant A does not see it.
    let (status, flags) = app.admin_get("/api/v1/flags").await;
    assert_eq!((status, flags), (200, json!([])));

    let page = expect_ok(
        app.call(
            &key,
            None,
            Method::GET,
            "/api/v1/audit?action=tenant.",
            None,
        )
        .await,
    );
    let events = page["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["action"], "tenant.create");
    assert_eq!(events[0]["actorType"], "operator");
    assert_eq!(events[0]["after"]["key"], "load-1");
    assert_eq!(events[0]["resourceId"], tenant["id"].to_string());
    let operator = app.owner_session().await;
    let list = expect_ok(operate(&app, &operator, Method::GET, "", None).await);
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
    assert_eq!(list[2], *tenant);
}

#[tokio::test]
async fn a_created_tenant_on_the_default_plan_gets_an_existing_account_as_owner() {
    let app = spawn_app().await;
    let user = app.member("owner-to-be@example.com", "viewer").await;
    let body = json!({"key": "acme", "name": " Acme ", "ownerEmail": "Owner-To-Be@example.com"});
    let (status, body) = create(&app, body).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tenant"]["plan"], "free");
    assert_eq!(body["tenant"]["name"], "Acme");
    let me = expect_ok(send(app.as_user(&user, Method::GET, "/api/v1/auth/me", None)).await);
    let roles: Vec<(&str, &str)> = me["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap_or_default(),
                t["role"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(roles.contains(&("acme", "owner")), "{me}");
}

#[tokio::test]
async fn creating_a_tenant_with_bad_input_or_a_taken_key_is_refused_and_creates_nothing() {
    let app = spawn_app().await;
    let tenants = || count(&app, "tenants", "1 = 1");
    let before = tenants().await;
    expect_error(
        &create(&app, json!({"key": "tenant-b", "name": "B again"})).await,
        409,
        "tenant_key_taken",
    );
    for bad in [
        "",
        "Upper",
        "two  spaces",
        "-dash",
        "dash-",
        "a--b",
        &"x".repeat(41),
    ] {
        expect_invalid(&create(&app, json!({"key": bad, "name": "n"})).await, "key");
    }
    expect_invalid(&create(&app, json!({"key": "ok"})).await, "name");
    expect_invalid(
        &create(&app, json!({"key": "ok", "name": "   "})).await,
        "name",
    );
    expect_error(
        &create(&app, json!({"key": "ok", "name": "n", "plan": "gold"})).await,
        404,
        "plan_not_found",
    );
    let nobody = json!({"key": "ok", "name": "n", "ownerEmail": "nobody@example.com"});
    expect_invalid(&create(&app, nobody).await, "ownerEmail");
    expect_invalid(
        &create(
            &app,
            json!({"key": "ok", "name": "n", "ownerEmail": "not mail"}),
        )
        .await,
        "ownerEmail",
    );
    let reply = create(&app, json!({"key": "ok", "name": "n", "extra": 1})).await;
    assert_eq!(
        (reply.0, code(&reply.1)),
        (400, "invalid_json"),
        "{}",
        reply.1
    );
    assert_eq!(tenants().await, before);

    let (status, body) = create(&app, json!({"key": "ok", "name": "n"})).await;
    assert_eq!(status, 201, "{body}");
    expect_error(
        &create(&app, json!({"key": "ok", "name": "again"})).await,
        409,
        "tenant_key_taken",
    );
    assert_eq!(tenants().await, before + 1);
}

#[tokio::test]
async fn only_an_operator_creates_tenants_and_a_refused_call_creates_nothing() {
    let app = spawn_app().await;
    let before = count(&app, "tenants", "1 = 1").await;
    let body = json!({"key": "sneaky", "name": "Sneaky"});
    let co_owner = super::second_owner(&app).await;
    let admin = app.member("admin@example.com", "admin").await;
    for session in [&co_owner, &admin] {
        let reply = operate(&app, session, Method::POST, "", Some(body.clone())).await;
        expect_error(&reply, 403, "forbidden");
    }
    for key in [&app.a.admin, &app.b.admin] {
        let reply = send(
            app.request(Method::POST, "/api/v1/admin/tenants", key)
                .json(&body),
        )
        .await;
        expect_error(&reply, 403, "forbidden");
    }
    let reply = send(anonymous(&app, Method::POST, "/api/v1/admin/tenants").json(&body)).await;
    expect_error(&reply, 401, "missing_credentials");
    assert_eq!(count(&app, "tenants", "1 = 1").await, before);
    assert_eq!(count(&app, "tenants", "name = 'Sneaky'").await, 0);
}
