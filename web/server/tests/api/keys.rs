//! API key management (`/api/v1/keys…`): creating keys that work only within their scopes and
//! environment, listing without secrets, validation, rotation, revocation, expiry, the admin scope, tenant
//! isolation and the last-use time.

use crate::helpers::{TestApp, code, expect_error, expect_invalid, expect_ok, read, spawn_app};
use flagent_auth::{NewKey, create_key, hash_key};
use flagent_config::Settings;
use flagent_server::Application;
use flagent_testkit::TestDb;
use flagent_types::{Scope, ScopeSet, SystemScope, TenantId};
use reqwest::Method;
use serde_json::{Value, json};

const FLAGS: &str = "/api/v1/flags";
const KEYS: &str = "/api/v1/keys";

/// Creates a key with tenant A's admin key and returns the answer (which holds the plaintext).
async fn new_key(app: &TestApp, body: Value) -> Value {
    expect_ok(app.admin(Method::POST, KEYS, Some(body)).await)
}

/// The plaintext and id of a created key.
fn secret(created: &Value) -> (String, i64) {
    let key = created["key"].as_str().expect("plaintext").to_owned();
    (key, created["id"].as_i64().expect("key id"))
}

/// Tenant A's keys as its admin lists them.
async fn list(app: &TestApp) -> Vec<Value> {
    let keys = expect_ok(app.admin(Method::GET, KEYS, None).await);
    keys.as_array().expect("key list").clone()
}

/// The id of the listed key whose prefix starts `plaintext`.
async fn id_of(app: &TestApp, plaintext: &str) -> i64 {
    let prefix: String = plaintext.chars().take(14).collect();
    let keys = list(app).await;
    let key = keys.iter().find(|k| k["prefix"] == prefix.as_str());
    key.and_then(|k| k["id"].as_i64()).expect("listed key")
}

fn evaluation() -> Value {
    json!({"flagKey": "any", "entityID": "u1"})
}

#[tokio::test]
async fn create_key_with_scopes_and_environment_works_only_within_them() {
    let app = spawn_app().await;
    let body = json!({"name": "ci reader", "scopes": ["read"], "environment": "production"});
    let reply = app
        .request(Method::POST, KEYS, &app.a.admin)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(reply.headers()["cache-control"], "no-store");
    let created = expect_ok(read(reply).await);
    let (reader, _) = secret(&created);
    assert!(reader.starts_with("flg_mgmt_"), "{created}");
    assert_eq!(
        created["prefix"],
        reader.chars().take(14).collect::<String>()
    );
    assert_eq!(created["name"], "ci reader");
    assert_eq!(created["scopes"], json!(["read"]));
    assert_eq!(created["environment"], "production");
    assert!(
        created["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    for field in ["expiresAt", "revokedAt", "lastUsedAt"] {
        assert_eq!(created[field], Value::Null, "{field}: {created}");
    }
    expect_ok(app.call(&reader, None, Method::GET, FLAGS, None).await);
    let prod = app.call(&reader, Some("production"), Method::GET, FLAGS, None);
    expect_ok(prod.await);
    let dev = app.call(&reader, Some("development"), Method::GET, FLAGS, None);
    expect_error(&dev.await, 403, "environment_forbidden");
    let body = Some(json!({"description": "d"}));
    let write = app.call(&reader, None, Method::POST, FLAGS, body).await;
    expect_error(&write, 403, "forbidden");
    let manage = app.call(&reader, None, Method::GET, KEYS, None).await;
    expect_error(&manage, 403, "forbidden");

    let body = json!({"name": "sdk", "scopes": ["evaluate"], "environment": "development"});
    let (sdk, _) = secret(&new_key(&app, body).await);
    assert!(sdk.starts_with("flg_eval_"));
    expect_ok(app.evaluate_with(&sdk, evaluation()).await);
    let path = "/api/v1/evaluation";
    let prod = app
        .call(
            &sdk,
            Some("production"),
            Method::POST,
            path,
            Some(evaluation()),
        )
        .await;
    expect_error(&prod, 403, "environment_forbidden");
    let read_flags = app.call(&sdk, None, Method::GET, FLAGS, None).await;
    expect_error(&read_flags, 403, "forbidden");
}

#[tokio::test]
async fn create_key_with_expiry_and_no_environment_reaches_every_environment() {
    let app = spawn_app().await;
    let body = json!({"name": "writer", "scopes": ["write", "read"],
        "expiresAt": "2999-01-01T00:00:00+01:00"});
    let created = new_key(&app, body).await;
    assert_eq!(created["expiresAt"], "2998-12-31T23:00:00.000Z");
    assert_eq!(created["environment"], Value::Null);
    assert_eq!(created["scopes"], json!(["read", "write"]));
    let (writer, _) = secret(&created);
    for env in ["development", "production"] {
        let body = Some(json!({"key": format!("made-in-{env}"), "description": "d"}));
        expect_ok(
            app.call(&writer, Some(env), Method::POST, FLAGS, body)
                .await,
        );
    }
}

#[tokio::test]
async fn list_keys_never_shows_plaintext_or_hash() {
    let app = spawn_app().await;
    let (plain, id) = secret(&new_key(&app, json!({"name": "n", "scopes": ["client"]})).await);
    let keys = list(&app).await;
    let ids: Vec<i64> = keys.iter().map(|k| k["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "ascending id");
    assert_eq!(
        ids.len(),
        4,
        "bootstrap admin and eval, the read key, the new key: {keys:?}"
    );
    assert!(ids.contains(&id));
    let one = expect_ok(app.admin(Method::GET, &format!("{KEYS}/{id}"), None).await);
    assert_eq!(one["name"], "n");
    let text = format!("{keys:?} {one}");
    for secret in [&plain, &app.a.admin, &app.a.eval, &app.a.read] {
        assert!(!text.contains(secret.as_str()), "plaintext leaked: {text}");
        assert!(!text.contains(&hash_key(secret)), "hash leaked: {text}");
    }
    for key in keys.iter().chain([&one]) {
        assert_eq!(key.get("key"), None, "{key}");
        assert_eq!(key.get("keyHash"), None, "{key}");
        assert_eq!(key["prefix"].as_str().map(str::len), Some(14), "{key}");
    }
}

#[tokio::test]
async fn create_key_with_invalid_fields_returns_400_with_field_and_creates_nothing() {
    let app = spawn_app().await;
    let before = list(&app).await;
    let long = "n".repeat(201);
    let cases = [
        (json!({"scopes": ["read"]}), "name"),
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "   ", "scopes": ["read"]}), "name"),
        (json!({"name": long, "scopes": ["read"]}), "name"),
        (json!({"name": "n"}), "scopes"),
        (json!({"name": "n", "scopes": []}), "scopes"),
        (
            json!({"name": "n", "scopes": ["read", "root", "god"]}),
            "scopes",
        ),
        (
            json!({"name": "n", "scopes": ["read"], "environment": "staging"}),
            "environment",
        ),
        (
            json!({"name": "n", "scopes": ["read"], "environment": ""}),
            "environment",
        ),
        (
            json!({"name": "n", "scopes": ["read"], "expiresAt": "tomorrow"}),
            "expiresAt",
        ),
        (
            json!({"name": "n", "scopes": ["read"], "expiresAt": "2001-01-01T00:00:00Z"}),
            "expiresAt",
        ),
    ];
    for (body, field) in cases {
        let reply = app.admin(Method::POST, KEYS, Some(body.clone())).await;
        let error = expect_invalid(&reply, field);
        if body["scopes"] == json!(["read", "root", "god"]) {
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("\"root\", \"god\""), "{message}");
        }
    }
    let misspelt = json!({"name": "n", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"});
    let reply = app.admin(Method::POST, KEYS, Some(misspelt)).await;
    expect_error(&reply, 400, "invalid_json");
    assert_eq!(list(&app).await, before, "nothing was created");
}

#[tokio::test]
async fn rotate_key_refuses_old_key_at_once_and_new_key_works() {
    let app = spawn_app().await;
    let body = json!({"name": "deploy", "scopes": ["read"], "environment": "production",
        "expiresAt": "2999-01-01T00:00:00Z"});
    let old = new_key(&app, body).await;
    let (old_key, old_id) = secret(&old);
    expect_ok(app.call(&old_key, None, Method::GET, FLAGS, None).await);
    let path = format!("{KEYS}/{old_id}/rotate");
    let rotated = expect_ok(app.admin(Method::POST, &path, None).await);
    let (new_key, new_id) = secret(&rotated);
    assert_ne!(new_id, old_id);
    assert_ne!(new_key, old_key);
    for field in ["name", "scopes", "environment", "expiresAt"] {
        assert_eq!(rotated[field], old[field], "{field}");
    }
    let refused = app.call(&old_key, None, Method::GET, FLAGS, None).await;
    expect_error(&refused, 401, "invalid_api_key");
    expect_ok(app.call(&new_key, None, Method::GET, FLAGS, None).await);
    let old_view = expect_ok(
        app.admin(Method::GET, &format!("{KEYS}/{old_id}"), None)
            .await,
    );
    assert!(old_view["revokedAt"].is_string(), "{old_view}");
    let again = app.admin(Method::POST, &path, None).await;
    expect_error(&again, 409, "key_inactive");
    assert_eq!(
        list(&app).await.len(),
        5,
        "the refused rotation created no key"
    );
}

#[tokio::test]
async fn revoke_key_refuses_it_at_once_on_evaluation_and_management() {
    let app = spawn_app().await;
    // The bootstrap evaluation key is in the key cache from the start.
    expect_ok(app.evaluate(evaluation()).await);
    let eval_id = id_of(&app, &app.a.eval).await;
    let revoked = expect_ok(
        app.admin(Method::DELETE, &format!("{KEYS}/{eval_id}"), None)
            .await,
    );
    let revoked_at = revoked["revokedAt"].clone();
    assert!(revoked_at.is_string(), "{revoked}");
    expect_error(&app.evaluate(evaluation()).await, 401, "invalid_api_key");
    let again = expect_ok(
        app.admin(Method::DELETE, &format!("{KEYS}/{eval_id}"), None)
            .await,
    );
    assert_eq!(
        again["revokedAt"], revoked_at,
        "revoking twice keeps the first time"
    );

    let (admin2, admin2_id) =
        secret(&new_key(&app, json!({"name": "a2", "scopes": ["admin"]})).await);
    expect_ok(app.call(&admin2, None, Method::GET, KEYS, None).await);
    let own = format!("{KEYS}/{admin2_id}");
    expect_ok(app.call(&admin2, None, Method::DELETE, &own, None).await);
    let after = app.call(&admin2, None, Method::GET, KEYS, None).await;
    expect_error(&after, 401, "invalid_api_key");
    let evaluated = app.evaluate_with(&admin2, evaluation()).await;
    expect_error(&evaluated, 401, "invalid_api_key");
}

#[tokio::test]
async fn expired_key_returns_401_invalid_api_key() {
    let app = spawn_app().await;
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let tenant = app
        .db
        .system(&system)
        .tenant_by_key("default")
        .await
        .unwrap()
        .unwrap();
    let tdb = app.db.scoped_for_system(&system, TenantId(tenant.id));
    let project = tdb.project_by_key("default").await.unwrap().unwrap();
    let mut expired = Vec::new();
    for scope in [Scope::Admin, Scope::Evaluate] {
        let key = NewKey {
            name: "expired".into(),
            scopes: ScopeSet::of(&[scope]),
            project_id: project.id,
            environment_id: None,
            expires_at: Some(1_000),
            plaintext: None,
        };
        expired.push(create_key(&tdb, key, 0).await.unwrap().plaintext);
    }
    let refused = app.call(&expired[0], None, Method::GET, KEYS, None).await;
    expect_error(&refused, 401, "invalid_api_key");
    let refused = app.evaluate_with(&expired[1], evaluation()).await;
    expect_error(&refused, 401, "invalid_api_key");
    let listed = list(&app).await;
    let shown = listed.iter().filter(|k| k["name"] == "expired");
    assert!(
        shown.clone().count() == 2
            && shown
                .into_iter()
                .all(|k| k["expiresAt"] == "1970-01-01T00:00:01.000Z")
    );
}

#[tokio::test]
async fn non_admin_keys_on_every_keys_route_return_403() {
    let app = spawn_app().await;
    let write = secret(&new_key(&app, json!({"name": "w", "scopes": ["write"]})).await).0;
    let client = secret(&new_key(&app, json!({"name": "c", "scopes": ["client"]})).await).0;
    let target = id_of(&app, &app.a.read).await;
    let before = list(&app).await;
    let body = json!({"name": "escalated", "scopes": ["admin"]});
    for key in [&app.a.read, &app.a.eval, &write, &client] {
        let routes = [
            (Method::POST, KEYS.to_owned(), Some(body.clone())),
            (Method::GET, KEYS.to_owned(), None),
            (Method::GET, format!("{KEYS}/{target}"), None),
            (Method::POST, format!("{KEYS}/{target}/rotate"), None),
            (Method::DELETE, format!("{KEYS}/{target}"), None),
        ];
        for (method, path, body) in routes {
            let reply = app.call(key, None, method.clone(), &path, body).await;
            assert_eq!(
                (reply.0, code(&reply.1)),
                (403, "forbidden"),
                "{method} {path}: {}",
                reply.1
            );
        }
    }
    assert_eq!(list(&app).await, before, "nothing changed");
    expect_ok(app.call(&app.a.read, None, Method::GET, FLAGS, None).await);
}

#[tokio::test]
async fn tenant_b_admin_on_tenant_a_key_ids_returns_404_and_changes_nothing() {
    let app = spawn_app().await;
    expect_ok(app.evaluate(evaluation()).await);
    let eval_id = id_of(&app, &app.a.eval).await;
    let before = list(&app).await;
    let b = app.b.admin.clone();
    for (method, path) in [
        (Method::GET, format!("{KEYS}/{eval_id}")),
        (Method::POST, format!("{KEYS}/{eval_id}/rotate")),
        (Method::DELETE, format!("{KEYS}/{eval_id}")),
    ] {
        let reply = app.call(&b, None, method.clone(), &path, None).await;
        expect_error(&reply, 404, "key_not_found");
    }
    let b_keys = expect_ok(app.call(&b, None, Method::GET, KEYS, None).await);
    let b_ids: Vec<i64> = b_keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_i64().unwrap())
        .collect();
    assert_eq!(b_ids.len(), 3, "{b_keys}");
    assert!(
        before
            .iter()
            .all(|k| !b_ids.contains(&k["id"].as_i64().unwrap()))
    );
    assert_eq!(list(&app).await, before, "tenant A's keys are unchanged");
    expect_ok(app.evaluate(evaluation()).await);
}

#[tokio::test]
async fn environment_bound_admin_key_issuing_wider_keys_returns_403() {
    let app = spawn_app().await;
    let body = json!({"name": "prod admin", "scopes": ["admin"], "environment": "production"});
    let (bound, _) = secret(&new_key(&app, body).await);
    let before = list(&app).await;
    for body in [
        json!({"name": "wide", "scopes": ["read"]}),
        json!({"name": "dev", "scopes": ["read"], "environment": "development"}),
    ] {
        let reply = app.call(&bound, None, Method::POST, KEYS, Some(body)).await;
        expect_error(&reply, 403, "forbidden");
    }
    let read_id = id_of(&app, &app.a.read).await;
    let rotate = format!("{KEYS}/{read_id}/rotate");
    let reply = app.call(&bound, None, Method::POST, &rotate, None).await;
    expect_error(&reply, 403, "forbidden");
    assert_eq!(list(&app).await, before, "nothing changed");
    let body = json!({"name": "prod reader", "scopes": ["read"], "environment": "production"});
    expect_ok(app.call(&bound, None, Method::POST, KEYS, Some(body)).await);
}

#[tokio::test]
async fn key_use_sets_last_used_at_only_after_flush() {
    let test_db = TestDb::new().await;
    let app = Application::build(Settings::for_tests(test_db.url()))
        .await
        .expect("build application");
    let admin = app
        .bootstrap_keys()
        .expect("bootstrap ran")
        .management
        .clone();
    let auth = app.authenticator().clone();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client.get(format!("{address}{path}")).bearer_auth(&admin);
        async move { expect_ok(read(request.send().await.expect("request")).await) }
    };
    let keys = get(KEYS.to_owned()).await;
    let id = keys[0]["id"].as_i64().expect("admin key id");
    assert_eq!(keys[0]["name"], "bootstrap management key");
    assert_eq!(keys[0]["lastUsedAt"], Value::Null, "no write per request");
    assert!(auth.flush_last_used().await.expect("flush") >= 1);
    let key = get(format!("{KEYS}/{id}")).await;
    let used = key["lastUsedAt"].as_str().expect("last use after flush");
    assert!(used >= key["createdAt"].as_str().unwrap(), "{key}");
    assert_eq!(
        auth.flush_last_used().await.expect("flush"),
        1,
        "only the key used since"
    );
    assert_eq!(
        auth.flush_last_used().await.expect("flush"),
        0,
        "nothing used since"
    );
}

#[tokio::test]
async fn key_changes_append_one_audit_event_each() {
    let app = spawn_app().await;
    let body = json!({"name": "audited", "scopes": ["read"]});
    let (first, id) = secret(&new_key(&app, body).await);
    let rotated = expect_ok(
        app.admin(Method::POST, &format!("{KEYS}/{id}/rotate"), None)
            .await,
    );
    let (second, new_id) = secret(&rotated);
    for _ in 0..2 {
        expect_ok(
            app.admin(Method::DELETE, &format!("{KEYS}/{new_id}"), None)
                .await,
        );
    }
    let page = expect_ok(
        app.admin(Method::GET, "/api/v1/audit?action=key.", None)
            .await,
    );
    let events: Vec<(String, String)> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e.to_string()))
        .collect();
    let actions: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["key.revoke", "key.rotate", "key.create"],
        "newest first, one revoke"
    );
    for (_, event) in &events {
        for secret in [&first, &second] {
            assert!(
                !event.contains(secret.as_str()),
                "plaintext in the audit log: {event}"
            );
            assert!(
                !event.contains(&hash_key(secret)),
                "hash in the audit log: {event}"
            );
        }
    }
}
