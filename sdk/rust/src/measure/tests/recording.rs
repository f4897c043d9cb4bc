//! What the client records: the fields of tracked events and errors, the `$error` events of evaluation
//! errors (unknown flags, typed getters given another type), and the switches that turn recording off.

use super::*;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The events the script received, in order.
fn events(script: &Script) -> Vec<Value> {
    script
        .seen()
        .into_iter()
        .filter(|s| s.kind == Kind::Events)
        .flat_map(|s| s.items)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn track_sends_the_key_entity_value_and_properties() {
    let (client, script) = client(options());
    let before = now_millis();
    client.track("purchase", "u1", Some(12.5), Some(json!({"plan": "pro"})));
    client.track("signup", "u2", None, None);
    client.flush().await;
    let sent = events(&script);
    let at = sent[0]["timestamp"].as_i64().unwrap();
    assert!(at >= before && at <= now_millis());
    assert_eq!(
        sent,
        [
            json!({"key": "purchase", "entityID": "u1", "timestamp": at, "value": 12.5,
                "properties": {"plan": "pro"}}),
            json!({"key": "signup", "entityID": "u2", "timestamp": sent[1]["timestamp"]}),
        ]
    );
    assert_eq!(client.recording_stats().events.accepted, 2);
}

#[tokio::test(start_paused = true)]
async fn track_error_sends_an_error_event_cut_to_the_servers_limits() {
    let (client, script) = client(options());
    let long = "é".repeat(2_000);
    client.track_error("u1", "TimeoutError", "the payment service did not answer");
    client.track_error("u2", &long, &long);
    client.flush().await;
    let sent = events(&script);
    assert_eq!(sent[0]["key"], ERROR_EVENT);
    assert_eq!(
        sent[0]["properties"],
        json!({"type": "TimeoutError", "message": "the payment service did not answer"})
    );
    let properties = &sent[1]["properties"];
    assert_eq!(properties["type"].as_str().unwrap().len(), 256);
    assert_eq!(properties["message"].as_str().unwrap().len(), 1_024);
}

#[tokio::test(start_paused = true)]
async fn unknown_flags_and_mismatched_types_record_errors() {
    let (client, script) = client(options());
    let context = json!({});
    assert_eq!(client.evaluate("missing", "u1", &context).variant_key, None);
    assert!(client.bool_value("color", "u2", &context, true));
    assert_eq!(client.number_value("color", "u3", &context, 4.0), 4.0);
    assert_eq!(client.string_value("color", "u4", &context, "x"), "blue");
    assert!(client.bool_value("f", "u5", &context, false));
    client.flush().await;
    let sent = events(&script);
    assert!(sent.iter().all(|e| e["key"] == ERROR_EVENT));
    let errors: Vec<(&str, &str, &str)> = sent
        .iter()
        .map(|e| {
            let p = &e["properties"];
            (text(&e["entityID"]), text(&p["type"]), text(&p["flagKey"]))
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("u1", "FLAG_NOT_FOUND", "missing"),
            ("u2", "TYPE_MISMATCH", "color"),
            ("u3", "TYPE_MISMATCH", "color"),
        ]
    );
    assert_eq!(
        sent[1]["properties"]["message"],
        "the flag \"color\" gives a string, not a boolean"
    );
    // The mismatched evaluations still served a variant: their exposures are recorded.
    assert_eq!(client.recording_stats().exposures.accepted, 4);
}

#[tokio::test(start_paused = true)]
async fn no_error_is_recorded_before_any_configuration_is_loaded() {
    let (client, script) = client_with(options(), false);
    client.evaluate("f", "u1", &json!({}));
    client.flush().await;
    assert!(script.seen().is_empty());
    assert_eq!(client.recording_stats(), RecordingStats::default());
}

#[tokio::test(start_paused = true)]
async fn recording_switches_turn_exposures_and_evaluation_errors_off() {
    let (client, script) = client(Options {
        exposures: false,
        evaluation_errors: false,
        ..options()
    });
    client.evaluate("f", "u1", &json!({}));
    client.evaluate("missing", "u1", &json!({}));
    client.track_error("u1", "Explicit", "still sent");
    client.flush().await;
    let seen = script.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, Kind::Events);
    assert_eq!(seen[0].items[0]["properties"]["type"], "Explicit");
}

#[tokio::test(start_paused = true)]
async fn an_empty_entity_records_no_exposure() {
    let (client, script) = client(options());
    client.evaluate("f", "", &json!({}));
    client.flush().await;
    assert!(script.seen().is_empty());
}
