//! Three nodes on one database and one Redis (a `redis-server` this test starts and stops): a change
//! saved through one node reaches the others' evaluation caches and streams through Redis, a revoked key
//! and a suspended tenant are refused by the others long before their 30 s cache re-check, and with
//! Redis stopped the nodes fall back to revision polling, then use Redis again once it is back.
//!
//! Propagation figures (from just before the write is sent until the change event arrives on the other
//! nodes' streams) are printed; run with `--nocapture` to read them.

use crate::helpers::{SegmentSpec, TestApp, spawn_app_with};
use crate::stream::Stream;
use flagent_config::Settings;
use reqwest::Method;
use serde_json::json;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROD: &str = "production";

/// Longest wait for any one condition; a failure, never a pause. Shorter than the 30 s after which
/// nodes re-check cached keys and tenants on their own, so what arrives in time came through Redis.
const PATIENCE: Duration = Duration::from_secs(10);

/// A `redis-server` of this test's own, on a free port.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Redis { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (Debian package redis-server; .ci/run installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::yield_now();
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn clustered(settings: &mut Settings, redis: &Redis) {
    settings.cluster.redis_url = Some(redis.url());
    settings.cluster.poll_interval_ms = 1000;
}

/// Starts another node on `app`'s database; returns its address.
async fn node(app: &TestApp, redis: &Redis) -> String {
    let mut settings = Settings::for_tests(&app.db_url);
    clustered(&mut settings, redis);
    let node = flagent_server::Application::build(settings)
        .await
        .expect("another node starts");
    let address = format!("http://127.0.0.1:{}", node.port());
    tokio::spawn(node.run_until_stopped());
    address
}

/// How many announced changes the node at `address` has applied (its propagation histogram's count).
async fn announced(app: &TestApp, address: &str) -> u64 {
    let text = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix("flagent_cluster_propagation_seconds_count "))
        .map(|n| n.trim().parse().expect("a count"))
        .unwrap_or_default()
}

async fn toggle(app: &TestApp, id: i64, enabled: bool) {
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": enabled})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Waits for the change that sets flag `id`'s `enabled` to `enabled` on `stream`.
async fn seen(stream: &mut Stream, id: i64, enabled: bool) {
    let wait = async {
        loop {
            let change = stream.change().await;
            if change.iter().any(|e| {
                e.data["flag"]["id"] == json!(id) && e.data["flag"]["enabled"] == json!(enabled)
            }) {
                return;
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("the change reached the node");
}

/// Evaluates with `key` on the node at `address` until `done` accepts the status, within the patience.
async fn until_status(app: &TestApp, address: &str, key: &str, done: impl Fn(u16) -> bool) -> u16 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = app
            .client
            .post(format!("{address}/api/v1/evaluation"))
            .bearer_auth(key)
            .json(&json!({"flagKey": "banner", "entityID": "u1"}))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16();
        if done(status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after {PATIENCE:?}"
        );
        tokio::task::yield_now().await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test]
async fn three_nodes_agree_through_redis_and_fall_back_to_polling_while_it_is_down() {
    let mut redis = Redis::start();
    let app = spawn_app_with(|s| clustered(s, &redis)).await;
    let flag = app
        .build_flag(
            &app.a.admin,
            PROD,
            "banner",
            &["on"],
            &[SegmentSpec {
                constraints: &[],
                rollout: 100,
                percents: &[100],
            }],
        )
        .await;
    let others = [node(&app, &redis).await, node(&app, &redis).await];
    let mut streams = Vec::new();
    for address in &others {
        let mut stream = Stream::open_at(&app.client, address, &app.a.eval, &[]).await;
        let first = stream.expect().await;
        assert_eq!(first.name, "snapshot");
        streams.push(stream);
    }

    // Through Redis: every change reaches both other nodes, and both count it as announced.
    let before = [
        announced(&app, &others[0]).await,
        announced(&app, &others[1]).await,
    ];
    let rounds = 40;
    let mut delays = Vec::new();
    let mut writes = Vec::new();
    for round in 0..rounds {
        let enabled = round % 2 == 1;
        let sent = Instant::now();
        toggle(&app, flag.id, enabled).await;
        writes.push(sent.elapsed());
        for stream in &mut streams {
            seen(stream, flag.id, enabled).await;
            delays.push(sent.elapsed());
        }
    }
    for (address, before) in others.iter().zip(before) {
        let applied = announced(&app, address).await - before;
        assert!(
            applied >= rounds,
            "{address} applied {applied} of {rounds} announcements"
        );
    }
    delays.sort();
    writes.sort();
    println!(
        "propagation over Redis, write sent to change event on 2 other nodes, {} samples: p50 {:?}, p99 {:?}, max {:?}; the write's own answer: p50 {:?}, p99 {:?}",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 99.0),
        delays[delays.len() - 1],
        percentile(&writes, 50.0),
        percentile(&writes, 99.0),
    );
    let metrics = app
        .client
        .get(format!("{}/metrics", others[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let buckets: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("flagent_cluster_propagation_seconds_bucket"))
        .collect();
    println!(
        "announcement to applied on one node:\n{}",
        buckets.join("\n")
    );

    // A key revoked and a tenant suspended through node 1 are refused by the others at once.
    let (status, made) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "sdk", "scopes": ["evaluate"], "environment": PROD})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    for address in &others {
        until_status(&app, address, &key, |s| s == 200).await;
    }
    let (status, body) = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/keys/{}", made["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for address in &others {
        until_status(&app, address, &key, |s| s == 401).await;
    }
    for address in &others {
        until_status(&app, address, &app.b.eval, |s| s == 200).await;
    }
    let operator = app.owner_session().await;
    let (status, body) = crate::helpers::read(
        app.client
            .put(format!(
                "{}/api/v1/admin/tenants/{}/status",
                app.address, app.b.id.0
            ))
            .bearer_auth(&operator.token)
            .json(&json!({"status": "suspended"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for address in &others {
        until_status(&app, address, &app.b.eval, |s| s == 403).await;
    }

    // Redis stops: changes still arrive, by polling, and none of them as an announcement.
    redis.stop();
    let before = [
        announced(&app, &others[0]).await,
        announced(&app, &others[1]).await,
    ];
    for enabled in [false, true, false] {
        toggle(&app, flag.id, enabled).await;
        for stream in &mut streams {
            seen(stream, flag.id, enabled).await;
        }
    }
    let after = [
        announced(&app, &others[0]).await,
        announced(&app, &others[1]).await,
    ];
    assert_eq!(before, after, "nothing was announced while Redis was down");

    // Redis is back: the nodes reconnect and announcements flow again.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut enabled = true;
    loop {
        let before = [
            announced(&app, &others[0]).await,
            announced(&app, &others[1]).await,
        ];
        toggle(&app, flag.id, enabled).await;
        for stream in &mut streams {
            seen(stream, flag.id, enabled).await;
        }
        let after = [
            announced(&app, &others[0]).await,
            announced(&app, &others[1]).await,
        ];
        if after[0] > before[0] && after[1] > before[1] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "announcements did not resume after Redis came back"
        );
        enabled = !enabled;
    }
}

/// `GET /api/v1/flags` on the node at `address` with session `token` until `done` accepts the status,
/// within the patience.
async fn until_member_status(
    app: &TestApp,
    address: &str,
    token: &str,
    done: impl Fn(u16) -> bool,
) -> u16 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = app
            .client
            .get(format!("{address}/api/v1/flags"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16();
        if done(status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after {PATIENCE:?}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_member_deactivated_over_scim_through_one_node_loses_access_on_another_at_once() {
    let redis = Redis::start();
    let app = spawn_app_with(|s| clustered(s, &redis)).await;
    let other = node(&app, &redis).await;
    let member = app.member("eve@acme.test", "editor").await;
    until_member_status(&app, &other, &member.token, |s| s == 200).await;

    let token = crate::scim::scim_token(&app, &app.a.admin).await;
    let mut eve = json!({
        "schemas": [crate::scim::USER_SCHEMA],
        "userName": "eve@acme.test",
        "emails": [{"value": "eve@acme.test", "primary": true}],
    });
    let (status, linked) =
        crate::scim::scim(&app, &token, Method::POST, "/Users", Some(eve.clone())).await;
    assert_eq!(status, 201, "{linked}");
    eve["active"] = json!(false);
    let path = format!("/Users/{}", linked["id"].as_str().unwrap());
    let (status, _) = crate::scim::scim(&app, &token, Method::PUT, &path, Some(eve)).await;
    assert_eq!(status, 200);
    // Within the patience, shorter than the 30 s after which nodes reload the role policy on their
    // own: the deactivation reached the other node through Redis.
    let refused = until_member_status(&app, &other, &member.token, |s| s != 200).await;
    assert!([403, 404].contains(&refused), "{refused}");
}
