//! The platform API of the hosted service's operators: listing tenants, suspending and resuming them
//! (their keys and sessions are refused from the next request on), re-planning and deleting them;
//! creating them is in `create`.

mod create;

use crate::accounts::{anonymous, count, send};
use crate::helpers::{
    SegmentSpec, Session, TEST_PASSWORD, TenantKeys, TestApp, code, expect_error, expect_invalid,
    expect_ok, spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};

/// An operator request (`path` under `/api/v1/admin/tenants`) with `session`.
async fn operate(
    app: &TestApp,
    session: &Session,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.as_user(
        session,
        method,
        &format!("/api/v1/admin/tenants{path}"),
        None,
    );
    if let Some(body) = body {
        req = req.json(&body);
    }
    send(req).await
}

/// `PUT /admin/tenants/{id}/status`.
async fn set_status(app: &TestApp, operator: &Session, tenant: i64, status: &str) -> (u16, Value) {
    let body = Some(json!({ "status": status }));
    operate(
        app,
        operator,
        Method::PUT,
        &format!("/{tenant}/status"),
        body,
    )
    .await
}

/// A flag of tenant `keys` enabled in production for everyone, variant `on`.
async fn enabled_flag(app: &TestApp, keys: &TenantKeys, key: &str) {
    let everyone = SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[100],
    };
    app.build_flag(&keys.admin, "production", key, &["on"], &[everyone])
        .await;
}

/// What tenant B's admin key (reading and writing), read key, evaluation key and its member's session
/// get, as (status, code); `round` names the flag the write creates.
async fn b_answers(app: &TestApp, member: &Session, round: &str) -> Vec<(u16, String)> {
    let get = |key: &str| send(app.request(Method::GET, "/api/v1/flags", key));
    let write = app
        .request(Method::POST, "/api/v1/flags", &app.b.admin)
        .json(&json!({"key": format!("probe-{round}"), "description": "d"}));
    let evaluation = app
        .evaluate_with(&app.b.eval, json!({"entityID": "u1", "flagKey": "b-flag"}))
        .await;
    if evaluation.0 == 200 {
        assert_eq!(evaluation.1["variantKey"], "on", "{}", evaluation.1);
    }
    let answers = vec![
        get(&app.b.admin).await,
        send(write).await,
        get(&app.b.read).await,
        evaluation,
        get(&member.token).await,
    ];
    answers
        .into_iter()
        .map(|(status, body)| (status, code(&body).to_owned()))
        .collect()
}

#[tokio::test]
async fn only_a_signed_in_operator_lists_tenants() {
    let app = spawn_app().await;
    let operator = app.owner_session().await;
    let list = expect_ok(operate(&app, &operator, Method::GET, "", None).await);
    let keys: Vec<&str> = list
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["default", "tenant-b"]);
    assert_eq!(list[1]["id"], app.b.id.0);
    assert_eq!(list[1]["status"], "active");
    assert_eq!(list[1]["plan"], "free");
    let one = expect_ok(
        operate(
            &app,
            &operator,
            Method::GET,
            &format!("/{}", app.b.id.0),
            None,
        )
        .await,
    );
    assert_eq!(one, list[1]);

    // An owner of a tenant is not an operator of the service.
    let co_owner = second_owner(&app).await;
    let admin = app.member("admin@example.com", "admin").await;
    for session in [&co_owner, &admin] {
        expect_error(
            &operate(&app, session, Method::GET, "", None).await,
            403,
            "forbidden",
        );
        expect_error(
            &set_status(&app, session, app.a.id.0, "suspended").await,
            403,
            "forbidden",
        );
    }
    for key in [&app.a.admin, &app.b.admin] {
        let reply = send(app.request(Method::GET, "/api/v1/admin/tenants", key)).await;
        expect_error(&reply, 403, "forbidden");
    }
    let reply = send(anonymous(&app, Method::GET, "/api/v1/admin/tenants")).await;
    expect_error(&reply, 401, "missing_credentials");
}

/// An owner of tenant A who is not an operator: invited as `owner` by the bootstrapped owner (only an
/// owner grants `owner`).
async fn second_owner(app: &TestApp) -> Session {
    let owner = app.owner_session().await;
    let (status, body) = send(
        app.as_user(&owner, Method::POST, "/api/v1/invitations", None)
            .json(&json!({"email": "co-owner@example.com", "role": "owner"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = app.mailed_token("co-owner@example.com", "Join").await;
    let (status, body) = send(
        anonymous(app, Method::POST, "/api/v1/invitations/accept")
            .json(&json!({"token": token, "password": TEST_PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenants"][0]["role"], "owner", "{body}");
    app.login("co-owner@example.com", TEST_PASSWORD).await
}

#[tokio::test]
async fn suspending_a_tenant_refuses_its_keys_and_sessions_at_once_and_resuming_restores_them() {
    let app = spawn_app().await;
    let operator = app.owner_session().await;
    enabled_flag(&app, &app.b, "b-flag").await;
    let member = app.member_of(&app.b.admin, "bob@b.test", "editor").await;
    let ok: Vec<(u16, String)> = vec![(200, "<no code>".to_owned()); 5];
    // Every credential is used (and cached) before the suspension.
    assert_eq!(b_answers(&app, &member, "before").await, ok);

    let (status, body) = set_status(&app, &operator, app.b.id.0, "suspended").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "suspended");
    let suspended = vec![(403, "tenant_suspended".to_owned()); 5];
    assert_eq!(b_answers(&app, &member, "suspended").await, suspended);
    // Tenant A is untouched.
    let (status, body) = app.admin_get("/api/v1/flags").await;
    assert_eq!(status, 200, "{body}");
    let me = expect_ok(send(app.as_user(&member, Method::GET, "/api/v1/auth/me", None)).await);
    assert_eq!(me["tenants"][0]["status"], "suspended", "{me}");

    let (status, body) = set_status(&app, &operator, app.b.id.0, "active").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(b_answers(&app, &member, "resumed").await, ok);

    let page = expect_ok(
        app.call(
            &app.b.admin,
            None,
            Method::GET,
            "/api/v1/audit?action=tenant.status",
            None,
        )
        .await,
    );
    let events = page["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{page}");
    let changes: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["before"]["status"].as_str().unwrap_or_default(),
                e["after"]["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(changes, [("suspended", "active"), ("active", "suspended")]);
    for event in events {
        assert_eq!(event["actorType"], "operator", "{event}");
        assert_eq!(event["actor"], format!("operator:{}", operator.email));
        assert_eq!(event["actorId"], operator.user_id.to_string());
        assert_eq!(event["resourceType"], "tenant");
        assert_eq!(event["resourceId"], app.b.id.0.to_string());
    }
    let report = expect_ok(
        app.call(
            &app.b.admin,
            None,
            Method::GET,
            "/api/v1/audit/verify",
            None,
        )
        .await,
    );
    assert_eq!(report["intact"], true, "{report}");
    let a_page = expect_ok(app.admin_get("/api/v1/audit?action=tenant.").await);
    assert_eq!(
        a_page["events"],
        json!([]),
        "only the tenant changed logs it"
    );
}

#[tokio::test]
async fn operators_move_tenants_between_plans_and_bad_values_are_refused() {
    let app = spawn_app().await;
    let operator = app.owner_session().await;
    let b = app.b.id.0;
    let put = |path: String, body: Value| {
        let operator = operator.clone();
        let app = &app;
        async move { operate(app, &operator, Method::PUT, &path, Some(body)).await }
    };
    let moved = expect_ok(put(format!("/{b}/plan"), json!({"plan": "pro"})).await);
    assert_eq!(moved["plan"], "pro");
    let usage = expect_ok(
        app.call(&app.b.read, None, Method::GET, "/api/v1/usage", None)
            .await,
    );
    assert_eq!(usage["plan"]["key"], "pro", "{usage}");
    expect_error(
        &put(format!("/{b}/plan"), json!({"plan": "gold"})).await,
        404,
        "plan_not_found",
    );
    expect_invalid(
        &put(format!("/{b}/status"), json!({"status": "frozen"})).await,
        "status",
    );
    expect_invalid(&put(format!("/{b}/status"), json!({})).await, "status");
    expect_error(
        &put("/999999/status".to_owned(), json!({"status": "suspended"})).await,
        404,
        "tenant_not_found",
    );
    expect_error(
        &put("/999999/plan".to_owned(), json!({"plan": "pro"})).await,
        404,
        "tenant_not_found",
    );
    let after = expect_ok(operate(&app, &operator, Method::GET, &format!("/{b}"), None).await);
    assert_eq!(
        (after["plan"].as_str(), after["status"].as_str()),
        (Some("pro"), Some("active"))
    );
    let page = expect_ok(
        app.call(
            &app.b.admin,
            None,
            Method::GET,
            "/api/v1/audit?action=tenant.",
            None,
        )
        .await,
    );
    let events = page["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "refused changes log nothing: {page}");
    assert_eq!(events[0]["action"], "tenant.plan");
    assert_eq!(events[0]["actorType"], "operator");
    assert_eq!(
        (
            events[0]["before"]["plan"].as_str(),
            events[0]["after"]["plan"].as_str()
        ),
        (Some("free"), Some("pro"))
    );
}

/// Tenant B's tables counted directly in the database.
const B_TABLES: &[&str] = &[
    "projects",
    "environments",
    "flags",
    "flag_states",
    "variants",
    "segments",
    "distributions",
    "flag_snapshots",
    "api_keys",
    "audit_events",
    "memberships",
    "roles",
    "invitations",
];

async fn rows_of(app: &TestApp, tenant: i64) -> Vec<(&'static str, u64)> {
    let mut rows = Vec::new();
    for table in B_TABLES {
        rows.push((
            *table,
            count(app, table, &format!("tenant_id = {tenant}")).await,
        ));
    }
    rows
}

#[tokio::test]
async fn deleting_a_tenant_removes_every_row_it_owns_and_its_keys_stop_working() {
    let app = spawn_app().await;
    let operator = app.owner_session().await;
    let b = app.b.id.0;
    enabled_flag(&app, &app.b, "b-flag").await;
    enabled_flag(&app, &app.a, "a-flag").await;
    let member = app.member_of(&app.b.admin, "bob@b.test", "editor").await;
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/invitations", &app.b.admin)
            .json(&json!({"email": "later@b.test", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/roles", &app.b.admin)
            .json(&json!({"key": "reviewer", "permissions": ["flags:read"]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let before = rows_of(&app, b).await;
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");
    let a_before = rows_of(&app, app.a.id.0).await;

    let (status, body) = operate(&app, &operator, Method::DELETE, &format!("/{b}"), None).await;
    assert_eq!(status, 204, "{body}");
    let after = rows_of(&app, b).await;
    assert!(after.iter().all(|(_, n)| *n == 0), "{after:?}");
    assert_eq!(count(&app, "tenants", &format!("id = {b}")).await, 0);
    assert_eq!(
        rows_of(&app, app.a.id.0).await,
        a_before,
        "tenant A keeps everything"
    );

    for key in [&app.b.admin, &app.b.read] {
        let reply = send(app.request(Method::GET, "/api/v1/flags", key)).await;
        expect_error(&reply, 401, "invalid_api_key");
    }
    expect_error(
        &app.evaluate_with(&app.b.eval, json!({"entityID": "u1", "flagKey": "b-flag"}))
            .await,
        401,
        "invalid_api_key",
    );
    // The member keeps their account but no longer belongs to any tenant.
    let (status, body) = send(app.as_user(&member, Method::GET, "/api/v1/flags", None)).await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"), "{body}");
    assert_eq!(count(&app, "users", "email = 'bob@b.test'").await, 1);
    let me = expect_ok(send(app.as_user(&member, Method::GET, "/api/v1/auth/me", None)).await);
    assert_eq!(me["tenants"], json!([]), "{me}");

    expect_error(
        &operate(&app, &operator, Method::DELETE, &format!("/{b}"), None).await,
        404,
        "tenant_not_found",
    );
    let list = expect_ok(operate(&app, &operator, Method::GET, "", None).await);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let (status, body) = app.admin_get("/api/v1/flags").await;
    assert_eq!(status, 200, "{body}");
    let result = expect_ok(
        app.evaluate(json!({"entityID": "u1", "flagKey": "a-flag"}))
            .await,
    );
    assert_eq!(result["variantKey"], "on", "{result}");
}

#[tokio::test]
async fn a_member_of_a_deleted_tenant_acts_in_their_remaining_tenant_without_naming_it() {
    let app = spawn_app().await;
    let operator = app.owner_session().await;
    let user = app.member("both@example.com", "editor").await;
    app.member_of(&app.b.admin, "both@example.com", "viewer")
        .await;
    let flags = || send(app.as_user(&user, Method::GET, "/api/v1/flags", None));
    expect_error(&flags().await, 400, "tenant_required");
    let b = app.b.id.0;
    let (status, body) = operate(&app, &operator, Method::DELETE, &format!("/{b}"), None).await;
    assert_eq!(status, 204, "{body}");
    let me = expect_ok(send(app.as_user(&user, Method::GET, "/api/v1/auth/me", None)).await);
    assert_eq!(me["tenants"].as_array().map(Vec::len), Some(1), "{me}");
    let (status, body) = flags().await;
    assert_eq!(status, 200, "tenant A is the only one left: {body}");
    let tenant_b = b.to_string();
    let (status, body) =
        send(app.as_user(&user, Method::GET, "/api/v1/flags", Some(app.b.id))).await;
    assert_eq!(
        (status, code(&body)),
        (404, "tenant_not_found"),
        "{tenant_b}: {body}"
    );
}
