//! The real Flagent server for the tests, built in-process exactly as `main` builds it (as the server's
//! own API tests do) on a fresh database, with typed helpers: importing flags, defining metrics, forcing
//! the rollup, reading results, and counting requests from its Prometheus metrics.

use flagent_config::Settings;
use flagent_server::Application;
use flagent_testkit::TestDb;
use flagent_types::SystemScope;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;

/// A running server.
pub(crate) struct App {
    pub(crate) address: String,
    /// The bootstrapped management key (every environment of the default project).
    pub(crate) admin: String,
    /// The bootstrapped evaluation key (production).
    pub(crate) eval: String,
    analytics: Arc<flagent_analytics::Analytics>,
    http: reqwest::Client,
    _db: TestDb,
}

/// Starts the server on a fresh database.
pub(crate) async fn spawn() -> App {
    let db = TestDb::new().await;
    let app = Application::build(Settings::for_tests(db.url()))
        .await
        .expect("build the server");
    let keys = app
        .bootstrap_keys()
        .cloned()
        .expect("the bootstrap ran on an empty database");
    let analytics = app.analytics().clone();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    App {
        address,
        admin: keys.management,
        eval: keys.evaluation,
        analytics,
        http: reqwest::Client::new(),
        _db: db,
    }
}

impl App {
    /// Sends `body` with the management key in production; returns the status and JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.admin)
            .header("X-Environment", "production");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Imports a document of flags into production.
    pub(crate) async fn import(&self, document: Value) {
        let (status, body) = self
            .call(Method::POST, "/api/v1/import", Some(document))
            .await;
        assert_eq!(status, 200, "import: {body}");
    }

    /// Defines a metric in the project.
    pub(crate) async fn define_metric(&self, metric: Value) {
        let (status, body) = self
            .call(Method::POST, "/api/v1/metrics", Some(metric))
            .await;
        assert_eq!(status, 201, "metric: {body}");
    }

    /// Sets the experiment settings of flag `id`.
    pub(crate) async fn experiment(&self, id: i64, settings: Value) {
        let path = format!("/api/v1/flags/{id}/experiment");
        let (status, body) = self.call(Method::PUT, &path, Some(settings)).await;
        assert_eq!(status, 200, "experiment: {body}");
    }

    /// Writes the server-side exposures and rolls everything up, instead of waiting for the jobs.
    pub(crate) async fn settle(&self) {
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("tests");
        self.analytics
            .flush_exposures(&system)
            .await
            .expect("flush the exposures");
        loop {
            let pass = self.analytics.rollup(&system, 1_000).await.expect("rollup");
            if pass.exposures == 0 && pass.events == 0 {
                return;
            }
        }
    }

    /// The results of flag `id` in production.
    pub(crate) async fn results(&self, id: i64) -> Value {
        let path = format!("/api/v1/flags/{id}/results");
        let (status, body) = self.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "results: {body}");
        body
    }

    /// The `POST` requests to `route` the server counted, by status (from `/metrics`).
    pub(crate) async fn posts(&self, route: &str) -> Vec<(String, u64)> {
        let text = self
            .http
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        let route = format!("route=\"{route}\"");
        let mut counts: Vec<(String, u64)> = text
            .lines()
            .filter(|line| line.starts_with("flagent_http_requests_total{"))
            .filter(|line| line.contains(&route) && line.contains("method=\"POST\""))
            .filter_map(|line| {
                let status = line.split("status=\"").nth(1)?.split('"').next()?;
                let count = line.rsplit(' ').next()?.parse().ok()?;
                Some((status.to_owned(), count))
            })
            .collect();
        counts.sort();
        counts
    }
}

/// The row of `variant` in the results of `metric`.
pub(crate) fn row<'a>(results: &'a Value, metric: &str, variant: &str) -> &'a Value {
    let metrics = results["metrics"].as_array().expect("metrics");
    let m = metrics
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no metric {metric} in {results}"));
    m["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["variant"] == variant)
        .unwrap_or_else(|| panic!("no variant {variant} in {m}"))
}
