//! Exposures of local evaluations against the real server: they reach the experiment results, go in few
//! requests, are sent when the client closes, and beyond the buffer are dropped and counted.

use crate::server::{row, spawn};
use crate::{builder, experiment, within};
use serde_json::json;
use std::collections::BTreeMap;

/// Evaluates `checkout` for `user-0`…`user-{n-1}`; the flag's id and how many got each variant.
fn evaluate_users(client: &flagent_sdk::Client, n: usize) -> (i64, BTreeMap<String, i64>) {
    let mut served = BTreeMap::new();
    let mut id = 0;
    for i in 0..n {
        let decision = client.evaluate("checkout", &format!("user-{i}"), &json!({}));
        id = decision.flag_id.expect("the flag exists");
        *served
            .entry(decision.variant_key.expect("a variant"))
            .or_insert(0) += 1;
    }
    (id, served)
}

/// Asserts that the results count `served` exposed entities per variant.
fn assert_exposed(results: &serde_json::Value, served: &BTreeMap<String, i64>) {
    for variant in ["control", "treatment"] {
        assert_eq!(
            row(results, "error_rate", variant)["exposed"].as_i64(),
            Some(served.get(variant).copied().unwrap_or(0)),
            "{variant}: {results}"
        );
    }
}

#[tokio::test]
async fn evaluations_become_the_experiments_exposures_in_few_requests() {
    let app = spawn().await;
    app.import(experiment("checkout")).await;
    let sdk = builder(&app.address, &app.eval).build().await.unwrap();
    let (id, served) = evaluate_users(&sdk, 2_500);
    // Evaluating everyone again records nothing new.
    assert_eq!(evaluate_users(&sdk, 2_500).1, served);
    within("the flush", sdk.flush()).await;
    let stats = sdk.recording_stats().exposures;
    assert_eq!(
        (
            stats.buffered,
            stats.deduplicated,
            stats.accepted,
            stats.requests
        ),
        (2_500, 2_500, 2_500, 3),
        "{stats:?}"
    );
    assert_eq!(
        app.posts("/api/v1/exposures").await,
        [("202".to_owned(), 3)]
    );
    app.settle().await;
    assert_exposed(&app.results(id).await, &served);
}

#[tokio::test]
async fn close_sends_the_pending_exposures() {
    let app = spawn().await;
    app.import(experiment("checkout")).await;
    let sdk = builder(&app.address, &app.eval).build().await.unwrap();
    let (id, served) = evaluate_users(&sdk, 40);
    assert!(app.posts("/api/v1/exposures").await.is_empty());
    within("the close", sdk.close()).await;
    assert_eq!(sdk.recording_stats().exposures.accepted, 40);
    app.settle().await;
    assert_exposed(&app.results(id).await, &served);
    // A closed client still answers, and records nothing more.
    assert!(
        sdk.evaluate("checkout", "late", &json!({}))
            .variant_key
            .is_some()
    );
    assert_eq!(sdk.recording_stats().exposures.dropped, 1);
}

#[tokio::test]
async fn exposures_beyond_the_buffer_are_dropped_and_counted() {
    let app = spawn().await;
    app.import(experiment("checkout")).await;
    let sdk = builder(&app.address, &app.eval)
        .buffer_capacity(100)
        .build()
        .await
        .unwrap();
    let (id, _) = evaluate_users(&sdk, 150);
    let stats = sdk.recording_stats().exposures;
    assert_eq!((stats.buffered, stats.dropped), (100, 50));
    within("the flush", sdk.flush()).await;
    assert_eq!(sdk.recording_stats().exposures.accepted, 100);
    app.settle().await;
    let results = app.results(id).await;
    let exposed: i64 = ["control", "treatment"]
        .iter()
        .map(|v| row(&results, "error_rate", v)["exposed"].as_i64().unwrap())
        .sum();
    assert_eq!(exposed, 100, "{results}");
}
