//! Behaviour while the database is unreachable (`app.db.close()`, or on PostgreSQL and MariaDB a TCP
//! proxy in front of the database that is cut and restored): evaluation, the snapshot and the stream keep
//! answering from memory, management answers 503 with `Retry-After`, health says the database is down,
//! and the node recovers by itself when the database is back; bad keys are refused without trouble.
//! [`after_change`] covers an outage that follows a change of a tenant's environments.

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app, spawn_app_with};
use crate::tcp_proxy::Proxy;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

mod after_change;

/// Builds and enables `new-checkout` (variants 1 and 2 at 50/50) in production.
pub(crate) async fn enabled_flag(app: &TestApp) {
    let spec = [SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[50, 50],
    }];
    app.build_flag(
        &app.a.admin,
        "production",
        "new-checkout",
        &["1", "2"],
        &spec,
    )
    .await;
}

/// The fields of a result that must not change while the database is down.
fn decision(r: &Value) -> Value {
    json!([
        r["flagID"],
        r["flagSnapshotID"],
        r["segmentID"],
        r["variantID"],
        r["variantKey"],
        r["reason"]
    ])
}

/// One single, one batch and one GET evaluation with tenant A's production key.
async fn evaluate_three_ways(app: &TestApp) -> Vec<Value> {
    evaluate_three_ways_at(&app.client, &app.address, &app.a.eval).await
}

/// The same, on the server at `address` with `key`.
pub(crate) async fn evaluate_three_ways_at(
    client: &reqwest::Client,
    address: &str,
    key: &str,
) -> Vec<Value> {
    let single = json!({"flagKey": "new-checkout", "entityID": "user-1"});
    let url = format!("{address}/api/v1/evaluation");
    let req = client.post(&url).bearer_auth(key).json(&single);
    let (status, one) = read(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{one}");
    let body = json!({"entities": [{"entityID": "user-1"}, {"entityID": "alice@example.com"}],
        "flagKeys": ["new-checkout"]});
    let req = client
        .post(format!("{url}/batch"))
        .bearer_auth(key)
        .json(&body);
    let (status, batch) = read(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{batch}");
    let req = client
        .get(&url)
        .bearer_auth(key)
        .query(&[("json", single.to_string())]);
    let (status, got) = read(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{got}");
    let mut decisions = vec![decision(&one), decision(&got)];
    decisions.extend(
        batch["evaluationResults"]
            .as_array()
            .unwrap()
            .iter()
            .map(decision),
    );
    decisions
}

#[tokio::test]
async fn evaluate_while_database_is_down_returns_same_results() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let before = evaluate_three_ways(&app).await;
    assert_eq!(before[0][4], "2", "user-1 gets variant 2: {before:?}");
    assert_eq!(before[3][4], "1", "alice gets variant 1: {before:?}");
    app.db.close().await.expect("close the pool");
    for _ in 0..5 {
        assert_eq!(evaluate_three_ways(&app).await, before);
    }
}

#[tokio::test]
async fn management_while_database_is_down_returns_503_with_retry_after() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let (_, flags) = app.admin(Method::GET, "/api/v1/flags", None).await;
    let id = flags[0]["id"].as_i64().unwrap();
    let eval = json!({"flagKey": "new-checkout", "entityID": "user-1"});
    assert_eq!(
        app.evaluate(eval.clone()).await.0,
        200,
        "warms the key cache"
    );
    app.db.close().await.expect("close the pool");
    let cases = [
        (
            app.a.admin.clone(),
            Method::GET,
            "/api/v1/flags".to_owned(),
            None,
        ),
        (
            app.a.admin.clone(),
            Method::GET,
            format!("/api/v1/flags/{id}"),
            None,
        ),
        (
            app.a.admin.clone(),
            Method::POST,
            "/api/v1/flags".to_owned(),
            Some(json!({"key": "k", "description": "d"})),
        ),
        (
            app.a.admin.clone(),
            Method::PUT,
            format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": false})),
        ),
        (
            app.a.admin.clone(),
            Method::GET,
            "/api/v1/export/gitops".to_owned(),
            None,
        ),
        // A key never seen before cannot be checked either.
        (
            app.a.read.clone(),
            Method::GET,
            "/api/v1/flags".to_owned(),
            None,
        ),
    ];
    for (key, method, path, body) in cases {
        let mut req = app.request(method, &path, &key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.unwrap();
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = read(response).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(code(&body), "database_unavailable");
        let retry_after = retry_after.expect("Retry-After header");
        assert!(retry_after.to_str().unwrap().parse::<u32>().unwrap() > 0);
    }
    let (status, r) = app.evaluate(eval).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["reason"], "SPLIT",
        "the refused disable must not have reached the cache"
    );
}

#[tokio::test]
async fn health_while_database_is_down_returns_200_with_database_down() {
    let app = spawn_app().await;
    app.db.close().await.expect("close the pool");
    for path in ["/health", "/api/v1/health"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"status": "OK", "database": "down"}));
    }
}

/// Sends `n` evaluations with `key` concurrently; returns every `(status, code)`.
async fn flood(app: &TestApp, key: &str, n: usize) -> Vec<(u16, String)> {
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let req = app
            .request(Method::POST, "/api/v1/evaluation", key)
            .json(&json!({"flagKey": "new-checkout", "entityID": format!("e{i}")}));
        tasks.spawn(async move {
            let (status, body) = read(req.send().await.unwrap()).await;
            (status, code(&body).to_owned())
        });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn invalid_key_flood_returns_401_and_keeps_serving_valid_keys() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    let unknown = format!("flg_eval_{}", "Z".repeat(43));
    let refused = (401, "invalid_api_key".to_owned());
    let answers = flood(&app, &unknown, 200).await;
    assert_eq!(answers.len(), 200);
    assert!(answers.iter().all(|a| *a == refused), "{answers:?}");
    for i in 0..50 {
        let key = format!("flg_eval_{i:0>43}");
        assert_eq!(flood(&app, &key, 1).await, vec![refused.clone()]);
    }
    let (status, r) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!((status, &r["variantKey"]), (200, &json!("2")), "{r}");
    // Refusals are remembered: the flooding key is refused without the database.
    app.db.close().await.expect("close the pool");
    assert!(
        flood(&app, &unknown, 20)
            .await
            .iter()
            .all(|a| *a == refused)
    );
    let (status, r) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!(status, 200, "{r}");
}

#[tokio::test]
async fn evaluate_with_key_never_used_while_database_is_down_answers_from_warm_cache() {
    let app = spawn_app().await;
    enabled_flag(&app).await;
    app.db.close().await.unwrap();
    // The production evaluation key has not been presented yet: it was loaded into the key cache at start.
    let (status, result) = app
        .evaluate(json!({"flagKey": "new-checkout", "entityID": "user-1"}))
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["variantKey"], "2");
    assert_eq!(result["reason"], "SPLIT");
}

/// The database URL with its host and port replaced by the proxy's, and the address the proxy forwards
/// to; `None` on SQLite, which has no connection to cut.
fn through_proxy(db_url: &str, proxy_port: u16) -> Option<(String, String)> {
    let mut url = reqwest::Url::parse(db_url).ok()?;
    let port = match url.scheme() {
        "postgres" | "postgresql" => url.port().unwrap_or(5432),
        "mysql" => url.port().unwrap_or(3306),
        _ => return None,
    };
    let target = format!("{}:{port}", url.host_str()?);
    url.set_host(Some("127.0.0.1")).ok()?;
    url.set_port(Some(proxy_port)).ok()?;
    Some((url.to_string(), target))
}

/// The application with its database reached through a TCP proxy the test can cut, and the proxy;
/// `None` (with a note) on SQLite, which has no connection to cut.
pub(crate) async fn behind_proxy(
    configure: impl FnOnce(&mut flagent_config::Settings),
) -> Option<(TestApp, Proxy)> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!(
            "SQLite has no connection to cut: run with DATABASE_URL=postgres://… or mysql://…"
        );
        return None;
    };
    let proxy = Proxy::start("127.0.0.1:1").await;
    let (_, target) = through_proxy(&url, proxy.port()).expect("a PostgreSQL or MySQL URL");
    proxy.retarget(&target);
    let app = spawn_app_with(|s| {
        s.database.url = through_proxy(&s.database.url, proxy.port()).unwrap().0;
        configure(s);
    })
    .await;
    Some((app, proxy))
}

/// Polls `check` until it holds, within 20 s; a failure, never a pause.
pub(crate) async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_database_outage_keeps_evaluation_snapshot_and_stream_serving_and_the_node_recovers_alone()
 {
    let Some((app, proxy)) = behind_proxy(|_| {}).await else {
        return;
    };
    enabled_flag(&app).await;
    let before = evaluate_three_ways(&app).await;
    let snapshot = |app: &TestApp| {
        let req = app.request(Method::GET, "/api/v1/snapshot", &app.a.eval);
        async move { read(req.send().await.unwrap()).await }
    };
    let (status, held) = snapshot(&app).await;
    assert_eq!(status, 200, "{held}");

    proxy.down();
    // Management answers 503 (once the pool notices), while evaluation, the snapshot and a new stream
    // answer from memory exactly as before.
    eventually("management answers 503 during the outage", || async {
        let (status, body) = app.admin(Method::GET, "/api/v1/flags", None).await;
        status == 503 && code(&body) == "database_unavailable"
    })
    .await;
    assert_eq!(evaluate_three_ways(&app).await, before);
    assert_eq!(snapshot(&app).await, (200, held.clone()));
    let mut stream =
        crate::stream::Stream::open_at(&app.client, &app.address, &app.a.eval, &[]).await;
    let first = stream.expect().await;
    assert_eq!((first.name.as_str(), &first.data), ("snapshot", &held));

    proxy.up();
    eventually("management recovers once the database is back", || async {
        app.admin(Method::GET, "/api/v1/flags", None).await.0 == 200
    })
    .await;
    let (_, flags) = app.admin(Method::GET, "/api/v1/flags", None).await;
    let id = flags[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let change = stream.change().await;
    assert_eq!(change[0].data["flag"]["enabled"], json!(false));
}

#[tokio::test]
async fn a_node_started_while_the_database_is_down_serves_its_local_copy_and_then_recovers() {
    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("local-copy.json");
    let copy_setting = copy.to_str().unwrap().to_owned();
    let Some((app, proxy)) =
        behind_proxy(|s| s.evaluation.local_copy = Some(copy_setting.clone())).await
    else {
        return;
    };
    let proxy_port = proxy.port();
    enabled_flag(&app).await;
    let before = evaluate_three_ways(&app).await;
    eventually("the node writes its local copy", || async {
        std::fs::read_to_string(&copy).is_ok_and(|text| text.contains("new-checkout"))
    })
    .await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner may read the copy");
    }

    // The database goes away; a node starts from the copy (the first one's restart).
    proxy.down();
    let mut settings = flagent_config::Settings::for_tests(&app.db_url);
    settings.database.url = through_proxy(&app.db_url, proxy_port).unwrap().0;
    settings.evaluation.local_copy = Some(copy_setting.clone());
    settings.auth.session_secret = None;
    let node = flagent_server::Application::build(settings)
        .await
        .expect("a node with a local copy starts without its database");
    let address = format!("http://127.0.0.1:{}", node.port());
    tokio::spawn(node.run_until_stopped());
    let client = &app.client;
    assert_eq!(
        evaluate_three_ways_at(client, &address, &app.a.eval).await,
        before
    );
    let snapshot = client
        .get(format!("{address}/api/v1/snapshot"))
        .bearer_auth(&app.a.eval)
        .send()
        .await
        .unwrap();
    let (status, body) = read(snapshot).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flags"][0]["key"], "new-checkout");
    let management = |key: &str| {
        let req = client
            .get(format!("{address}/api/v1/flags"))
            .bearer_auth(key);
        async move { read(req.send().await.unwrap()).await }
    };
    let (status, body) = management(&app.a.admin).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(code(&body), "database_unavailable");

    // The database is back: the node recovers alone and follows changes made elsewhere.
    proxy.up();
    eventually("management recovers on the node", || async {
        management(&app.a.admin).await.0 == 200
    })
    .await;
    let (_, flags) = app.admin(Method::GET, "/api/v1/flags", None).await;
    let id = flags[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(
        "the node serves the change made through the other one",
        || async {
            let req = client
                .post(format!("{address}/api/v1/evaluation"))
                .bearer_auth(&app.a.eval)
                .json(&json!({"flagKey": "new-checkout", "entityID": "user-1"}));
            let (_, r) = read(req.send().await.unwrap()).await;
            r["reason"] == "DISABLED"
        },
    )
    .await;
}
