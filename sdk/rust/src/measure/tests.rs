//! The sending task against a scripted server, on Tokio's paused clock (every delay is exact and no test
//! waits in real time): the flush interval, full batches, deduplication and the bounded buffer here;
//! retries, refusals and the size limit in `retries.rs`; closing in `closing.rs`; what the client records
//! in `recording.rs`.

mod closing;
mod recording;
mod retries;

use super::*;
use crate::client::Client;
use crate::http::Failure;
use crate::state::{Loaded, Shared, Status};
use crate::wire::{Ingested, Rejected, View};
use reqwest::StatusCode;
use sender::{Deliver, MAX_BODY_BYTES};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::time::{Instant, timeout};

/// How the scripted server answers one request.
#[derive(Debug, Clone)]
enum Answer {
    Accept,
    /// Accepts all but the first item.
    RefuseFirst,
    Busy(Option<Duration>),
    Status(u16),
    TimedOut,
    /// Never answers.
    Hang,
}

/// One request the scripted server received.
#[derive(Debug, Clone)]
struct Seen {
    kind: Kind,
    at: Instant,
    bytes: usize,
    items: Vec<Value>,
}

#[derive(Debug)]
struct ScriptState {
    answers: VecDeque<Answer>,
    otherwise: Answer,
    seen: Vec<Seen>,
}

/// A server that answers from a script and remembers every request.
#[derive(Debug, Clone)]
struct Script {
    state: Arc<Mutex<ScriptState>>,
    count: Arc<watch::Sender<usize>>,
}

impl Script {
    fn new() -> Script {
        Script {
            state: Arc::new(Mutex::new(ScriptState {
                answers: VecDeque::new(),
                otherwise: Answer::Accept,
                seen: Vec::new(),
            })),
            count: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Answers the next requests so, then as before.
    fn answers(&self, answers: impl IntoIterator<Item = Answer>) {
        lock(&self.state).answers.extend(answers);
    }

    /// Answers every request not scripted so.
    fn otherwise(&self, answer: Answer) {
        lock(&self.state).otherwise = answer;
    }

    /// Waits until `n` requests have arrived; all requests so far.
    async fn requests(&self, n: usize) -> Vec<Seen> {
        let mut count = self.count.subscribe();
        let _ = count.wait_for(|count| *count >= n).await;
        self.seen()
    }

    fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }
}

impl Deliver for Script {
    async fn send(&self, kind: Kind, body: Vec<u8>) -> Result<Option<Ingested>, Failure> {
        let parsed: Value = serde_json::from_slice(&body).expect("the body is JSON");
        let items = parsed[kind.field()].as_array().expect("items").clone();
        let count = items.len() as u64;
        let answer = {
            let mut state = lock(&self.state);
            state.seen.push(Seen {
                kind,
                at: Instant::now(),
                bytes: body.len(),
                items,
            });
            let otherwise = state.otherwise.clone();
            state.answers.pop_front().unwrap_or(otherwise)
        };
        self.count.send_modify(|n| *n += 1);
        let status = |code| Failure::Status(StatusCode::from_u16(code).unwrap());
        match answer {
            Answer::Accept => Ok(Some(Ingested {
                accepted: count,
                rejected: Vec::new(),
            })),
            Answer::RefuseFirst => Ok(Some(Ingested {
                accepted: count - 1,
                rejected: vec![Rejected {
                    index: 0,
                    code: "unknown_event".into(),
                    message: "no metric reads it".into(),
                }],
            })),
            Answer::Busy(after) => Err(Failure::Busy(after)),
            Answer::Status(code) => Err(status(code)),
            Answer::TimedOut => Err(Failure::TimedOut),
            Answer::Hang => std::future::pending().await,
        }
    }
}

fn flag(id: i64, key: &str, variants: &[&str]) -> flagent_eval::FlagConfig {
    let variants: Vec<Value> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"id": id * 10 + i as i64, "key": v}))
        .collect();
    serde_json::from_value(json!({"id": id, "key": key, "salt": key, "enabled": true,
        "variants": variants,
        "segments": [{"id": id, "rank": 0, "rolloutPercent": 100,
            "distributions": [{"variantId": id * 10, "percent": 100}]}]}))
    .unwrap()
}

/// Options for tests: the defaults with a fast back-off.
fn options() -> Options {
    Options {
        backoff_min: Duration::from_secs(1),
        backoff_max: Duration::from_secs(8),
        ..Options::default()
    }
}

/// A client whose configuration is the boolean flag `f` (everyone `on`) and the flag `color`
/// (everyone `blue`), sending to a script; `loaded` false starts without any configuration.
fn client_with(options: Options, loaded: bool) -> (Client, Script) {
    let configuration = if loaded {
        Loaded {
            snapshot: flagent_eval::Snapshot::build(
                1,
                vec![flag(1, "f", &["on", "off"]), flag(2, "color", &["blue"])],
            ),
            origin: Some((3, View::Server)),
        }
    } else {
        Loaded {
            snapshot: flagent_eval::Snapshot::default(),
            origin: None,
        }
    };
    let shared = Arc::new(Shared::new(configuration, Status::Connected));
    let recorder = Arc::new(Recorder::new(options));
    let script = Script::new();
    tokio::spawn(run(recorder.clone(), script.clone()));
    (
        Client::new(shared, recorder, tokio::spawn(async {})),
        script,
    )
}

fn client(options: Options) -> (Client, Script) {
    client_with(options, true)
}

fn entities(seen: &Seen) -> Vec<&str> {
    seen.items
        .iter()
        .map(|item| item["entityID"].as_str().unwrap())
        .collect()
}

fn evaluate_many(client: &Client, count: usize) {
    for i in 0..count {
        client.evaluate("f", &format!("e{i}"), &json!({}));
    }
}

#[tokio::test(start_paused = true)]
async fn exposures_wait_for_the_flush_interval_and_repeats_go_once() {
    let (client, script) = client(options());
    let start = Instant::now();
    let before = now_millis();
    for _ in 0..50 {
        for entity in ["e1", "e2", "e3"] {
            client.evaluate("f", entity, &json!({}));
        }
    }
    let seen = script.requests(1).await;
    assert_eq!(seen[0].at - start, Duration::from_secs(10));
    assert_eq!(seen[0].kind, Kind::Exposures);
    assert_eq!(entities(&seen[0]), ["e1", "e2", "e3"]);
    let item = &seen[0].items[0];
    assert_eq!(
        (&item["flagKey"], &item["variantKey"]),
        (&json!("f"), &json!("on"))
    );
    let at = item["timestamp"].as_i64().unwrap();
    assert!(at >= before && at <= now_millis(), "{item}");
    client.flush().await;
    let stats = client.recording_stats().exposures;
    assert_eq!(
        (
            stats.buffered,
            stats.deduplicated,
            stats.accepted,
            stats.requests
        ),
        (3, 147, 3, 1)
    );
    assert_eq!(stats.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_sent_while_nothing_is_recorded() {
    let (client, script) = client(options());
    let start = Instant::now();
    let quiet = timeout(Duration::from_secs(25), script.requests(1)).await;
    assert!(quiet.is_err(), "no request while the buffers are empty");
    client.evaluate("f", "late", &json!({}));
    let seen = script.requests(1).await;
    assert_eq!(seen[0].at - start, Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_goes_at_once_and_the_rest_at_the_interval() {
    let (client, script) = client(Options {
        flush_interval: Duration::from_secs(3),
        ..options()
    });
    let start = Instant::now();
    evaluate_many(&client, 2_500);
    let seen = script.requests(3).await;
    let shape: Vec<(usize, Duration)> =
        seen.iter().map(|s| (s.items.len(), s.at - start)).collect();
    assert_eq!(
        shape,
        [
            (1_000, Duration::ZERO),
            (1_000, Duration::ZERO),
            (500, Duration::from_secs(3))
        ]
    );
    assert_eq!(entities(&seen[2])[0], "e2000");
}

#[tokio::test(start_paused = true)]
async fn a_pair_is_sent_again_once_it_leaves_the_recent_set() {
    let (client, script) = client(Options {
        recent: 2,
        ..options()
    });
    for entity in ["a", "b", "a", "c", "a", "a"] {
        client.evaluate("f", entity, &json!({}));
    }
    client.evaluate("color", "a", &json!({}));
    client.flush().await;
    let seen = script.seen();
    assert_eq!(entities(&seen[0]), ["a", "b", "c", "a", "a"]);
    let flags: Vec<&Value> = seen[0].items.iter().map(|i| &i["flagKey"]).collect();
    assert_eq!(flags.last(), Some(&&json!("color")));
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_drops_and_counts_without_making_evaluation_wait() {
    let (client, script) = client(Options {
        capacity: 10,
        ..options()
    });
    script.answers([Answer::Hang]);
    evaluate_many(&client, 25);
    let stats = client.recording_stats().exposures;
    assert_eq!((stats.buffered, stats.dropped), (10, 15));
    // The first batch is taken at the interval and the server never answers it: evaluation goes on,
    // and the buffer has room for ten more.
    let seen = script.requests(1).await;
    assert_eq!(entities(&seen[0]).len(), 10);
    for i in 0..12 {
        client.evaluate("f", &format!("later{i}"), &json!({}));
    }
    let stats = client.recording_stats().exposures;
    assert_eq!(
        (stats.buffered, stats.dropped, stats.pending()),
        (20, 17, 20)
    );
}
