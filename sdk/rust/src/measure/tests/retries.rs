//! Retries and refusals: `429` waits for its `Retry-After`, failures wait for the back-off (reset by a
//! delivery), a refused request is final, refused items are counted, and requests stay under 1 MiB.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_429_waits_for_its_retry_after() {
    let (client, script) = client(options());
    script.answers([Answer::Busy(Some(Duration::from_secs(7))), Answer::Accept]);
    evaluate_many(&client, 3);
    let start = Instant::now();
    client.flush().await;
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    let seen = script.seen();
    let times: Vec<Duration> = seen.iter().map(|s| s.at - start).collect();
    assert_eq!(times, [Duration::ZERO, Duration::from_secs(7)]);
    assert_eq!(entities(&seen[0]), entities(&seen[1]));
    let stats = client.recording_stats().exposures;
    assert_eq!((stats.accepted, stats.requests), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn server_errors_and_timeouts_retry_with_back_off_reset_by_a_delivery() {
    let (client, script) = client(options());
    script.answers([
        Answer::Status(503),
        Answer::TimedOut,
        Answer::Busy(None),
        Answer::Accept,
        Answer::Status(500),
        Answer::Accept,
    ]);
    evaluate_many(&client, 3);
    client.flush().await;
    client.track("signup", "e1", None, None);
    client.flush().await;
    let seen = script.seen();
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    let within = |gap: Duration, ceiling: u64| {
        let ceiling = Duration::from_secs(ceiling);
        gap >= ceiling / 2 && gap <= ceiling
    };
    // Attempt n waits within [d/2, d] for d = 1 s · 2ⁿ; after the delivery, the back-off starts over.
    assert!(within(gaps[0], 1), "{gaps:?}");
    assert!(within(gaps[1], 2), "{gaps:?}");
    assert!(within(gaps[2], 4), "{gaps:?}");
    assert_eq!(seen[4].kind, Kind::Events);
    assert!(within(gaps[4], 1), "{gaps:?}");
    let stats = client.recording_stats();
    assert_eq!((stats.exposures.accepted, stats.exposures.requests), (3, 4));
    assert_eq!((stats.events.accepted, stats.events.requests), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_refused_request_is_not_sent_again() {
    let (client, script) = client(options());
    script.answers([Answer::Status(400)]);
    evaluate_many(&client, 3);
    client.flush().await;
    client.evaluate("f", "next", &json!({}));
    client.flush().await;
    assert_eq!(script.seen().len(), 2);
    let stats = client.recording_stats().exposures;
    assert_eq!((stats.rejected, stats.accepted, stats.requests), (3, 1, 2));
}

#[tokio::test(start_paused = true)]
async fn items_the_server_refuses_one_by_one_are_counted() {
    let (client, script) = client(options());
    script.answers([Answer::RefuseFirst]);
    client.track("$pageview", "e1", None, None);
    client.track("signup", "e1", None, None);
    client.flush().await;
    let stats = client.recording_stats().events;
    assert_eq!((stats.accepted, stats.rejected, stats.pending()), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn requests_stay_under_a_mebibyte_and_an_item_too_large_for_any_is_refused() {
    let (client, script) = client(options());
    let blob = "x".repeat(3_000);
    for i in 0..1_000 {
        client.track(
            "view",
            &format!("e{i}"),
            Some(1.0),
            Some(json!({"blob": blob})),
        );
        if i == 500 {
            let huge = "y".repeat(MAX_BODY_BYTES);
            client.track("view", "huge", None, Some(json!({ "blob": huge })));
        }
    }
    client.flush().await;
    let seen = script.seen();
    assert!(seen.len() >= 3, "{} requests", seen.len());
    assert!(seen.iter().all(|s| s.bytes <= MAX_BODY_BYTES));
    let sent: Vec<&str> = seen.iter().flat_map(entities).collect();
    let expected: Vec<String> = (0..1_000).map(|i| format!("e{i}")).collect();
    assert_eq!(sent, expected);
    let stats = client.recording_stats().events;
    assert_eq!((stats.accepted, stats.rejected), (1_000, 1));
}
