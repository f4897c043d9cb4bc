//! Crash reports over HTTP: reports checked item by item and committed before `202`, grouped by
//! fingerprint across builds (line numbers, addresses, bundle hashes), split by error type and top
//! frame, counted per flag variant, kept apart between tenants and environments, and counted as the
//! built-in `crash_rate` metric in a flag's results (checked against scipy's Welch t-test).

use crate::helpers::{
    SegmentSpec, TestApp, close, expect_error, expect_invalid, read, row, spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};

/// Milliseconds since the Unix epoch, half an hour ago.
fn half_an_hour_ago() -> i64 {
    chrono::Utc::now().timestamp_millis() - 1_800_000
}

/// Sends crash reports with `key` (an evaluation key; tenant A's is bound to production).
async fn post(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let req = app
        .request(Method::POST, "/api/v1/crashes", key)
        .json(&body);
    read(req.send().await.expect("request")).await
}

/// Sends `crashes` with tenant A's evaluation key and asserts all were accepted.
async fn post_all(app: &TestApp, crashes: Vec<Value>) {
    let n = crashes.len();
    let (status, answer) = post(app, &app.a.eval, json!({ "crashes": crashes })).await;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (202, Some(n as u64)),
        "{answer}"
    );
}

/// `GET path` with `key` in production.
async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    app.call(key, Some("production"), Method::GET, path, None)
        .await
}

/// Tenant A's crash groups in production (the first page).
async fn groups(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, page) = get(app, &app.a.read, &format!("/api/v1/crashes{query}")).await;
    assert_eq!(status, 200, "{page}");
    page["groups"].as_array().expect("groups").clone()
}

/// A report of the checkout bug as one build reports it: `build` names the bundle hash, line and
/// address that differ between builds; `top` is the crashing function.
fn report(
    entity: &str,
    version: &str,
    error_type: &str,
    top: &str,
    build: (&str, u32, &str),
) -> Value {
    let (hash, line, address) = build;
    let bundle = format!("https://cdn.example.com/static/js/main.{hash}.js");
    json!({
        "platform": "web", "appVersion": version, "errorType": error_type,
        "message": "Cannot read properties of undefined (reading 'total')",
        "entityID": entity, "timestamp": half_an_hour_ago(),
        "frames": [
            {"function": format!("{top} {address}"), "file": format!("{bundle}:{line}:17"), "line": line},
            {"function": "Array.forEach", "file": "<anonymous>"},
            {"function": "dispatch", "file": "https://cdn.example.com/node_modules/react-dom/cjs/react-dom.js", "line": 4},
            {"function": "submit", "file": format!("{bundle}?v={line}"), "line": line + 40},
        ],
    })
}

fn with_flags(mut report: Value, flags: Value) -> Value {
    report["flags"] = flags;
    report
}

#[tokio::test]
async fn crash_reports_are_checked_one_by_one_and_the_good_ones_accepted() {
    let app = spawn_app().await;
    let good = report("u1", "1.0", "TypeError", "pay", ("3f2a9c1b", 12, "0x7ffd"));
    let changed = |field: &str, value: Value| {
        let mut r = good.clone();
        r[field] = value;
        r
    };
    let many_flags: serde_json::Map<String, Value> =
        (0..101).map(|k| (format!("f{k}"), json!("on"))).collect();
    let body = json!({"crashes": [
        good.clone(),
        changed("platform", json!("p".repeat(65))),
        changed("appVersion", json!("")),
        changed("errorType", json!(7)),
        changed("frames", json!(vec![json!({"function": "f"}); 201])),
        changed("frames", json!([{"function": "f".repeat(513)}])),
        changed("frames", json!([{"line": 3}])),
        changed("entityID", json!("")),
        changed("timestamp", json!("2020-01-01T00:00:00Z")),
        changed("flags", Value::Object(many_flags)),
        changed("flags", json!({"checkout": 1})),
        changed("message", json!("€".repeat(400))),
        "not an object",
    ]});
    let (status, answer) = post(&app, &app.a.eval, body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    let refused: Vec<(i64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_i64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        vec![
            (1, "invalid_platform"),
            (2, "invalid_app_version"),
            (3, "invalid_error_type"),
            (4, "invalid_frames"),
            (5, "invalid_frame"),
            (6, "invalid_frame"),
            (7, "invalid_entity"),
            (8, "timestamp_out_of_range"),
            (9, "invalid_flags"),
            (10, "invalid_flags"),
            (12, "invalid_item"),
        ]
    );
    // The long message was cut at a character boundary, not refused.
    let groups = groups(&app, "").await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["occurrences"], 2);
    let path = format!("/api/v1/crashes/{}", groups[0]["id"]);
    let (_, detail) = get(&app, &app.a.read, &path).await;
    let message = detail["recentCrashes"][0]["message"].as_str().unwrap();
    assert_eq!((message.len(), message.chars().next()), (1_023, Some('€')));
}

#[tokio::test]
async fn a_request_wrong_as_a_whole_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let reply = post(&app, &app.a.eval, json!({"crash": []})).await;
    expect_invalid(&reply, "crashes");
    let reply = post(&app, &app.a.eval, json!({"crashes": {}})).await;
    expect_invalid(&reply, "crashes");
    let too_many: Vec<Value> = (0..101)
        .map(|i| {
            report(
                &format!("u{i}"),
                "1.0",
                "TypeError",
                "pay",
                ("3f2a9c1b", 1, ""),
            )
        })
        .collect();
    let reply = post(&app, &app.a.eval, json!({ "crashes": too_many })).await;
    expect_error(&reply, 413, "payload_too_large");
    let big = "x".repeat(1 << 20);
    let reply = post(&app, &app.a.eval, json!({"crashes": [{"message": big}]})).await;
    expect_error(&reply, 413, "payload_too_large");
    let req = app
        .request(Method::POST, "/api/v1/crashes", &app.a.eval)
        .header("content-type", "application/json")
        .body("{not json");
    expect_error(&read(req.send().await.unwrap()).await, 400, "invalid_json");
    assert!(groups(&app, "").await.is_empty());
}

#[tokio::test]
async fn the_same_bug_from_other_builds_groups_and_other_bugs_split() {
    let app = spawn_app().await;
    post_all(
        &app,
        vec![
            report(
                "raw-entity-1",
                "1.0",
                "TypeError",
                "Checkout.pay",
                ("3f2a9c1b", 12, "0x7ffde3a1b2c4"),
            ),
            report(
                "raw-entity-2",
                "1.1",
                "TypeError",
                "Checkout.pay",
                ("9e8d7c6b", 120, "0x55d0c0ffee00"),
            ),
            report(
                "raw-entity-1",
                "1.2",
                "TypeError",
                "Checkout.pay",
                ("0a1b2c3d4e", 7, "+0x1a"),
            ),
        ],
    )
    .await;
    post_all(
        &app,
        vec![
            report(
                "raw-entity-3",
                "1.2",
                "TypeError",
                "Checkout.pay",
                ("77aa88bb", 99, ""),
            ),
            report(
                "raw-entity-3",
                "1.2",
                "RangeError",
                "Checkout.pay",
                ("77aa88bb", 99, ""),
            ),
            report(
                "raw-entity-3",
                "1.2",
                "TypeError",
                "Checkout.refund",
                ("77aa88bb", 99, ""),
            ),
        ],
    )
    .await;
    let all = groups(&app, "").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let pay = all
        .iter()
        .find(|g| g["errorType"] == "TypeError" && g["frames"][0]["function"] == "Checkout.pay")
        .expect("the pay group");
    assert_eq!(pay["occurrences"], 4);
    assert_eq!(pay["entitiesAffected"], 3);
    assert_eq!(pay["appVersions"], json!(["1.2", "1.0", "1.1"]));
    assert_eq!(pay["platform"], "web");
    assert_eq!(pay["fingerprint"].as_str().unwrap().len(), 64);
    // Only the in-app frames, normalised: no address, line number, bundle hash or query string.
    assert_eq!(
        pay["frames"],
        json!([{"function": "Checkout.pay", "file": "js/main.js"}, {"function": "submit", "file": "js/main.js"}])
    );
    assert!(pay["firstSeen"].as_str().unwrap() <= pay["lastSeen"].as_str().unwrap());
    let path = format!("/api/v1/crashes/{}", pay["id"]);
    let (status, detail) = get(&app, &app.a.read, &path).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["occurrences"], 4);
    let recent = detail["recentCrashes"].as_array().unwrap();
    assert_eq!(recent.len(), 4);
    // The frames as sent, with their lines.
    assert_eq!(recent[0]["frames"][0]["line"], 99, "{detail}");
    assert_eq!(recent[0]["entityHash"].as_str().unwrap().len(), 16);
    assert!(
        !detail.to_string().contains("raw-entity"),
        "raw entity ids are never shown: {detail}"
    );
}

#[tokio::test]
async fn crashes_are_counted_per_flag_variant_and_listed_by_flag_and_page() {
    let app = spawn_app().await;
    let pay = |entity| report(entity, "2.0", "TypeError", "pay", ("3f2a9c1b", 1, ""));
    post_all(
        &app,
        vec![
            with_flags(pay("u1"), json!({"checkout": "control"})),
            with_flags(pay("u2"), json!({"checkout": "treatment", "theme": "dark"})),
            with_flags(pay("u3"), json!({"checkout": "treatment"})),
            report("u4", "2.0", "RangeError", "pay", ("3f2a9c1b", 1, "")),
            report("u5", "2.0", "SyntaxError", "pay", ("3f2a9c1b", 1, "")),
        ],
    )
    .await;
    let themed = groups(&app, "?flag=theme").await;
    assert_eq!(themed.len(), 1, "{themed:?}");
    assert_eq!(
        themed[0]["variants"],
        json!([
            {"flagKey": "checkout", "variantKey": "control", "crashes": 1},
            {"flagKey": "checkout", "variantKey": "treatment", "crashes": 2},
            {"flagKey": "theme", "variantKey": "dark", "crashes": 1},
        ])
    );
    assert_eq!(groups(&app, "?flag=checkout").await.len(), 1);
    assert!(groups(&app, "?flag=nothing").await.is_empty());
    let (_, first) = get(&app, &app.a.read, "/api/v1/crashes?limit=2").await;
    assert_eq!(first["groups"].as_array().unwrap().len(), 2, "{first}");
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (_, second) = get(
        &app,
        &app.a.read,
        &format!("/api/v1/crashes?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["groups"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["nextCursor"], Value::Null);
    let mut ids: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| {
            p["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["id"].as_i64().unwrap())
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every group once: {first} {second}");
    expect_invalid(
        &get(&app, &app.a.read, "/api/v1/crashes?limit=0").await,
        "limit",
    );
    expect_invalid(
        &get(&app, &app.a.read, "/api/v1/crashes?cursor=later").await,
        "cursor",
    );
}

#[tokio::test]
async fn another_tenant_or_environment_cannot_read_a_group() {
    let app = spawn_app().await;
    let crash = report("u1", "1.0", "TypeError", "pay", ("3f2a9c1b", 1, ""));
    post_all(&app, vec![crash.clone()]).await;
    let group = &groups(&app, "").await[0];
    let path = format!("/api/v1/crashes/{}", group["id"]);
    for key in [&app.b.read, &app.b.admin] {
        expect_error(&get(&app, key, &path).await, 404, "crash_group_not_found");
        let (status, page) = get(&app, key, "/api/v1/crashes").await;
        assert_eq!((status, page["groups"].clone()), (200, json!([])), "{page}");
    }
    let in_development = app
        .call(&app.a.read, Some("development"), Method::GET, &path, None)
        .await;
    expect_error(&in_development, 404, "crash_group_not_found");
    // Tenant B's report of the same bug is B's own group.
    let (status, answer) = post(&app, &app.b.eval, json!({ "crashes": [crash] })).await;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (202, Some(1)),
        "{answer}"
    );
    let (_, b_page) = get(&app, &app.b.read, "/api/v1/crashes").await;
    assert_ne!(b_page["groups"][0]["id"], group["id"]);
    assert_eq!(groups(&app, "").await[0]["occurrences"], 1);
}

#[tokio::test]
async fn crashes_count_as_the_crash_rate_of_each_variant() {
    let app = spawn_app().await;
    let everyone = SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[50, 50],
    };
    let flag = app
        .build_flag(
            &app.a.admin,
            "production",
            "checkout",
            &["control", "treatment"],
            &[everyone],
        )
        .await
        .id;
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let exposures: Vec<Value> = (0..100)
        .flat_map(|i| {
            [("control", format!("c-{i}")), ("treatment", format!("t-{i}"))].map(|(v, e)| {
                json!({"flagKey": "checkout", "variantKey": v, "entityID": e, "timestamp": hour_ago})
            })
        })
        .collect();
    let req = app
        .request(Method::POST, "/api/v1/exposures", &app.a.eval)
        .json(&json!({ "exposures": exposures }));
    let (status, answer) = read(req.send().await.unwrap()).await;
    assert_eq!(
        (status, answer["accepted"].as_i64()),
        (202, Some(200)),
        "{answer}"
    );
    // 3 of 100 control entities crash, and 12 of 100 treatment entities.
    let crashes: Vec<Value> = (0..3)
        .map(|i| (format!("c-{i}"), "control"))
        .chain((0..12).map(|i| (format!("t-{i}"), "treatment")))
        .map(|(entity, variant)| {
            let crash = report(&entity, "3.0", "TypeError", "pay", ("3f2a9c1b", 1, ""));
            with_flags(crash, json!({ "checkout": variant }))
        })
        .collect();
    post_all(&app, crashes).await;
    app.settle().await;
    let path = format!("/api/v1/flags/{flag}/results");
    let (status, results) = app
        .call(&app.a.admin, Some("production"), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{results}");
    let control = row(&results, "crash_rate", "control");
    assert_eq!(control["exposed"], 100, "{results}");
    close(&control["value"], 0.03, 1e-12);
    let treatment = row(&results, "crash_rate", "treatment");
    assert_eq!(treatment["exposed"], 100);
    close(&treatment["value"], 0.12, 1e-12);
    close(&treatment["absDiff"], 0.09, 1e-12);
    // scipy.stats.ttest_ind([1]*12 + [0]*88, [1]*3 + [0]*97, equal_var=False).pvalue.
    close(&treatment["pValue"], 0.015_858_362_066_499_203, 1e-9);
    let (_, page) = get(&app, &app.a.read, "/api/v1/crashes?flag=checkout").await;
    assert_eq!(
        page["groups"][0]["variants"],
        json!([
            {"flagKey": "checkout", "variantKey": "control", "crashes": 3},
            {"flagKey": "checkout", "variantKey": "treatment", "crashes": 12},
        ])
    );
}
