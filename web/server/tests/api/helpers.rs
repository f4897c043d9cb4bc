//! `spawn_app()` and typed helpers shared by every API test.
#![allow(dead_code)] // Helpers are shared by test modules that each use a part of them.

use flagent_auth::{NewKey, create_key};
use flagent_config::Settings;
use flagent_server::Application;
use flagent_storage::Db;
use flagent_tenants::usage::Usage;
use flagent_testkit::TestDb;
use flagent_types::{Scope, ScopeSet, SystemScope, TenantId};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        flagent_telemetry::init(flagent_telemetry::Format::Pretty);
    }
});

/// API keys of one tenant.
#[derive(Debug, Clone)]
pub(crate) struct TenantKeys {
    /// The tenant's id.
    pub(crate) id: TenantId,
    /// Admin key for every environment of the default project.
    pub(crate) admin: String,
    /// Evaluation key bound to `production`.
    pub(crate) eval: String,
    /// Read-only key for every environment.
    pub(crate) read: String,
}

/// A running application on its own database, with two tenants.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    /// The bootstrapped tenant.
    pub(crate) a: TenantKeys,
    /// A second tenant, for isolation tests.
    pub(crate) b: TenantKeys,
    /// The application's database handle (closing it simulates an outage).
    pub(crate) db: Db,
    /// The database's URL, for statements that bypass the application.
    pub(crate) db_url: String,
    /// The application's evaluation counters (tests flush them instead of waiting for the task).
    pub(crate) usage: Arc<Usage>,
    /// The bootstrapped owner of tenant A (also an operator of the server).
    pub(crate) owner: Credentials,
    /// Measurement (tests flush exposures and roll up instead of waiting for the jobs).
    pub(crate) analytics: Arc<flagent_analytics::Analytics>,
    _test_db: TestDb,
}

/// An email and password that sign in.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The user's id.
    pub(crate) user_id: i64,
    /// The user's email.
    pub(crate) email: String,
    /// The session token (Bearer, or the `flagent_session` cookie's value).
    pub(crate) token: String,
    /// The CSRF value cookie-authenticated requests that change data send as `X-CSRF-Token`.
    pub(crate) csrf: String,
}

/// The password every test user gets.
pub(crate) const TEST_PASSWORD: &str = "correct horse battery staple";

/// Starts the application exactly as `main` does, on a fresh database.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application with settings changed by `configure`.
pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    LazyLock::force(&TRACING);
    let test_db = TestDb::new().await;
    let mut settings = Settings::for_tests(test_db.url());
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("build application");
    let boot = app
        .bootstrap_keys()
        .cloned()
        .expect("bootstrap ran on an empty database");
    let db = app.db().clone();
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let read_a = extra_key(&db, &system, "default", ScopeSet::of(&[Scope::Read])).await;
    let b = seed_tenant(&db, &system, "tenant-b", "free").await;
    let usage = app.usage().clone();
    let analytics = app.analytics().clone();
    let owner = Credentials {
        email: boot.owner_email.clone(),
        password: boot
            .owner_password
            .clone()
            .expect("the owner password is generated when none is configured"),
    };
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let a = db.system(&system).tenant_by_key("default").await.unwrap();
    TestApp {
        address,
        client: reqwest::Client::new(),
        a: TenantKeys {
            id: TenantId(a.expect("the bootstrapped tenant").id),
            admin: boot.management,
            eval: boot.evaluation,
            read: read_a,
        },
        b,
        db,
        db_url: test_db.url().to_owned(),
        usage,
        owner,
        analytics,
        _test_db: test_db,
    }
}

async fn extra_key(db: &Db, system: &SystemScope, tenant_key: &str, scopes: ScopeSet) -> String {
    let tenant = db
        .system(system)
        .tenant_by_key(tenant_key)
        .await
        .unwrap()
        .unwrap();
    let tdb = db.scoped_for_system(system, flagent_types::TenantId(tenant.id));
    let project = tdb.project_by_key("default").await.unwrap().unwrap();
    let key = NewKey {
        name: "test key".into(),
        scopes,
        project_id: project.id,
        environment_id: None,
        expires_at: None,
        plaintext: None,
    };
    create_key(&tdb, key, 0).await.unwrap().plaintext
}

/// Creates tenant `key` on `plan` (a `default` project with `development` and `production`) with an
/// admin key, a production evaluation key and a read key.
pub(crate) async fn seed_tenant(
    db: &Db,
    system: &SystemScope,
    key: &str,
    plan: &str,
) -> TenantKeys {
    let outcome = flagent_tenants::create_tenant(db, system, key, key, plan)
        .await
        .unwrap();
    let tdb = db.scoped_for_system(system, outcome.tenant);
    let production = outcome
        .environments
        .iter()
        .find(|e| e.key == "production")
        .map(|e| e.id);
    let mk = |scopes: ScopeSet, env: Option<i64>| NewKey {
        name: format!("{key} key"),
        scopes,
        project_id: outcome.project_id,
        environment_id: env,
        expires_at: None,
        plaintext: None,
    };
    TenantKeys {
        id: outcome.tenant,
        admin: create_key(&tdb, mk(ScopeSet::of(&[Scope::Admin]), None), 0)
            .await
            .unwrap()
            .plaintext,
        eval: create_key(&tdb, mk(ScopeSet::of(&[Scope::Evaluate]), production), 0)
            .await
            .unwrap()
            .plaintext,
        read: create_key(&tdb, mk(ScopeSet::of(&[Scope::Read]), None), 0)
            .await
            .unwrap()
            .plaintext,
    }
}

impl TestApp {
    /// Writes the server-side exposures and rolls everything up.
    pub(crate) async fn settle(&self) {
        #[allow(clippy::disallowed_methods)]
        let system = flagent_types::SystemScope::assume_system("tests");
        self.analytics
            .flush_exposures(&system)
            .await
            .expect("flush");
        loop {
            let pass = self.analytics.rollup(&system, 1_000).await.expect("rollup");
            if pass == flagent_analytics::Pass::default() {
                break;
            }
        }
    }

    /// Creates another tenant, `key`, on `plan`, with its keys.
    pub(crate) async fn tenant_on_plan(&self, key: &str, plan: &str) -> TenantKeys {
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("test fixtures");
        seed_tenant(&self.db, &system, key, plan).await
    }

    /// A request to `path` (relative to the server) with `key` as Bearer token.
    pub(crate) fn request(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(key)
    }

    /// Sends a JSON body with tenant A's admin key and returns status and body.
    pub(crate) async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.request(method, path, &self.a.admin);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request")).await
    }

    /// Creates a flag in tenant A and returns its JSON.
    pub(crate) async fn create_flag(&self, key: &str) -> Value {
        let (status, flag) = self
            .admin(
                Method::POST,
                "/api/v1/flags",
                Some(json!({"key": key, "description": format!("{key} flag")})),
            )
            .await;
        assert_eq!(status, 200, "{flag}");
        flag
    }

    /// Evaluates with tenant A's production evaluation key.
    pub(crate) async fn evaluate(&self, body: Value) -> (u16, Value) {
        let req = self
            .request(Method::POST, "/api/v1/evaluation", &self.a.eval)
            .json(&body);
        read(req.send().await.expect("request")).await
    }
}

/// Status and JSON body (`Value::Null` when the body is not JSON). An event stream, which never ends,
/// is read up to its first event, whose text is returned as a JSON string.
pub(crate) async fn read(mut response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        let mut text = String::new();
        while !text.contains("\ndata: ") || !text.ends_with("\n\n") {
            match response.chunk().await {
                Ok(Some(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        return (status, Value::String(text));
    }
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The machine-readable error code of an error body.
pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

/// A segment for [`TestApp::build_flag`]: AND-ed constraints `(property, operator, value)`, the rollout,
/// and one percent per variant in creation order (0 leaves the variant out of the distribution).
pub(crate) struct SegmentSpec<'a> {
    pub(crate) constraints: &'a [(&'a str, &'a str, &'a str)],
    pub(crate) rollout: i64,
    pub(crate) percents: &'a [i64],
}

/// The ids of a flag made by [`TestApp::build_flag`].
#[derive(Debug, Clone)]
pub(crate) struct BuiltFlag {
    pub(crate) id: i64,
    /// Variant ids in creation order (which is ascending id order).
    pub(crate) variants: Vec<i64>,
    /// Segment ids in visiting order.
    pub(crate) segments: Vec<i64>,
}

impl TestApp {
    /// Sends an optional JSON body with `key`, in environment `env` (`X-Environment`) when given, and
    /// returns status and body.
    pub(crate) async fn call(
        &self,
        key: &str,
        env: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.request(method, path, key);
        if let Some(env) = env {
            req = req.header("X-Environment", env);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request")).await
    }

    /// Like [`TestApp::admin`], in tenant A's `production` environment.
    pub(crate) async fn admin_prod(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(&self.a.admin, Some("production"), method, path, body)
            .await
    }

    /// Creates custom role `key` (named `name`) with `permissions` in tenant A with the admin key,
    /// asserting 201; returns it.
    pub(crate) async fn create_role(&self, key: &str, name: &str, permissions: &[&str]) -> Value {
        let body = json!({"key": key, "name": name, "permissions": permissions});
        let (status, role) = self.admin(Method::POST, "/api/v1/roles", Some(body)).await;
        assert_eq!(status, 201, "create role {key}: {role}");
        role
    }

    /// Turns tenant A's flag `id` on in `env` with the admin key, asserting 200.
    pub(crate) async fn enable_in(&self, env: &str, id: i64) {
        let path = format!("/api/v1/flags/{id}/enabled");
        let on = Some(json!({"enabled": true}));
        let (status, body) = self
            .call(&self.a.admin, Some(env), Method::PUT, &path, on)
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Creates a flag with `admin` (a tenant's admin key), gives it `variants` (in this order, so their
    /// ids ascend in this order), adds `segments` in `env` and enables it there.
    pub(crate) async fn build_flag(
        &self,
        admin: &str,
        env: &str,
        key: &str,
        variants: &[&str],
        segments: &[SegmentSpec<'_>],
    ) -> BuiltFlag {
        let ok = |(status, body): (u16, Value)| {
            assert_eq!(status, 200, "building flag {key}: {body}");
            body
        };
        let body = json!({"key": key, "description": format!("{key} flag")});
        let flag = ok(self
            .call(admin, Some(env), Method::POST, "/api/v1/flags", Some(body))
            .await);
        let id = flag["id"].as_i64().expect("flag id");
        let mut built = BuiltFlag {
            id,
            variants: Vec::new(),
            segments: Vec::new(),
        };
        let path = format!("/api/v1/flags/{id}/variants");
        for v in variants {
            let body = Some(json!({"key": v}));
            let variant = ok(self.call(admin, Some(env), Method::POST, &path, body).await);
            built
                .variants
                .push(variant["id"].as_i64().expect("variant id"));
        }
        for s in segments {
            built
                .segments
                .push(self.add_segment(admin, env, &built, s).await);
        }
        let path = format!("/api/v1/flags/{id}/enabled");
        let body = Some(json!({"enabled": true}));
        ok(self.call(admin, Some(env), Method::PUT, &path, body).await);
        built
    }

    /// Adds one segment (with its constraints and distribution) to a built flag; returns its id.
    pub(crate) async fn add_segment(
        &self,
        admin: &str,
        env: &str,
        flag: &BuiltFlag,
        spec: &SegmentSpec<'_>,
    ) -> i64 {
        let id = flag.id;
        let (status, segment) = self
            .call(
                admin,
                Some(env),
                Method::POST,
                &format!("/api/v1/flags/{id}/segments"),
                Some(json!({"description": "segment", "rolloutPercent": spec.rollout})),
            )
            .await;
        assert_eq!(status, 200, "{segment}");
        let sid = segment["id"].as_i64().expect("segment id");
        for (property, operator, value) in spec.constraints {
            let body = json!({"property": property, "operator": operator, "value": value});
            let path = format!("/api/v1/flags/{id}/segments/{sid}/constraints");
            let (status, c) = self
                .call(admin, Some(env), Method::POST, &path, Some(body))
                .await;
            assert_eq!(status, 200, "{c}");
        }
        let distributions: Vec<Value> = flag
            .variants
            .iter()
            .zip(spec.percents)
            .filter(|(_, p)| **p > 0)
            .map(|(v, p)| json!({"variantID": v, "percent": p}))
            .collect();
        if !distributions.is_empty() {
            let path = format!("/api/v1/flags/{id}/segments/{sid}/distributions");
            let body = json!({ "distributions": distributions });
            let (status, d) = self
                .call(admin, Some(env), Method::PUT, &path, Some(body))
                .await;
            assert_eq!(status, 200, "{d}");
        }
        sid
    }

    /// Evaluates `body` through `POST /api/v1/evaluation` with `key`.
    pub(crate) async fn evaluate_with(&self, key: &str, body: Value) -> (u16, Value) {
        self.call(key, None, Method::POST, "/api/v1/evaluation", Some(body))
            .await
    }
}

/// What tenant A's admin sees of one flag: its JSON and snapshot count in each environment. Compare two
/// of these to prove that a request changed nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlagObservation {
    pub(crate) development: Value,
    pub(crate) production: Value,
    pub(crate) development_snapshots: usize,
    pub(crate) production_snapshots: usize,
}

/// Asserts an error answer (status, machine-readable code, and the Flagr-compatible top-level
/// `message`); returns the body.
pub(crate) fn expect_error(reply: &(u16, Value), status: u16, error_code: &str) -> Value {
    let (got, body) = reply;
    assert_eq!(*got, status, "{body}");
    assert_eq!(code(body), error_code, "{body}");
    assert_eq!(body["message"], body["error"]["message"], "{body}");
    body.clone()
}

/// Asserts a `400 validation_failed` answer about `field`; returns the body.
pub(crate) fn expect_invalid(reply: &(u16, Value), field: &str) -> Value {
    let body = expect_error(reply, 400, "validation_failed");
    assert_eq!(body["error"]["field"], field, "{body}");
    body
}

/// Asserts a 200 answer and returns its body.
pub(crate) fn expect_ok(reply: (u16, Value)) -> Value {
    assert_eq!(reply.0, 200, "{}", reply.1);
    reply.1
}

impl TestApp {
    /// `GET` with tenant A's admin key in `development`.
    pub(crate) async fn admin_get(&self, path: &str) -> (u16, Value) {
        self.admin(Method::GET, path, None).await
    }

    /// `POST` of a JSON body with tenant A's admin key in `development`.
    pub(crate) async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(Method::POST, path, Some(body)).await
    }

    /// `PUT` of a JSON body with tenant A's admin key in `development`.
    pub(crate) async fn admin_put(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(Method::PUT, path, Some(body)).await
    }

    /// `DELETE` with tenant A's admin key in `development`.
    pub(crate) async fn admin_delete(&self, path: &str) -> (u16, Value) {
        self.admin(Method::DELETE, path, None).await
    }

    /// `updatedBy` / `createdBy` as written for tenant A's bootstrap admin key.
    pub(crate) fn admin_actor(&self) -> String {
        let prefix: String = self.a.admin.chars().take(14).collect();
        format!("key:bootstrap management key ({prefix})")
    }

    /// `GET /flags/{id}` with tenant A's admin key in `env`, asserting 200.
    pub(crate) async fn flag_json(&self, env: &str, id: i64) -> Value {
        let path = format!("/api/v1/flags/{id}");
        let (status, flag) = self
            .call(&self.a.admin, Some(env), Method::GET, &path, None)
            .await;
        assert_eq!(status, 200, "{flag}");
        flag
    }

    /// The number of snapshots of a flag in `env`.
    pub(crate) async fn snapshot_count(&self, env: &str, id: i64) -> usize {
        let path = format!("/api/v1/flags/{id}/snapshots?limit=1000");
        let (status, list) = self
            .call(&self.a.admin, Some(env), Method::GET, &path, None)
            .await;
        assert_eq!(status, 200, "{list}");
        list.as_array().expect("snapshot list").len()
    }

    /// The flag as tenant A sees it in both environments.
    pub(crate) async fn observe_flag(&self, id: i64) -> FlagObservation {
        FlagObservation {
            development: self.flag_json("development", id).await,
            production: self.flag_json("production", id).await,
            development_snapshots: self.snapshot_count("development", id).await,
            production_snapshots: self.snapshot_count("production", id).await,
        }
    }

    /// Adds a variant to a flag of tenant A, asserting 200; returns its id.
    pub(crate) async fn new_variant(&self, flag_id: i64, key: &str, attachment: Value) -> i64 {
        let path = format!("/api/v1/flags/{flag_id}/variants");
        let body = json!({"key": key, "attachment": attachment});
        let (status, variant) = self.admin(Method::POST, &path, Some(body)).await;
        assert_eq!(status, 200, "{variant}");
        variant["id"].as_i64().expect("variant id")
    }

    /// Adds a segment to a flag of tenant A in `env`, asserting 200; returns its id.
    pub(crate) async fn new_segment(&self, env: &str, flag_id: i64, rollout: i64) -> i64 {
        let path = format!("/api/v1/flags/{flag_id}/segments");
        let body = json!({"description": "segment", "rolloutPercent": rollout});
        let (status, segment) = self
            .call(&self.a.admin, Some(env), Method::POST, &path, Some(body))
            .await;
        assert_eq!(status, 200, "{segment}");
        segment["id"].as_i64().expect("segment id")
    }

    /// A flag of tenant A with variants `control` and `treatment`, tag `team-a`, and in `development` one
    /// segment (rollout 50) constrained on `country EQ "CA"` splitting 50/50; returns its development JSON.
    pub(crate) async fn configured_flag(&self, key: &str) -> Value {
        let id = self.create_flag(key).await["id"].as_i64().expect("flag id");
        let control = self
            .new_variant(id, "control", json!({"color": "blue"}))
            .await;
        let treatment = self
            .new_variant(id, "treatment", json!({"color": "green", "n": [1, 2]}))
            .await;
        let sid = self.new_segment("development", id, 50).await;
        let base = format!("/api/v1/flags/{id}/segments/{sid}");
        let constraint = json!({"property": "country", "operator": "EQ", "value": "\"CA\""});
        let (status, body) = self
            .admin(
                Method::POST,
                &format!("{base}/constraints"),
                Some(constraint),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let split = json!({"distributions": [
            {"variantID": control, "percent": 50},
            {"variantID": treatment, "percent": 50},
        ]});
        let (status, body) = self
            .admin(Method::PUT, &format!("{base}/distributions"), Some(split))
            .await;
        assert_eq!(status, 200, "{body}");
        let tag = Some(json!({"value": "team-a"}));
        let path = format!("/api/v1/flags/{id}/tags");
        let (status, body) = self.admin(Method::POST, &path, tag).await;
        assert_eq!(status, 200, "{body}");
        self.flag_json("development", id).await
    }

    /// Signs in and returns the session (panics unless the login succeeds).
    pub(crate) async fn login(&self, email: &str, password: &str) -> Session {
        let (status, body) = self.try_login(email, password).await;
        assert_eq!(status, 200, "login of {email}: {body}");
        Session {
            user_id: body["user"]["id"].as_i64().expect("user id"),
            email: email.to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            csrf: body["csrfToken"].as_str().expect("csrf").to_owned(),
        }
    }

    /// Tries to sign in; returns status and body.
    pub(crate) async fn try_login(&self, email: &str, password: &str) -> (u16, Value) {
        let req = self
            .client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&json!({"email": email, "password": password}));
        read(req.send().await.expect("request")).await
    }

    /// The bootstrapped owner of tenant A, signed in.
    pub(crate) async fn owner_session(&self) -> Session {
        self.login(&self.owner.email, &self.owner.password).await
    }

    /// The token in the newest mail to `email` whose subject contains `subject` (the body's last line).
    pub(crate) async fn mailed_token(&self, email: &str, subject: &str) -> String {
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("test fixtures");
        let mail = self
            .db
            .system(&system)
            .mail_to(email)
            .await
            .unwrap()
            .into_iter()
            .rev()
            .find(|m| m.subject.contains(subject))
            .unwrap_or_else(|| panic!("no mail to {email} about {subject:?}"));
        mail.body
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.contains(' '))
            .expect("a token line")
            .trim()
            .to_owned()
    }

    /// Invites `email` into tenant A with `role` (using A's admin key), accepts the invitation with
    /// [`TEST_PASSWORD`] and signs in.
    pub(crate) async fn member(&self, email: &str, role: &str) -> Session {
        self.member_of(&self.a.admin, email, role).await
    }

    /// Invites `email` with `role` using the tenant's `admin_key`, accepts and signs in.
    pub(crate) async fn member_of(&self, admin_key: &str, email: &str, role: &str) -> Session {
        let (status, body) = read(
            self.request(Method::POST, "/api/v1/invitations", admin_key)
                .json(&json!({"email": email, "role": role}))
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_eq!(status, 201, "invite {email} as {role}: {body}");
        let token = self.mailed_token(email, "Join").await;
        let (status, body) = read(
            self.client
                .post(format!("{}/api/v1/invitations/accept", self.address))
                .json(&json!({"token": token, "password": TEST_PASSWORD, "name": email}))
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_eq!(status, 200, "accept invitation of {email}: {body}");
        self.login(email, TEST_PASSWORD).await
    }

    /// A request with `session` as Bearer token, in `tenant` (`X-Tenant-ID`) when given.
    pub(crate) fn as_user(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        tenant: Option<TenantId>,
    ) -> RequestBuilder {
        let mut req = self.request(method, path, &session.token);
        if let Some(tenant) = tenant {
            req = req.header("X-Tenant-ID", tenant.0.to_string());
        }
        req
    }
}

/// The row of `variant` in the results of `metric`.
pub(crate) fn row<'a>(results: &'a Value, metric: &str, variant: &str) -> &'a Value {
    let m = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no metric {metric} in {results}"));
    m["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["variant"] == variant)
        .unwrap_or_else(|| panic!("no variant {variant} in {m}"))
}

/// Asserts `actual` is a number within `tolerance` of `expected`.
pub(crate) fn close(actual: &Value, expected: f64, tolerance: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}
