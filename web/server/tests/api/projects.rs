//! API tests: projects and environments (create, list, reorder, recolour, archive), how keys see a new
//! or archived environment at once, validation that changes nothing, permissions, isolation and audit.

use crate::helpers::{
    SegmentSpec, TestApp, expect_error, expect_invalid, expect_ok, read, spawn_app,
};
use flagent_auth::{NewKey, create_key};
use flagent_types::{Scope, ScopeSet, SystemScope, TenantId};
use reqwest::Method;
use serde_json::{Value, json};

const ENVS: &str = "/api/v1/projects/default/environments";

/// The keys of a list of environments, in order.
fn keys(envs: &Value) -> Vec<String> {
    envs.as_array()
        .expect("an array of environments")
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn environments(app: &TestApp) -> Value {
    expect_ok(app.admin_get(ENVS).await)
}

async fn add_staging(app: &TestApp) -> Value {
    let body = json!({"key": "staging", "name": "Staging", "color": "#FFAA00"});
    let (status, env) = app.admin_post(ENVS, body).await;
    assert_eq!(status, 201, "{env}");
    env
}

/// Actions of tenant A's audit events, oldest first.
async fn audit_actions(app: &TestApp) -> Vec<String> {
    let page = expect_ok(app.admin_get("/api/v1/audit").await);
    let mut actions: Vec<String> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    actions.reverse();
    actions
}

/// An admin key for every environment of tenant A's project `project`.
async fn admin_key_of_project(app: &TestApp, project: &str) -> String {
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let tenant = app.db.system(&system).tenant_by_key("default").await;
    let tdb = app
        .db
        .scoped_for_system(&system, TenantId(tenant.unwrap().unwrap().id));
    let project = tdb.project_by_key(project).await.unwrap().unwrap();
    let key = NewKey {
        name: "project key".into(),
        scopes: ScopeSet::of(&[Scope::Admin]),
        project_id: project.id,
        environment_id: None,
        expires_at: None,
        plaintext: None,
    };
    create_key(&tdb, key, 0).await.unwrap().plaintext
}

/// Builds an enabled flag serving `on` to everyone in `env` and evaluates it there with `key`.
async fn variant_served(app: &TestApp, key: &str, env: &str, flag: &str) -> Value {
    let all = SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[100],
    };
    app.build_flag(key, env, flag, &["on"], &[all]).await;
    let body = json!({"flagKey": flag, "entityID": "user-1"});
    let (status, result) = app
        .call(
            key,
            Some(env),
            Method::POST,
            "/api/v1/evaluation",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    result["variantKey"].clone()
}

#[tokio::test]
async fn create_project_with_valid_key_returns_201_with_default_environments() {
    let app = spawn_app().await;
    let body = json!({"key": "mobile", "name": "Mobile app"});
    let (status, project) = app.admin_post("/api/v1/projects", body).await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["key"], "mobile");
    assert_eq!(
        keys(&project["environments"]),
        ["development", "production"]
    );

    let listed = expect_ok(app.admin_get("/api/v1/projects").await);
    let projects: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(projects, ["default", "mobile"]);
    let read_back = expect_ok(app.admin_get("/api/v1/projects/mobile").await);
    assert_eq!(read_back, project);
    let envs = expect_ok(app.admin_get("/api/v1/projects/mobile/environments").await);
    assert_eq!(keys(&envs), ["development", "production"]);
}

#[tokio::test]
async fn create_project_then_key_of_it_creates_and_evaluates_flags_in_its_environments() {
    let app = spawn_app().await;
    let body = json!({"key": "mobile", "name": "Mobile app"});
    assert_eq!(app.admin_post("/api/v1/projects", body).await.0, 201);
    let key = admin_key_of_project(&app, "mobile").await;
    assert_eq!(
        variant_served(&app, &key, "production", "mobile-only").await,
        "on"
    );
    let (status, flags) = app.admin_get("/api/v1/flags").await;
    assert_eq!(status, 200);
    assert!(
        !flags.to_string().contains("mobile-only"),
        "the default project does not see the new project's flags: {flags}"
    );
}

#[tokio::test]
async fn create_environment_then_admin_key_creates_and_evaluates_flag_in_it() {
    let app = spawn_app().await;
    let env = add_staging(&app).await;
    assert_eq!(env["color"], "#ffaa00");
    assert_eq!(
        keys(&environments(&app).await),
        ["development", "production", "staging"]
    );
    let variant = variant_served(&app, &app.a.admin, "staging", "staged").await;
    assert_eq!(variant, "on");
    let body = json!({"flagKey": "staged", "entityID": "user-1"});
    let (_, prod) = app
        .call(
            &app.a.admin,
            Some("production"),
            Method::POST,
            "/api/v1/evaluation",
            Some(body),
        )
        .await;
    assert!(
        prod["variantKey"].is_null(),
        "the flag is enabled in staging only: {prod}"
    );
}

#[tokio::test]
async fn reorder_environments_with_every_key_returns_new_order() {
    let app = spawn_app().await;
    add_staging(&app).await;
    let body = json!({"keys": ["staging", "production", "development"]});
    let reordered = expect_ok(app.admin_put(&format!("{ENVS}/reorder"), body).await);
    assert_eq!(keys(&reordered), ["staging", "production", "development"]);
    assert_eq!(
        keys(&environments(&app).await),
        ["staging", "production", "development"]
    );
}

#[tokio::test]
async fn update_environment_with_new_colour_returns_it_and_keeps_name() {
    let app = spawn_app().await;
    let body = json!({"color": "#123abc"});
    let env = expect_ok(app.admin_put(&format!("{ENVS}/production"), body).await);
    assert_eq!(env["color"], "#123abc");
    assert_eq!(env["name"], "Production");
    let body = json!({"name": "Live"});
    let env = expect_ok(app.admin_put(&format!("{ENVS}/production"), body).await);
    assert_eq!(
        (env["name"].as_str(), env["color"].as_str()),
        (Some("Live"), Some("#123abc"))
    );
}

#[tokio::test]
async fn archive_environment_then_requests_in_it_return_404() {
    let app = spawn_app().await;
    add_staging(&app).await;
    let flags = Method::GET;
    let before = app
        .call(&app.a.admin, Some("staging"), flags, "/api/v1/flags", None)
        .await;
    assert_eq!(
        before.0, 200,
        "the key sees staging before it is archived: {}",
        before.1
    );
    let (status, body) = app.admin_delete(&format!("{ENVS}/staging")).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        keys(&environments(&app).await),
        ["development", "production"]
    );
    let reply = app
        .call(
            &app.a.admin,
            Some("staging"),
            Method::GET,
            "/api/v1/flags",
            None,
        )
        .await;
    expect_error(&reply, 404, "environment_not_found");
    let again = app.admin_delete(&format!("{ENVS}/staging")).await;
    expect_error(&again, 404, "environment_not_found");
    let reused = app
        .admin_post(ENVS, json!({"key": "staging", "name": "Again"}))
        .await;
    expect_error(&reused, 409, "environment_key_taken");
}

#[tokio::test]
async fn archive_environment_when_last_returns_409_and_keeps_it() {
    let app = spawn_app().await;
    let first = app.admin_delete(&format!("{ENVS}/development")).await;
    assert_eq!(first.0, 204, "{}", first.1);
    let last = app.admin_delete(&format!("{ENVS}/production")).await;
    expect_error(&last, 409, "last_environment");
    assert_eq!(keys(&environments(&app).await), ["production"]);
}

#[tokio::test]
async fn archive_environment_with_bound_key_returns_409_and_keeps_it() {
    let app = spawn_app().await;
    let bound = app.admin_delete(&format!("{ENVS}/production")).await;
    expect_error(&bound, 409, "environment_in_use");
    assert_eq!(
        keys(&environments(&app).await),
        ["development", "production"]
    );
    let (status, _) = app
        .evaluate(json!({"flagKey": "any", "entityID": "u1"}))
        .await;
    assert_eq!(status, 200, "the production key still works");
}

#[tokio::test]
async fn create_and_change_with_bad_input_return_400_or_409_and_change_nothing() {
    let app = spawn_app().await;
    let projects_before = expect_ok(app.admin_get("/api/v1/projects").await);
    let bad_project = app
        .admin_post("/api/v1/projects", json!({"key": "no spaces", "name": "X"}))
        .await;
    expect_invalid(&bad_project, "key");
    let long = "k".repeat(64);
    expect_invalid(
        &app.admin_post("/api/v1/projects", json!({"key": long, "name": "X"}))
            .await,
        "key",
    );
    let taken = app
        .admin_post("/api/v1/projects", json!({"key": "default", "name": "X"}))
        .await;
    expect_error(&taken, 409, "project_key_taken");
    expect_invalid(
        &app.admin_post(ENVS, json!({"key": "qa!", "name": "QA"}))
            .await,
        "key",
    );
    expect_invalid(
        &app.admin_post(ENVS, json!({"key": "qa", "name": " "}))
            .await,
        "name",
    );
    let bad_colour = json!({"key": "qa", "name": "QA", "color": "red"});
    expect_invalid(&app.admin_post(ENVS, bad_colour).await, "color");
    let dup = json!({"key": "production", "name": "Again"});
    expect_error(
        &app.admin_post(ENVS, dup).await,
        409,
        "environment_key_taken",
    );
    let envs_before = environments(&app).await;
    let recolour = app
        .admin_put(&format!("{ENVS}/production"), json!({"color": "#12345"}))
        .await;
    expect_invalid(&recolour, "color");
    for keys in [
        json!(["production"]),
        json!(["production", "production"]),
        json!(["production", "development", "qa"]),
    ] {
        let reply = app
            .admin_put(&format!("{ENVS}/reorder"), json!({"keys": keys}))
            .await;
        expect_invalid(&reply, "keys");
    }
    assert_eq!(environments(&app).await, envs_before);
    assert_eq!(
        expect_ok(app.admin_get("/api/v1/projects").await),
        projects_before
    );
    let unknown = app.admin_get("/api/v1/projects/nope/environments").await;
    expect_error(&unknown, 404, "project_not_found");
    assert!(
        !audit_actions(&app)
            .await
            .iter()
            .any(|a| a.starts_with("project.") || a.starts_with("environment."))
    );
}

#[tokio::test]
async fn project_routes_with_non_admin_keys_return_403() {
    let app = spawn_app().await;
    let reply = app
        .call(&app.a.eval, None, Method::GET, "/api/v1/projects", None)
        .await;
    assert_eq!(reply.0, 403, "{}", reply.1);
    let reply = app
        .call(&app.a.read, None, Method::GET, "/api/v1/projects", None)
        .await;
    assert_eq!(
        reply.0, 200,
        "reading projects needs only the read scope: {}",
        reply.1
    );
    for key in [&app.a.read, &app.a.eval] {
        let body = Some(json!({"key": "qa", "name": "QA"}));
        let reply = app.call(key, None, Method::POST, ENVS, body).await;
        assert_eq!(reply.0, 403, "{}", reply.1);
    }
    assert_eq!(
        keys(&environments(&app).await),
        ["development", "production"]
    );
}

#[tokio::test]
async fn project_routes_with_other_tenant_keys_return_404_and_change_nothing() {
    let app = spawn_app().await;
    let body = json!({"key": "mobile", "name": "Mobile app"});
    assert_eq!(app.admin_post("/api/v1/projects", body).await.0, 201);
    let before = expect_ok(app.admin_get("/api/v1/projects").await);
    let b = &app.b.admin;
    let attempts = [
        (Method::GET, "/api/v1/projects/mobile".to_owned(), None),
        (
            Method::GET,
            "/api/v1/projects/mobile/environments".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/projects/mobile/environments".to_owned(),
            Some(json!({"key": "qa", "name": "QA"})),
        ),
        (
            Method::PUT,
            "/api/v1/projects/mobile/environments/production".to_owned(),
            Some(json!({"name": "Hacked"})),
        ),
        (
            Method::PUT,
            "/api/v1/projects/mobile/environments/reorder".to_owned(),
            Some(json!({"keys": ["production", "development"]})),
        ),
        (
            Method::DELETE,
            "/api/v1/projects/mobile/environments/development".to_owned(),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let reply = app.call(b, None, method, &path, body).await;
        expect_error(&reply, 404, "project_not_found");
    }
    let listed = expect_ok(
        app.call(b, None, Method::GET, "/api/v1/projects", None)
            .await,
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(expect_ok(app.admin_get("/api/v1/projects").await), before);
}

#[tokio::test]
async fn every_project_and_environment_change_appends_an_audit_event() {
    let app = spawn_app().await;
    let body = json!({"key": "mobile", "name": "Mobile app"});
    assert_eq!(app.admin_post("/api/v1/projects", body).await.0, 201);
    add_staging(&app).await;
    expect_ok(
        app.admin_put(&format!("{ENVS}/staging"), json!({"name": "Stage"}))
            .await,
    );
    let order = json!({"keys": ["staging", "development", "production"]});
    expect_ok(app.admin_put(&format!("{ENVS}/reorder"), order).await);
    assert_eq!(app.admin_delete(&format!("{ENVS}/staging")).await.0, 204);
    assert_eq!(
        audit_actions(&app).await,
        [
            "project.create",
            "environment.create",
            "environment.update",
            "environment.reorder",
            "environment.archive"
        ]
    );
    let page = expect_ok(
        app.admin_get("/api/v1/audit?action=environment.update")
            .await,
    );
    let event = &page["events"][0];
    assert_eq!(event["environment"], "staging");
    assert_eq!(event["before"]["name"], "Staging");
    assert_eq!(event["after"]["name"], "Stage");
    let (status, report) = read(
        app.request(Method::GET, "/api/v1/audit/verify", &app.a.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, report["intact"].as_bool()),
        (200, Some(true)),
        "{report}"
    );
}
