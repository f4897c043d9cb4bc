//! The stream client against scripted event streams: revisions applied whole, a revision cut off
//! half-way not applied, heartbeats, bad data, and the snapshot file written after each change.

use super::*;
use crate::wire::View;
use serde_json::json;
use std::convert::Infallible;

fn syncer(persist_to: Option<PathBuf>) -> Syncer {
    let http = http::http_client(Duration::from_secs(1)).unwrap();
    let endpoints = Endpoints::new("http://127.0.0.1:9", "flg_test".into(), None).unwrap();
    let empty = Loaded {
        snapshot: flagent_eval::Snapshot::default(),
        origin: None,
    };
    let shared = Arc::new(Shared::new(empty, Status::Offline));
    let options = Options {
        heartbeat_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(1),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        persist_to,
    };
    Syncer::new(http, endpoints, shared, options)
}

fn flag(id: i64, key: &str) -> serde_json::Value {
    json!({"id": id, "key": key, "salt": key, "enabled": true,
        "variants": [{"id": id * 10, "key": "on"}],
        "segments": [{"id": id * 100, "rank": 0, "rolloutPercent": 100,
            "distributions": [{"variantId": id * 10, "percent": 100}]}]})
}

/// A byte stream delivering `text` in small chunks (events split across chunks, as on a network).
fn chunks(text: &str) -> impl Stream<Item = Result<Vec<u8>, Infallible>> + Unpin {
    let pieces: Vec<Result<Vec<u8>, Infallible>> =
        text.as_bytes().chunks(7).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(pieces)
}

fn snapshot_event(revision: u64, flags: &[serde_json::Value]) -> String {
    let body = json!({"environmentID": 3, "revision": revision, "view": "server", "flags": flags});
    format!("retry: 1000\n\nevent: snapshot\nid: {revision}\ndata: {body}\n\n")
}

fn keys(syncer: &Syncer) -> Vec<String> {
    let loaded = syncer.shared.loaded();
    loaded
        .snapshot
        .flags()
        .map(|f| f.key().to_owned())
        .collect()
}

#[tokio::test]
async fn a_revision_is_applied_when_its_last_event_arrives() {
    let mut syncer = syncer(None);
    let mut text = snapshot_event(17, &[flag(1, "a"), flag(2, "b")]);
    text.push_str(&format!(
        "event: flag.updated\ndata: {}\n\nevent: flag.deleted\nid: 18\ndata: {}\n\n",
        json!({"revision": 18, "flag": flag(3, "c")}),
        json!({"revision": 18, "flagID": 1, "flagKey": "a"}),
    ));
    text.push_str("data: {\"type\": \"refetchEvaluation\", \"etag\": \"18\"}\n\n");
    let end = syncer.follow(chunks(&text)).await;
    assert!(matches!(end, End::Closed), "{end}");
    assert_eq!(syncer.shared.loaded().snapshot.revision(), 18);
    assert_eq!(keys(&syncer), ["b", "c"]);
    assert_eq!(syncer.shared.loaded().origin, Some((3, View::Server)));
    assert!(syncer.fresh);
}

#[tokio::test]
async fn a_revision_cut_off_half_way_is_not_applied() {
    let mut syncer = syncer(None);
    let mut text = snapshot_event(17, &[flag(1, "a")]);
    text.push_str(&format!(
        "event: flag.updated\ndata: {}\n\n",
        json!({"revision": 18, "flag": flag(3, "c")}),
    ));
    let end = syncer.follow(chunks(&text)).await;
    assert!(matches!(end, End::Closed), "{end}");
    assert_eq!(syncer.shared.loaded().snapshot.revision(), 17);
    assert_eq!(keys(&syncer), ["a"]);
}

#[tokio::test]
async fn a_replayed_revision_without_a_snapshot_applies_to_the_configuration_in_use() {
    let mut syncer = syncer(None);
    syncer
        .follow(chunks(&snapshot_event(5, &[flag(1, "a")])))
        .await;
    let changed =
        json!({"revision": 9, "flag": {"id": 1, "key": "a", "salt": "a", "enabled": false}});
    let text = format!("event: flag.updated\nid: 9\ndata: {changed}\n\n");
    syncer.follow(chunks(&text)).await;
    let loaded = syncer.shared.loaded();
    assert_eq!(loaded.snapshot.revision(), 9);
    assert!(!loaded.snapshot.flag_by_key("a").unwrap().enabled());
}

#[tokio::test]
async fn a_heartbeat_ahead_of_the_applied_revision_ends_the_stream() {
    let mut syncer = syncer(None);
    let mut text = snapshot_event(4, &[]);
    text.push_str("event: heartbeat\ndata: {\"revision\": 4}\n\n");
    text.push_str("event: heartbeat\ndata: {\"revision\": 6}\n\n");
    let end = syncer.follow(chunks(&text)).await;
    assert!(matches!(end, End::Behind(6)), "{end}");
}

#[tokio::test]
async fn an_event_that_does_not_parse_ends_the_stream_and_asks_for_a_full_snapshot_next() {
    let mut syncer = syncer(None);
    let mut text = snapshot_event(4, &[flag(1, "a")]);
    text.push_str("event: flag.updated\nid: 5\ndata: {\"revision\": 5}\n\n");
    let end = syncer.follow(chunks(&text)).await;
    assert!(matches!(end, End::Invalid(..)), "{end}");
    assert!(!syncer.fresh);
    assert_eq!(syncer.shared.loaded().snapshot.revision(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_silent_stream_ends_after_the_heartbeat_timeout() {
    let mut syncer = syncer(None);
    let silent = futures_util::stream::pending::<Result<Vec<u8>, Infallible>>();
    let end = syncer.follow(silent).await;
    assert!(matches!(end, End::Silent), "{end}");
}

#[tokio::test]
async fn every_applied_change_is_written_to_the_snapshot_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let mut syncer = syncer(Some(path.clone()));
    let mut text = snapshot_event(2, &[flag(1, "a")]);
    text.push_str(&format!(
        "event: flag.updated\nid: 3\ndata: {}\n\n",
        json!({"revision": 3, "flag": flag(2, "b")}),
    ));
    syncer.follow(chunks(&text)).await;
    let saved = persist::load(&path).expect("the file was written");
    assert_eq!(saved.revision, 3);
    assert_eq!(saved.environment_id, 3);
    let keys: Vec<_> = saved.flags.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
}
