//! The Rust SDK (`flagent-sdk`) against the real server: a differential test on random configurations
//! (the SDK's local answers equal `/api/v1/evaluation/batch`, field by field), changes arriving through
//! the stream, reconnection after dropped connections and a restarted server, answers from the last
//! snapshot while the server is gone, the persisted file at start, and the client view for client keys.

mod differential;

use crate::helpers::{TestApp, spawn_app};
use crate::tcp_proxy::Proxy;
use flagent_config::Settings;
use flagent_sdk::{Client, Decision, SdkError, Status, View};
use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const PROD: &str = "production";
/// The longest any test waits for a condition.
const PATIENCE: Duration = Duration::from_secs(20);

/// A client of `address` with `key`, retrying fast.
async fn client(address: &str, key: &str) -> Client {
    Client::builder(address, key)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .request_timeout(Duration::from_secs(5))
        .build()
        .await
        .expect("build the SDK client")
}

/// Waits for `future`, failing the test after [`PATIENCE`] with `what`.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Imports a document into tenant A's production; asserts success.
async fn import(app: &TestApp, doc: &Value) {
    let (status, body) = app
        .call(
            &app.a.admin,
            Some(PROD),
            Method::POST,
            "/api/v1/import",
            Some(doc.clone()),
        )
        .await;
    assert_eq!(status, 200, "import failed: {body}");
}

/// The server's current revision of tenant A's production.
async fn server_revision(app: &TestApp) -> u64 {
    revision_at(app, &app.address).await
}

/// The revision of tenant A's production on the server at `address`.
async fn revision_at(app: &TestApp, address: &str) -> u64 {
    let reply = app
        .client
        .get(format!("{address}/api/v1/snapshot"))
        .bearer_auth(&app.a.eval)
        .send()
        .await
        .expect("snapshot request");
    let (status, body) = crate::helpers::read(reply).await;
    assert_eq!(status, 200, "{body}");
    body["revision"].as_u64().expect("revision")
}

/// A one-variant flag `key`, enabled or not, giving everyone `on`.
fn simple(key: &str, enabled: bool) -> Value {
    json!({"flags": [{"key": key, "description": "simple", "enabled": enabled,
        "variants": [{"key": "on"}, {"key": "off"}],
        "segments": [{"description": "everyone", "rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]}]})
}

/// The fields of a server result the SDK must reproduce.
fn server_fields(result: &Value) -> Value {
    json!([
        result["flagID"],
        result["flagKey"],
        result["segmentID"],
        result["variantID"],
        result["variantKey"],
        result["variantAttachment"],
        result["reason"]
    ])
}

/// The same fields of an SDK decision.
fn sdk_fields(decision: &Decision) -> Value {
    json!([
        decision.flag_id.unwrap_or(0),
        decision.flag_key,
        decision.segment_id,
        decision.variant_id,
        decision.variant_key,
        decision.variant_attachment,
        decision.reason.as_str()
    ])
}

/// One round: import random flags, then compare the SDK with the batch API on random entities.
async fn differential_round(app: &TestApp, rng: &mut StdRng, round: usize, seed: u64) {
    let doc = differential::document(rng, &format!("r{round}"), 12);
    import(app, &doc).await;
    let sdk = client(&app.address, &app.a.eval).await;
    assert_eq!(sdk.revision(), server_revision(app).await, "seed {seed}");
    let mut keys: Vec<String> = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect();
    keys.push("no-such-flag".to_owned());
    let entities: Vec<Value> = (0..40)
        .map(|i| {
            json!({"entityID": format!("entity-{round}-{i}-{}", rand::Rng::random::<u32>(rng)),
            "entityContext": differential::context(rng)})
        })
        .collect();
    let body = json!({"entities": entities, "flagKeys": keys});
    let (status, reply) = app
        .call(
            &app.a.eval,
            None,
            Method::POST,
            "/api/v1/evaluation/batch",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "seed {seed}: {reply}");
    let results = reply["evaluationResults"].as_array().expect("results");
    assert_eq!(results.len(), entities.len() * keys.len(), "seed {seed}");
    let pairs = entities
        .iter()
        .flat_map(|e| keys.iter().map(move |k| (e, k)));
    for ((entity, key), result) in pairs.zip(results) {
        let id = entity["entityID"].as_str().unwrap();
        let local = sdk.evaluate(key, id, &entity["entityContext"]);
        assert_eq!(
            sdk_fields(&local),
            server_fields(result),
            "seed {seed} (FLAGENT_SDK_SEED={seed} reproduces it), round {round}, flag {key}, entity {entity}\nflag: {}",
            doc["flags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == *key)
                .unwrap_or(&Value::Null)
        );
    }
}

#[tokio::test]
async fn sdk_answers_equal_the_evaluation_api_on_random_configurations() {
    let seed = std::env::var("FLAGENT_SDK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("differential seed {seed} (set FLAGENT_SDK_SEED to repeat)");
    let app = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..4 {
        differential_round(&app, &mut rng, round, seed).await;
    }
}

#[tokio::test]
async fn sdk_picks_up_a_flag_change_through_the_stream() {
    let app = spawn_app().await;
    import(&app, &simple("banner", false)).await;
    let sdk = client(&app.address, &app.a.eval).await;
    assert_eq!(
        sdk.evaluate("banner", "u1", &json!({})).reason.as_str(),
        "DISABLED"
    );
    within(
        "the stream to connect",
        sdk.wait_for_status(Status::Connected),
    )
    .await;
    import(&app, &simple("banner", true)).await;
    let revision = server_revision(&app).await;
    within("the change", sdk.wait_for_revision(revision)).await;
    assert!(sdk.bool_value("banner", "u1", &json!({}), false));
    import(&app, &simple("second", true)).await;
    within("the new flag", sdk.wait_for_revision(revision + 1)).await;
    assert_eq!(
        sdk.evaluate("second", "u1", &json!({}))
            .variant_key
            .as_deref(),
        Some("on")
    );
}

#[tokio::test]
async fn sdk_reconnects_after_the_connection_drops_and_catches_up() {
    let app = spawn_app().await;
    import(&app, &simple("banner", false)).await;
    let proxy = Proxy::start(&app.address).await;
    let sdk = client(&proxy.address, &app.a.eval).await;
    within(
        "the stream to connect",
        sdk.wait_for_status(Status::Connected),
    )
    .await;
    proxy.down();
    within("the client to notice", sdk.wait_for_status(Status::Stale)).await;
    import(&app, &simple("banner", true)).await;
    let revision = server_revision(&app).await;
    assert!(sdk.revision() < revision);
    assert!(
        !sdk.bool_value("banner", "u1", &json!({}), false),
        "the last snapshot still answers"
    );
    proxy.up();
    within(
        "the change after reconnecting",
        sdk.wait_for_revision(revision),
    )
    .await;
    within(
        "the stream to reconnect",
        sdk.wait_for_status(Status::Connected),
    )
    .await;
    assert!(sdk.bool_value("banner", "u1", &json!({}), false));
}

#[tokio::test]
async fn sdk_follows_a_restarted_server() {
    let app = spawn_app().await;
    import(&app, &simple("banner", false)).await;
    let proxy = Proxy::start(&app.address).await;
    let sdk = client(&proxy.address, &app.a.eval).await;
    within(
        "the stream to connect",
        sdk.wait_for_status(Status::Connected),
    )
    .await;
    proxy.down();
    // A new server process on the same database: nothing of the first one's memory.
    let restarted = flagent_server::Application::build(Settings::for_tests(&app.db_url))
        .await
        .expect("restart");
    let address = format!("http://127.0.0.1:{}", restarted.port());
    tokio::spawn(restarted.run_until_stopped());
    let (status, body) = app
        .client
        .post(format!("{address}/api/v1/import"))
        .bearer_auth(&app.a.admin)
        .header("X-Environment", PROD)
        .json(&simple("banner", true))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("import on the restarted server");
    assert_eq!(status, 200, "{:?}", body.text().await);
    let revision = revision_at(&app, &address).await;
    assert!(revision > sdk.revision());
    proxy.retarget(&address);
    proxy.up();
    within(
        "the change from the restarted server",
        sdk.wait_for_revision(revision),
    )
    .await;
    assert!(sdk.bool_value("banner", "u1", &json!({}), false));
}

#[tokio::test]
async fn sdk_keeps_answering_from_the_last_snapshot_when_the_server_is_gone() {
    let app = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(7);
    import(&app, &differential::document(&mut rng, "gone", 8)).await;
    let proxy = Proxy::start(&app.address).await;
    let sdk = client(&proxy.address, &app.a.eval).await;
    let contexts: Vec<Value> = (0..20).map(|_| differential::context(&mut rng)).collect();
    let answers = |sdk: &Client| -> Vec<Decision> {
        contexts
            .iter()
            .enumerate()
            .flat_map(|(i, c)| (0..8).map(move |f| (i, c, f)))
            .map(|(i, c, f)| sdk.evaluate(&format!("gone-{f}"), &format!("user-{i}"), c))
            .collect()
    };
    let before = answers(&sdk);
    assert!(
        before.iter().any(|d| d.variant_id.is_some()),
        "some flag gives a variant"
    );
    proxy.down();
    within("the client to notice", sdk.wait_for_status(Status::Stale)).await;
    assert_eq!(answers(&sdk), before);
}

#[tokio::test]
async fn sdk_starts_from_the_persisted_file_when_the_server_is_unreachable() {
    let app = spawn_app().await;
    import(&app, &simple("banner", true)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flags.json");
    let proxy = Proxy::start(&app.address).await;
    let online = Client::builder(&proxy.address, &app.a.eval)
        .persist_to(&file)
        .build()
        .await
        .unwrap();
    let revision = online.revision();
    let decision = online.evaluate("banner", "u1", &json!({}));
    drop(online);
    proxy.down();
    let offline = Client::builder(&proxy.address, &app.a.eval)
        .persist_to(&file)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    assert_eq!(offline.status(), Status::Offline);
    assert_eq!(offline.revision(), revision);
    assert_eq!(offline.evaluate("banner", "u1", &json!({})), decision);
    proxy.up();
    within(
        "the client to reconnect",
        offline.wait_for_status(Status::Connected),
    )
    .await;
    import(&app, &simple("banner", false)).await;
    let changed = server_revision(&app).await;
    within("the change", offline.wait_for_revision(changed)).await;
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["revision"], changed, "the file follows the changes");
    drop(offline);
    std::fs::write(&file, b"{ not json").unwrap();
    proxy.down();
    let empty = Client::builder(&proxy.address, &app.a.eval)
        .persist_to(&file)
        .build()
        .await
        .unwrap();
    assert_eq!(empty.status(), Status::Offline);
    assert_eq!(empty.revision(), 0, "a file that does not parse is ignored");
    assert_eq!(
        empty.evaluate("banner", "u1", &json!({})).reason.as_str(),
        "FLAG_NOT_FOUND"
    );
}

#[tokio::test]
async fn sdk_with_a_client_key_gets_the_client_view() {
    let app = spawn_app().await;
    import(&app, &simple("banner", true)).await;
    let (status, made) = app
        .call(
            &app.a.admin,
            None,
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "browser", "scopes": ["client"], "environment": PROD})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().unwrap();
    let browser = client(&app.address, key).await;
    assert_eq!(browser.view(), Some(View::Client));
    let snapshot = browser.snapshot();
    let flag = snapshot.flag_by_key("banner").expect("the flag");
    assert!(
        flag.config()
            .segments
            .iter()
            .all(|s| s.description.is_empty())
    );
    assert!(browser.bool_value("banner", "u1", &json!({}), false));
    let server = client(&app.address, &app.a.eval).await;
    assert_eq!(server.view(), Some(View::Server));
    let snapshot = server.snapshot();
    let flag = snapshot.flag_by_key("banner").unwrap();
    assert_eq!(flag.config().segments[0].description, "everyone");
}

#[tokio::test]
async fn sdk_with_an_unknown_key_fails_to_build() {
    let app = spawn_app().await;
    let refused = Client::builder(&app.address, "flg_eval_not_a_real_key")
        .build()
        .await;
    assert!(
        matches!(refused, Err(SdkError::Unauthorized { status: 401 })),
        "{refused:?}"
    );
}
