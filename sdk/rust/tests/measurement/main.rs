//! Measurement through the SDK end to end: exposures of local evaluations and tracked events sent in
//! batches to a real Flagent server and read back from a flag's experiment results, and, against a
//! scripted local server, how `429` with `Retry-After`, server errors and refusals are handled.
//!
//! These tests run in real time but never wait for an interval: the flush interval is an hour, and each
//! test sends with `flush` or `close`. Timing within the sender is tested on Tokio's paused clock in
//! `src/measure/tests.rs`.

mod events;
mod exposures;
mod local;
mod retries;
mod server;

use flagent_sdk::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::time::Duration;

/// The longest any test waits for a condition.
const PATIENCE: Duration = Duration::from_secs(30);

/// Waits for `future`, failing the test after [`PATIENCE`] with `what`.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A builder for `address` with `key`: retries fast, and sends only when a batch is full or a test
/// flushes or closes.
fn builder(address: &str, key: &str) -> ClientBuilder {
    Client::builder(address, key)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .request_timeout(Duration::from_secs(5))
        .flush_interval(Duration::from_secs(3_600))
}

/// An experiment flag `key` splitting everyone 50/50 between `control` and `treatment`.
fn experiment(key: &str) -> Value {
    json!({"flags": [{"key": key, "description": "experiment", "enabled": true,
        "variants": [{"key": "control"}, {"key": "treatment"}],
        "segments": [{"description": "everyone", "rolloutPercent": 100, "distributions": [
            {"variantKey": "control", "percent": 50}, {"variantKey": "treatment", "percent": 50}]}]}]})
}

/// Asserts `actual` is the number `expected` (to rounding).
fn close_to(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!(
        (actual - expected).abs() <= 1e-9,
        "{actual} is not {expected}"
    );
}
