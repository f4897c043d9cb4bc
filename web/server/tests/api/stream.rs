//! `GET /api/v1/stream`: the Server-Sent Events that keep local-evaluation SDKs current. The first
//! event is the snapshot; changes arrive as `flag.updated` / `flag.deleted` with the revision (which
//! applied to the snapshot give the server's configuration), then an OFREP `refetchEvaluation`;
//! `Last-Event-ID` replays only what changed; heartbeats carry the revision; a revoked key's stream
//! ends; client keys get the client view; tenants stay apart. OFREP's bulk answer links the stream.

use crate::helpers::{SegmentSpec, TestApp, read, spawn_app, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const PROD: &str = "production";

/// Longest wait for one event; a failure, never a pause.
const PATIENCE: Duration = Duration::from_secs(20);

/// One parsed event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) name: String,
    pub(crate) id: Option<String>,
    pub(crate) data: Value,
}

/// An open stream, read event by event.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: String,
    retry: Option<u64>,
}

impl Stream {
    async fn open(app: &TestApp, key: &str, headers: &[(&str, &str)]) -> Stream {
        Stream::open_at(&app.client, &app.address, key, headers).await
    }

    /// Opens the stream of the server at `address` with `key`.
    pub(crate) async fn open_at(
        client: &reqwest::Client,
        address: &str,
        key: &str,
        headers: &[(&str, &str)],
    ) -> Stream {
        let mut req = client
            .get(format!("{address}/api/v1/stream"))
            .bearer_auth(key);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let response = req.send().await.expect("request");
        assert_eq!(response.status(), 200);
        let kind = response.headers().get("content-type").unwrap();
        assert_eq!(kind.to_str().unwrap(), "text/event-stream");
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-cache");
        Stream {
            response,
            buffer: String::new(),
            retry: None,
        }
    }

    /// The next event, or `None` when the server ended the stream.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    name: "message".to_owned(),
                    id: None,
                    data: Value::Null,
                };
                let mut data = None;
                for line in block.lines().filter(|l| !l.is_empty()) {
                    match line.split_once(": ") {
                        Some(("event", v)) => event.name = v.to_owned(),
                        Some(("id", v)) => event.id = Some(v.to_owned()),
                        Some(("data", v)) => data = Some(v.to_owned()),
                        Some(("retry", v)) => self.retry = v.parse().ok(),
                        _ => panic!("unexpected line {line:?}"),
                    }
                }
                let Some(data) = data else { continue };
                event.data = serde_json::from_str(&data).expect("data is JSON");
                return Some(event);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("an event within the patience")
                .expect("the stream reads");
            self.buffer
                .push_str(std::str::from_utf8(&chunk?).expect("UTF-8"));
        }
    }

    pub(crate) async fn expect(&mut self) -> Event {
        self.next().await.expect("the stream is open")
    }

    /// The events of the next change, up to its OFREP `refetchEvaluation` message (heartbeats skipped).
    pub(crate) async fn change(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let event = self.expect().await;
            if event.name == "heartbeat" {
                continue;
            }
            if event.name == "message" {
                assert_eq!(event.data, json!({"type": "refetchEvaluation"}));
                assert_eq!(event.id, None);
                return events;
            }
            assert!(
                event.name == "flag.updated" || event.name == "flag.deleted",
                "{event:?}"
            );
            events.push(event);
        }
    }
}

/// The configuration a client builds: flags by id from a snapshot, changed by events.
fn replay(snapshot: &Value, changes: &[Event]) -> (u64, BTreeMap<i64, Value>) {
    let mut flags: BTreeMap<i64, Value> = snapshot["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_i64().unwrap(), f.clone()))
        .collect();
    let mut revision = snapshot["revision"].as_u64().unwrap();
    for event in changes {
        revision = event.data["revision"].as_u64().unwrap();
        match event.name.as_str() {
            "flag.updated" => {
                let flag = event.data["flag"].clone();
                flags.insert(flag["id"].as_i64().unwrap(), flag);
            }
            "flag.deleted" => {
                flags.remove(&event.data["flagID"].as_i64().unwrap());
            }
            other => panic!("unexpected {other}"),
        }
    }
    (revision, flags)
}

/// `GET /api/v1/snapshot` as `key`.
async fn snapshot(app: &TestApp, key: &str) -> Value {
    let (status, body) = read(
        app.request(Method::GET, "/api/v1/snapshot", key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn seed(app: &TestApp) -> (i64, i64) {
    let split = SegmentSpec {
        constraints: &[("country", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    };
    let first = app
        .build_flag(&app.a.admin, PROD, "checkout", &["a", "b"], &[split])
        .await;
    let all = SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[100],
    };
    let second = app
        .build_flag(&app.a.admin, PROD, "banner", &["on"], &[all])
        .await;
    (first.id, second.id)
}

async fn toggle(app: &TestApp, admin: &str, id: i64, enabled: bool) {
    let (status, body) = app
        .call(
            admin,
            Some(PROD),
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": enabled})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_stream_starts_with_the_snapshot_and_its_changes_rebuild_the_server_configuration() {
    let app = spawn_app().await;
    let (checkout, banner) = seed(&app).await;
    let mut stream = Stream::open(&app, &app.a.eval, &[]).await;
    let first = stream.expect().await;
    assert_eq!(stream.retry, Some(1000), "retry comes first");
    assert_eq!(first.name, "snapshot");
    assert_eq!(first.data, snapshot(&app, &app.a.eval).await);
    let start = first.data["revision"].as_u64().unwrap();
    assert_eq!(first.id, Some(start.to_string()));

    toggle(&app, &app.a.admin, checkout, false).await;
    let change = stream.change().await;
    assert_eq!(change.len(), 1, "{change:?}");
    assert_eq!(change[0].name, "flag.updated");
    assert_eq!(change[0].data["flag"]["id"], json!(checkout));
    assert_eq!(change[0].data["flag"]["enabled"], json!(false));
    let revision = change[0].data["revision"].as_u64().unwrap();
    assert!(revision > start);
    assert_eq!(change[0].id, Some(revision.to_string()));

    let (status, body) = app
        .admin_prod(Method::DELETE, &format!("/api/v1/flags/{banner}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let deleted = stream.change().await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0].name, "flag.deleted");
    assert_eq!(deleted[0].data["flagID"], json!(banner));
    assert_eq!(deleted[0].data["flagKey"], json!("banner"));

    let after = snapshot(&app, &app.a.eval).await;
    let events: Vec<Event> = change.into_iter().chain(deleted).collect();
    let (revision, flags) = replay(&first.data, &events);
    let (expected_revision, expected) = replay(&after, &[]);
    assert_eq!(revision, expected_revision);
    assert_eq!(flags, expected);
}

#[tokio::test]
async fn a_change_of_several_flags_comes_together_and_only_its_last_event_carries_the_id() {
    let app = spawn_app().await;
    seed(&app).await;
    let mut stream = Stream::open(&app, &app.a.eval, &[]).await;
    let first = stream.expect().await;
    let flags = ["one", "two", "three"].map(|key| json!({
        "key": key, "description": key, "enabled": true, "variants": [{"key": "on"}],
        "segments": [{"rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]
    }));
    let doc = json!({ "flags": flags });
    let (status, report) = app
        .call(
            &app.a.admin,
            Some(PROD),
            Method::POST,
            "/api/v1/import",
            Some(doc),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let change = stream.change().await;
    let keys: Vec<&str> = change
        .iter()
        .map(|e| e.data["flag"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["one", "two", "three"]);
    let ids: Vec<Option<String>> = change.iter().map(|e| e.id.clone()).collect();
    let revision = change[2].data["revision"].as_u64().unwrap().to_string();
    assert_eq!(ids, [None, None, Some(revision)]);
    let (_, flags) = replay(&first.data, &change);
    assert_eq!(flags, replay(&snapshot(&app, &app.a.eval).await, &[]).1);
}

#[tokio::test]
async fn last_event_id_replays_only_what_changed_or_the_snapshot_when_it_cannot() {
    let app = spawn_app_with(|s| s.evaluation.stream_heartbeat_secs = 1).await;
    let (checkout, banner) = seed(&app).await;
    let held = snapshot(&app, &app.a.eval).await;
    let revision = held["revision"].as_u64().unwrap().to_string();
    toggle(&app, &app.a.admin, checkout, false).await;
    toggle(&app, &app.a.admin, checkout, true).await;
    toggle(&app, &app.a.admin, banner, false).await;

    // From the held revision: the two flags changed since, once each, at the current revision.
    let mut stream = Stream::open(&app, &app.a.eval, &[("Last-Event-ID", &revision)]).await;
    let change = stream.change().await;
    let now = snapshot(&app, &app.a.eval).await;
    let ids: Vec<i64> = change
        .iter()
        .map(|e| e.data["flag"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [checkout, banner]);
    assert!(change.iter().all(|e| e.data["revision"] == now["revision"]));
    assert_eq!(replay(&held, &change).1, replay(&now, &[]).1);

    // From the current revision (also as a query parameter): nothing but heartbeats.
    let current = now["revision"].as_u64().unwrap().to_string();
    let path = format!("/api/v1/stream?lastEventId={current}");
    let response = app
        .request(Method::GET, &path, &app.a.eval)
        .send()
        .await
        .unwrap();
    let mut quiet = Stream {
        response,
        buffer: String::new(),
        retry: None,
    };
    let beat = quiet.expect().await;
    assert_eq!(beat.name, "heartbeat");
    assert_eq!(beat.data, json!({"revision": now["revision"]}));

    // A revision this server never had: the whole snapshot again.
    for unknown in ["999999", "not-a-number"] {
        let mut fresh = Stream::open(&app, &app.a.eval, &[("Last-Event-ID", unknown)]).await;
        let event = fresh.expect().await;
        assert_eq!(event.name, "snapshot", "{unknown}");
        assert_eq!(event.data, now);
    }
}

#[tokio::test]
async fn a_revoked_key_stream_ends_at_the_next_heartbeat_and_cannot_reconnect() {
    let app = spawn_app_with(|s| s.evaluation.stream_heartbeat_secs = 1).await;
    seed(&app).await;
    let (status, made) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "sdk", "scopes": ["evaluate"], "environment": PROD})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    let mut stream = Stream::open(&app, &key, &[]).await;
    assert_eq!(stream.expect().await.name, "snapshot");
    let id = made["id"].as_i64().unwrap();
    let (status, body) = app
        .admin(Method::DELETE, &format!("/api/v1/keys/{id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    // Heartbeats may still be in flight; the stream must end.
    while let Some(event) = stream.next().await {
        assert_eq!(event.name, "heartbeat", "{event:?}");
    }
    let refused = app
        .request(Method::GET, "/api/v1/stream", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn a_client_key_streams_the_client_view_and_other_tenants_changes_never_arrive() {
    let app = spawn_app().await;
    let (checkout, _) = seed(&app).await;
    let (status, made) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "browser", "scopes": ["client"], "environment": PROD})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let client = made["key"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/flags/{checkout}/segments");
    let (status, segments) = app.admin_prod(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{segments}");
    let segment = segments[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("{path}/{segment}"),
            Some(json!({"description": "internal: Canadian pilot", "rolloutPercent": 100})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut server = Stream::open(&app, &app.a.eval, &[]).await;
    let mut browser = Stream::open(&app, &client, &[]).await;
    let full = server.expect().await;
    let limited = browser.expect().await;
    assert_eq!(full.data["view"], "server");
    assert_eq!(limited.data["view"], "client");
    let description = |v: &Value| v["segments"][0]["description"].clone();
    let flag_of = |s: &Value| {
        s["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == json!(checkout))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        description(&flag_of(&full.data)),
        json!("internal: Canadian pilot")
    );
    assert_eq!(description(&flag_of(&limited.data)), json!(""));

    // Tenant B changes its own flag first; A's streams see only A's change.
    let b_flag = app
        .build_flag(
            &app.b.admin,
            PROD,
            "b-only",
            &["on"],
            &[SegmentSpec {
                constraints: &[],
                rollout: 100,
                percents: &[100],
            }],
        )
        .await;
    toggle(&app, &app.b.admin, b_flag.id, false).await;
    toggle(&app, &app.a.admin, checkout, false).await;
    for (stream, expected) in [
        (&mut server, json!("internal: Canadian pilot")),
        (&mut browser, json!("")),
    ] {
        let change = stream.change().await;
        assert_eq!(change.len(), 1, "{change:?}");
        assert_eq!(change[0].data["flag"]["id"], json!(checkout));
        assert_eq!(description(&change[0].data["flag"]), expected);
    }
}

#[tokio::test]
async fn ofrep_bulk_answers_link_the_change_stream() {
    let app = spawn_app().await;
    seed(&app).await;
    let bulk = |environment: Option<&str>| {
        let mut req = app
            .request(Method::POST, "/ofrep/v1/evaluate/flags", &app.a.admin)
            .json(&json!({"context": {"targetingKey": "u1"}}));
        if let Some(environment) = environment {
            req = req.header("X-Environment", environment);
        }
        async move {
            let (status, body) = read(req.send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            let streams = body["eventStreams"].as_array().expect("eventStreams");
            assert_eq!(streams.len(), 1, "{body}");
            assert_eq!(streams[0]["type"], "sse");
            streams[0]["url"].as_str().unwrap().to_owned()
        }
    };
    // The key's own environment needs no selector; a chosen one is repeated.
    assert_eq!(bulk(None).await, "http://localhost:18000/api/v1/stream");
    let url = bulk(Some(PROD)).await;
    assert_eq!(
        url,
        "http://localhost:18000/api/v1/stream?environment=production"
    );
    // The link, followed with the same key on this server, is the environment's stream.
    let path = &url[url.find("/api/v1/stream").unwrap()..];
    let response = app
        .request(Method::GET, path, &app.a.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let mut stream = Stream {
        response,
        buffer: String::new(),
        retry: None,
    };
    let first = stream.expect().await;
    assert_eq!(first.name, "snapshot");
    assert_eq!(first.data, snapshot(&app, &app.a.eval).await);
}

#[tokio::test]
async fn a_snapshot_larger_than_one_write_arrives_whole() {
    let app = spawn_app().await;
    let flags: Vec<Value> = (0..80)
        .map(|i| json!({
            "key": format!("flag-{i}"), "description": "a flag with a long description", "enabled": true,
            "variants": [{"key": "on", "attachment": {"value": "x".repeat(200)}}],
            "segments": [{"rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]
        }))
        .collect();
    let (status, report) = app
        .call(
            &app.a.admin,
            Some(PROD),
            Method::POST,
            "/api/v1/import",
            Some(json!({ "flags": flags })),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let expected = snapshot(&app, &app.a.eval).await;
    assert!(
        expected.to_string().len() > 3 * 8 * 1024,
        "the event spans several pieces"
    );
    let mut stream = Stream::open(&app, &app.a.eval, &[]).await;
    let first = stream.expect().await;
    assert_eq!(first.name, "snapshot");
    assert_eq!(first.data, expected);
}
