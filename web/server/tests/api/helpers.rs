//! `spawn_app()` and typed helpers shared by every API test.
#![allow(dead_code)] // Helpers are shared by test modules that each use a part of them.

use flagent_auth::{NewKey, create_key};
use flagent_config::Settings;
use flagent_server::Application;
use flagent_storage::Db;
use flagent_testkit::TestDb;
use flagent_types::{Scope, ScopeSet, SystemScope};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::LazyLock;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        flagent_telemetry::init(flagent_telemetry::Format::Pretty);
    }
});

/// API keys of one tenant.
#[derive(Debug, Clone)]
pub(crate) struct TenantKeys {
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
    _test_db: TestDb,
}

/// Starts the application exactly as `main` does, on a fresh database.
pub(crate) async fn spawn_app() -> TestApp {
    LazyLock::force(&TRACING);
    let test_db = TestDb::new().await;
    let settings = Settings::for_tests(test_db.url());
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
    let b = seed_tenant(&db, &system, "tenant-b").await;
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        a: TenantKeys {
            admin: boot.management,
            eval: boot.evaluation,
            read: read_a,
        },
        b,
        db,
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

async fn seed_tenant(db: &Db, system: &SystemScope, key: &str) -> TenantKeys {
    let outcome = flagent_tenants::create_tenant(db, system, key, key, "free")
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

/// Status and JSON body (`Value::Null` when the body is not JSON).
pub(crate) async fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The machine-readable error code of an error body.
pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}
