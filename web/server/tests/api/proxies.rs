//! Client addresses behind reverse proxies: `X-Forwarded-For` is believed only from the configured
//! trusted proxies, for the audit log and the per-address rate limits.

use crate::helpers::{read, spawn_app, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};

async fn newest_event_ip(app: &crate::helpers::TestApp) -> String {
    let (status, page) = app.admin(Method::GET, "/api/v1/audit", None).await;
    assert_eq!(status, 200, "{page}");
    page["events"][0]["ip"].as_str().expect("ip").to_owned()
}

async fn create_flag_via(app: &crate::helpers::TestApp, key: &str, forwarded: &str) -> Value {
    let (status, body) = read(
        app.request(Method::POST, "/api/v1/flags", &app.a.admin)
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"key": key, "description": "d"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_the_proxy_is_trusted() {
    let app = spawn_app().await;
    create_flag_via(&app, "spoofed", "198.51.100.9").await;
    assert_eq!(newest_event_ip(&app).await, "127.0.0.1");

    let behind_proxy =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    create_flag_via(&behind_proxy, "forwarded", "198.51.100.9").await;
    assert_eq!(newest_event_ip(&behind_proxy).await, "198.51.100.9");
    // The nearest untrusted hop counts: what the client itself wrote further left is not believed.
    create_flag_via(
        &behind_proxy,
        "chained",
        "203.0.113.5, 198.51.100.10, 127.0.0.1",
    )
    .await;
    assert_eq!(newest_event_ip(&behind_proxy).await, "198.51.100.10");
}

#[tokio::test]
async fn signups_are_limited_per_forwarded_client_behind_a_trusted_proxy() {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let sign_up = |n: usize, client: &'static str| {
        app.client
            .post(format!("{}/api/v1/signup", app.address))
            .header("X-Forwarded-For", client)
            .json(
                &json!({"email": format!("user{n}@org{n}.example"), "password": "a long passphrase",
                          "organization": format!("Org {n}")}),
            )
            .send()
    };
    for n in 0..10 {
        let (status, body) = read(sign_up(n, "203.0.113.7").await.unwrap()).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = read(sign_up(10, "203.0.113.7").await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let (status, body) = read(sign_up(11, "203.0.113.8").await.unwrap()).await;
    assert_eq!(
        status, 201,
        "another client behind the same proxy has its own budget: {body}"
    );
}
