//! Resident memory a compiled snapshot takes per flag.
//!
//! `cargo run --release -p flagent-eval --example snapshot_memory [flags]` (default 100,000) compiles an environment of
//! the load test's flag (one segment, three constraints, two variants with attachments) and prints the
//! the process's growth in resident memory per flag: with the configurations alone, then compiled.

use flagent_eval::{FlagConfig, Snapshot};
use serde_json::json;

/// The process's resident memory in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn config(n: i64) -> FlagConfig {
    serde_json::from_value(json!({
        "id": n, "key": format!("flag-{n:04}"), "salt": format!("flag-{n:04}"), "enabled": true,
        "snapshotId": n,
        "variants": [
            {"id": 2 * n, "key": "control", "attachment": {"color": "grey", "limits": {"items": 10}}},
            {"id": 2 * n + 1, "key": "treatment", "attachment": {"color": "green", "limits": {"items": 20}}}
        ],
        "segments": [{
            "id": n, "description": "Canadian paying users on recent apps", "rank": 0, "rolloutPercent": 100,
            "constraints": [
                {"id": 3 * n, "property": "country", "operator": "EQ", "value": "\"CA\""},
                {"id": 3 * n + 1, "property": "plan", "operator": "IN", "value": "[\"pro\",\"team\",\"enterprise\"]"},
                {"id": 3 * n + 2, "property": "app.version", "operator": "GTE", "value": "semver:\"2.1.0\""}
            ],
            "distributions": [
                {"id": 2 * n, "variantId": 2 * n, "variantKey": "control", "percent": 50},
                {"id": 2 * n + 1, "variantId": 2 * n + 1, "variantKey": "treatment", "percent": 50}
            ]
        }]
    }))
    .expect("a valid flag configuration")
}

fn main() {
    let flags: i64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let before = rss() as isize;
    let configs: Vec<FlagConfig> = (1..=flags).map(config).collect();
    let configs_bytes = rss() as isize - before;
    let snapshot = Snapshot::build(1, configs);
    let snapshot_bytes = rss() as isize - before;
    println!(
        "{flags} flags: configurations {} bytes per flag, compiled snapshot {} bytes per flag",
        configs_bytes / flags as isize,
        snapshot_bytes / flags as isize
    );
    drop(snapshot);
}
