//! Closing: what is pending is sent at once, nothing is recorded after, a failing or silent server is
//! given up at the shutdown timeout, and dropping the last handle closes too.

use super::*;

#[tokio::test(start_paused = true)]
async fn close_sends_what_is_pending_then_records_nothing() {
    let (client, script) = client(options());
    evaluate_many(&client, 3);
    client.track("signup", "e1", None, None);
    let start = Instant::now();
    client.close().await;
    let seen = script.seen();
    let shape: Vec<(Kind, usize, Duration)> = seen
        .iter()
        .map(|s| (s.kind, s.items.len(), s.at - start))
        .collect();
    assert_eq!(
        shape,
        [
            (Kind::Exposures, 3, Duration::ZERO),
            (Kind::Events, 1, Duration::ZERO)
        ]
    );
    client.evaluate("f", "after", &json!({}));
    client.track("signup", "after", None, None);
    let stats = client.recording_stats();
    assert_eq!((stats.exposures.accepted, stats.exposures.dropped), (3, 1));
    assert_eq!((stats.events.accepted, stats.events.dropped), (1, 1));
    client.flush().await;
    assert_eq!(script.seen().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn close_gives_up_at_the_shutdown_timeout_while_the_server_fails() {
    let (client, script) = client(options());
    script.otherwise(Answer::Status(503));
    evaluate_many(&client, 3);
    let start = Instant::now();
    client.close().await;
    assert!(
        start.elapsed() <= Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(script.seen().len() >= 2);
    let stats = client.recording_stats().exposures;
    assert_eq!((stats.lost, stats.accepted, stats.pending()), (3, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn close_stops_waiting_for_a_server_that_never_answers() {
    let (client, script) = client(options());
    script.otherwise(Answer::Hang);
    evaluate_many(&client, 3);
    client.track("signup", "e1", None, None);
    let start = Instant::now();
    client.close().await;
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    let stats = client.recording_stats();
    assert_eq!((stats.exposures.lost, stats.events.lost), (3, 1));
    assert_eq!(
        script.seen().len(),
        1,
        "nothing is tried after the deadline"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_handle_sends_what_is_pending() {
    let (client, script) = client(options());
    let other = client.clone();
    evaluate_many(&client, 2);
    let start = Instant::now();
    drop(client);
    other.evaluate("f", "e2", &json!({}));
    drop(other);
    let seen = script.requests(1).await;
    assert_eq!(seen[0].at - start, Duration::ZERO);
    assert_eq!(entities(&seen[0]), ["e0", "e1", "e2"]);
}
