//! Plan limits, enforced: creating a project, an environment or a flag (created, duplicated, restored or
//! imported) beyond the tenant's plan answers `402 plan_limit_reached` naming the limit, and writes
//! nothing. Limits are data: tests lower the `free` plan's row in their own database.

use crate::helpers::{TenantKeys, TestApp, expect_error, expect_ok, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Sets `column` of the `free` plan's row (each test has its own database).
pub(crate) async fn set_free_limit(app: &TestApp, column: &str, value: &str) {
    let sql = format!("UPDATE plans SET {column} = {value} WHERE name = 'Free'");
    let changed = flagent_storage::admin::execute(&app.db_url, &sql)
        .await
        .expect("update the free plan");
    assert_eq!(changed, 1, "{sql}");
}

/// Asserts a 402 naming `limit` of the free plan and the number it allows; returns the body.
fn expect_limit(reply: &(u16, Value), limit: &str, allowed: u64) -> Value {
    let body = expect_error(reply, 402, "plan_limit_reached");
    let error = &body["error"];
    assert_eq!(error["limit"], limit, "{body}");
    assert_eq!(error["plan"], "free", "{body}");
    assert_eq!(error["allowed"], allowed, "{body}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("the Free plan allows at most"),
        "{message}"
    );
    assert!(message.contains(&allowed.to_string()), "{message}");
    body
}

/// Asserts a 201 answer and returns its body.
fn expect_created(reply: (u16, Value)) -> Value {
    assert_eq!(reply.0, 201, "{}", reply.1);
    reply.1
}

/// Sends a request as `key` in the key's default environment.
async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    app.call(key, None, method, path, body).await
}

/// The number of audit events of the tenant of `admin`.
async fn audit_count(app: &TestApp, admin: &str) -> usize {
    let page = expect_ok(call(app, admin, Method::GET, "/api/v1/audit?limit=500", None).await);
    page["events"].as_array().unwrap().len()
}

/// Creates flag `key` as `t`'s admin; returns the reply.
async fn create_flag(app: &TestApp, t: &TenantKeys, key: &str) -> (u16, Value) {
    let body = json!({"key": key, "description": key});
    call(app, &t.admin, Method::POST, "/api/v1/flags", Some(body)).await
}

/// The keys of `t`'s live flags.
async fn flag_keys(app: &TestApp, t: &TenantKeys) -> Vec<String> {
    let flags = expect_ok(call(app, &t.admin, Method::GET, "/api/v1/flags", None).await);
    flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_project_beyond_plan_returns_402_and_writes_nothing() {
    let app = spawn_app().await;
    let free = app.tenant_on_plan("acme", "free").await;
    let project = |key: &str| Some(json!({"key": key, "name": key}));
    let projects = "/api/v1/projects";
    expect_created(call(&app, &free.admin, Method::POST, projects, project("second")).await);
    let events = audit_count(&app, &free.admin).await;
    let reply = call(&app, &free.admin, Method::POST, projects, project("third")).await;
    let body = expect_limit(&reply, "projects", 2);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("this tenant has 2"),
        "{body}"
    );
    let listed = expect_ok(call(&app, &free.admin, Method::GET, projects, None).await);
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["default", "second"]);
    assert_eq!(audit_count(&app, &free.admin).await, events, "no event");
    // The self-hosted plan is unlimited.
    for key in ["p2", "p3", "p4"] {
        expect_created(
            app.admin_post(projects, json!({"key": key, "name": key}))
                .await,
        );
    }
}

#[tokio::test]
async fn create_environment_beyond_plan_returns_402_and_archiving_frees_a_place() {
    let app = spawn_app().await;
    let free = app.tenant_on_plan("acme", "free").await;
    let envs = "/api/v1/projects/default/environments";
    let env = |key: &str| Some(json!({"key": key, "name": key}));
    expect_created(call(&app, &free.admin, Method::POST, envs, env("staging")).await);
    let reply = call(&app, &free.admin, Method::POST, envs, env("qa")).await;
    let body = expect_limit(&reply, "environments", 3);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("environments per project"),
        "{body}"
    );
    let listed = expect_ok(call(&app, &free.admin, Method::GET, envs, None).await);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let staging = format!("{envs}/staging");
    let (status, body) = call(&app, &free.admin, Method::DELETE, &staging, None).await;
    assert_eq!(status, 204, "{body}");
    expect_created(call(&app, &free.admin, Method::POST, envs, env("qa")).await);
}

#[tokio::test]
async fn create_duplicate_and_restore_flag_beyond_plan_return_402_and_write_nothing() {
    let app = spawn_app().await;
    set_free_limit(&app, "flags", "3").await;
    let free = app.tenant_on_plan("acme", "free").await;
    let mut ids = Vec::new();
    for key in ["f1", "f2", "f3"] {
        ids.push(
            expect_ok(create_flag(&app, &free, key).await)["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let events = audit_count(&app, &free.admin).await;
    expect_limit(&create_flag(&app, &free, "f4").await, "flags", 3);
    let duplicate = format!("/api/v1/flags/{}/duplicate", ids[0]);
    let reply = call(
        &app,
        &free.admin,
        Method::POST,
        &duplicate,
        Some(json!({"key": "f1-copy"})),
    )
    .await;
    expect_limit(&reply, "flags", 3);
    assert_eq!(flag_keys(&app, &free).await, ["f1", "f2", "f3"]);
    assert_eq!(audit_count(&app, &free.admin).await, events, "no event");
    // A deleted flag frees its place; restoring it while the place is taken again is refused.
    let deleted = format!("/api/v1/flags/{}", ids[2]);
    expect_ok(call(&app, &free.admin, Method::DELETE, &deleted, None).await);
    expect_ok(create_flag(&app, &free, "f4").await);
    let restore = format!("/api/v1/flags/{}/restore", ids[2]);
    expect_limit(
        &call(&app, &free.admin, Method::PUT, &restore, None).await,
        "flags",
        3,
    );
    assert_eq!(flag_keys(&app, &free).await, ["f1", "f2", "f4"]);
    // Changing flags already there is never refused, even at the limit.
    let enabled = format!("/api/v1/flags/{}/enabled", ids[0]);
    expect_ok(
        call(
            &app,
            &free.admin,
            Method::PUT,
            &enabled,
            Some(json!({"enabled": true})),
        )
        .await,
    );
    // Another tenant's flags do not count.
    expect_ok(create_flag(&app, &app.b, "b-flag").await);
}

/// A document of flags with these keys (no variants or segments).
fn document(keys: &[&str]) -> Value {
    let flags: Vec<Value> = keys
        .iter()
        .map(|k| json!({"key": k, "description": format!("{k} flag")}))
        .collect();
    json!({ "flags": flags })
}

#[tokio::test]
async fn import_beyond_plan_is_refused_whole_even_as_a_dry_run() {
    let app = spawn_app().await;
    set_free_limit(&app, "flags", "3").await;
    let free = app.tenant_on_plan("acme", "free").await;
    expect_ok(create_flag(&app, &free, "kept").await);
    let events = audit_count(&app, &free.admin).await;
    let too_many = document(&["kept", "n1", "n2", "n3"]);
    for query in ["?dryRun=true", ""] {
        let path = format!("/api/v1/import{query}");
        let reply = call(
            &app,
            &free.admin,
            Method::POST,
            &path,
            Some(too_many.clone()),
        )
        .await;
        let body = expect_limit(&reply, "flags", 3);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("this change would add 3"), "{message}");
    }
    assert_eq!(flag_keys(&app, &free).await, ["kept"]);
    assert_eq!(audit_count(&app, &free.admin).await, events, "no event");
    let fits = Some(document(&["kept", "n1", "n2"]));
    let report = expect_ok(call(&app, &free.admin, Method::POST, "/api/v1/import", fits).await);
    assert_eq!(report["created"], json!(["n1", "n2"]), "{report}");
    // At the limit, importing existing flags and copying between environments add no flag.
    let again = Some(document(&["kept", "n1", "n2"]));
    expect_ok(call(&app, &free.admin, Method::POST, "/api/v1/import", again).await);
    let id = expect_ok(call(&app, &free.admin, Method::GET, "/api/v1/flags?key=n1", None).await)[0]
        ["id"]
        .as_i64()
        .unwrap();
    let copy = format!("/api/v1/flags/{id}/copy");
    let body = Some(json!({"from": "development", "to": "production"}));
    expect_ok(call(&app, &free.admin, Method::POST, &copy, body).await);
    assert_eq!(flag_keys(&app, &free).await, ["kept", "n1", "n2"]);
}

#[tokio::test]
async fn concurrent_creations_never_pass_the_limit() {
    let app = spawn_app().await;
    set_free_limit(&app, "flags", "3").await;
    let free = app.tenant_on_plan("acme", "free").await;
    let replies = create_flags_at_once(&app, &free, 8).await;
    let created = replies.iter().filter(|(s, _)| *s == 200).count();
    let refused = replies.iter().filter(|(s, _)| *s == 402).count();
    assert_eq!((created, refused), (3, 5), "{replies:?}");
    assert_eq!(flag_keys(&app, &free).await.len(), 3);
}

/// Creates `n` flags of `t` at once; returns every reply.
async fn create_flags_at_once(app: &TestApp, t: &TenantKeys, n: usize) -> Vec<(u16, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = app
            .request(Method::POST, "/api/v1/flags", &t.admin)
            .json(&json!({"key": format!("c{i}"), "description": "concurrent"}));
        set.spawn(async move { crate::helpers::read(request.send().await.unwrap()).await });
    }
    set.join_all().await
}

fn system() -> flagent_types::SystemScope {
    #[allow(clippy::disallowed_methods)]
    flagent_types::SystemScope::assume_system("test fixtures")
}

#[tokio::test]
async fn flags_limit_counts_every_project_of_the_tenant() {
    let app = spawn_app().await;
    set_free_limit(&app, "flags", "3").await;
    let free = app.tenant_on_plan("acme", "free").await;
    expect_ok(create_flag(&app, &free, "d1").await);
    expect_ok(create_flag(&app, &free, "d2").await);
    let second = json!({"key": "second", "name": "Second"});
    let project = call(
        &app,
        &free.admin,
        Method::POST,
        "/api/v1/projects",
        Some(second),
    )
    .await;
    let project_id = expect_created(project)["id"].as_i64().unwrap();
    let new_key = flagent_auth::NewKey {
        name: "second admin".into(),
        scopes: flagent_types::ScopeSet::of(&[flagent_types::Scope::Admin]),
        project_id,
        environment_id: None,
        expires_at: None,
        plaintext: None,
    };
    let tdb = app.db.scoped_for_system(&system(), free.id);
    let admin = flagent_auth::create_key(&tdb, new_key, 0)
        .await
        .unwrap()
        .plaintext;
    let second_admin = TenantKeys {
        admin,
        ..free.clone()
    };
    expect_ok(create_flag(&app, &second_admin, "s1").await);
    let body = expect_limit(&create_flag(&app, &second_admin, "s2").await, "flags", 3);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("this tenant has 3"), "{message}");
    assert_eq!(flag_keys(&app, &second_admin).await, ["s1"]);
}

#[tokio::test]
async fn seats_count_members_and_pending_invitations_only() {
    use flagent_storage::entities::{invitation, membership};
    let app = spawn_app().await;
    let free = app.tenant_on_plan("acme", "free").await;
    for id in 1001..=1003 {
        let sql = format!(
            "INSERT INTO users (id, email, name, failed_logins, sessions_valid_after, \
             platform_admin, created_at, updated_at) \
             VALUES ({id}, 'u{id}@example.com', 'User {id}', 0, 0, false, 0, 0)"
        );
        flagent_storage::admin::execute(&app.db_url, &sql)
            .await
            .unwrap();
    }
    let tdb = app.db.scoped_for_system(&system(), free.id);
    for user_id in 1001..=1003 {
        let member = membership::New {
            user_id,
            role: "editor".into(),
            created_at: 0,
        };
        tdb.insert_row(member).await.unwrap();
    }
    let future = i64::MAX / 2;
    // Pending, pending, expired, accepted, revoked: two seats.
    let states = [
        (future, None, None),
        (future, None, None),
        (1, None, None),
        (future, Some(1), None),
        (future, None, Some(1)),
    ];
    for (i, (expires_at, accepted_at, revoked_at)) in states.into_iter().enumerate() {
        let invite = invitation::New {
            email: format!("i{i}@example.com"),
            role: "viewer".into(),
            token_hash: format!("{i:064}"),
            invited_by: "test".into(),
            created_at: 0,
            expires_at,
            accepted_at,
            revoked_at,
        };
        tdb.insert_row(invite).await.unwrap();
    }
    let tx = tdb.begin().await.unwrap();
    assert_eq!(flagent_tenants::plans::seats_used(&tx).await.unwrap(), 5);
    match flagent_tenants::plans::check_seats(&tx, 1).await {
        Err(flagent_tenants::TenantsError::PlanLimit(reached)) => {
            assert_eq!(reached.limit, flagent_types::Limit::Seats);
            assert_eq!((reached.allowed, reached.current), (5, 5));
        }
        other => panic!("expected the seats limit, got {other:?}"),
    }
    flagent_tenants::plans::check_seats(&tx, 0)
        .await
        .expect("adding no seat");
    drop(tx);
    let usage = expect_ok(call(&app, &free.read, Method::GET, "/api/v1/usage", None).await);
    assert_eq!(usage["usage"]["seats"], 5, "{usage}");
    assert_eq!(usage["exceeded"], json!([]), "at the limit is not over it");
    set_free_limit(&app, "seats", "4").await;
    let usage = expect_ok(call(&app, &free.read, Method::GET, "/api/v1/usage", None).await);
    assert_eq!(usage["exceeded"], json!(["seats"]), "{usage}");
}
