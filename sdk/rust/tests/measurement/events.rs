//! Tracked events and errors against the real server: `track` feeds a project metric, `track_error` and
//! the SDK's own evaluation errors feed the built-in `error_rate`, and an event the server refuses is
//! counted as rejected.

use crate::server::{row, spawn};
use crate::{builder, close_to, experiment, within};
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test]
async fn tracked_events_and_errors_reach_the_experiments_metrics() {
    let app = spawn().await;
    app.import(experiment("checkout")).await;
    app.define_metric(json!({"key": "purchases", "kind": "count", "event": "purchase"}))
        .await;
    let sdk = builder(&app.address, &app.eval).build().await.unwrap();
    let mut variant_of = BTreeMap::new();
    let mut id = 0;
    for i in 0..40 {
        let user = format!("user-{i}");
        let decision = sdk.evaluate("checkout", &user, &json!({}));
        id = decision.flag_id.expect("the flag exists");
        variant_of.insert(user, decision.variant_key.expect("a variant"));
    }
    app.experiment(id, json!({"secondaryMetrics": ["purchases"]}))
        .await;
    // Users 0–9 buy twice; users 10–14 meet an error; user 20 asks for a flag that does not exist and
    // user 21 reads the experiment's string value as a boolean.
    let mut purchases = BTreeMap::<&str, f64>::new();
    let mut errors = BTreeMap::<&str, f64>::new();
    for i in 0..10 {
        let user = format!("user-{i}");
        for _ in 0..2 {
            sdk.track("purchase", &user, Some(20.0), Some(json!({"plan": "pro"})));
        }
        *purchases.entry(variant_of[&user].as_str()).or_default() += 2.0;
    }
    for i in 10..15 {
        let user = format!("user-{i}");
        sdk.track_error(&user, "TimeoutError", "the payment service did not answer");
        *errors.entry(variant_of[&user].as_str()).or_default() += 1.0;
    }
    sdk.evaluate("no-such-flag", "user-20", &json!({}));
    *errors.entry(variant_of["user-20"].as_str()).or_default() += 1.0;
    assert!(sdk.bool_value("checkout", "user-21", &json!({}), true));
    *errors.entry(variant_of["user-21"].as_str()).or_default() += 1.0;
    // Keys starting with `$` other than `$error` are reserved.
    sdk.track("$pageview", "user-0", None, None);
    within("the flush", sdk.flush()).await;
    let stats = sdk.recording_stats().events;
    assert_eq!(
        (stats.buffered, stats.accepted, stats.rejected),
        (28, 27, 1),
        "{stats:?}"
    );
    assert_eq!(app.posts("/api/v1/events").await, [("202".to_owned(), 1)]);
    app.settle().await;
    let results = app.results(id).await;
    for variant in ["control", "treatment"] {
        let exposed = variant_of.values().filter(|v| *v == variant).count() as f64;
        let purchases = purchases.get(variant).copied().unwrap_or(0.0);
        let errors = errors.get(variant).copied().unwrap_or(0.0);
        close_to(
            &row(&results, "purchases", variant)["value"],
            purchases / exposed,
        );
        close_to(
            &row(&results, "error_rate", variant)["value"],
            errors / exposed,
        );
    }
}
