//! Sending against a scripted local server (the real one cannot be made to refuse at will): after a
//! `429` the same batch goes again (how long it waits for `Retry-After` is tested on tokio's paused
//! clock in the crate's unit tests), a server error is retried with the back-off,
//! a malformed-request refusal is not retried, and requests carry the key and the environment.

use crate::local::{Local, Reply};
use crate::{builder, within};
use serde_json::json;

const BUSY: Reply = Reply {
    status: 429,
    retry_after: Some(0),
};

#[tokio::test]
async fn a_429_is_sent_again_with_the_same_batch_key_and_environment() {
    let local = Local::start(&[BUSY]).await;
    let sdk = builder(&local.address, "flg_eval_test")
        .environment("production")
        .build()
        .await
        .unwrap();
    sdk.evaluate("banner", "user-1", &json!({}));
    within("the flush", sdk.flush()).await;
    let received = local.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(received[1].path, "/api/v1/exposures");
    let exposure = &received[1].body["exposures"][0];
    assert_eq!(
        (
            &exposure["flagKey"],
            &exposure["variantKey"],
            &exposure["entityID"]
        ),
        (&json!("banner"), &json!("on"), &json!("user-1"))
    );
    assert_eq!(
        received[1].authorization.as_deref(),
        Some("Bearer flg_eval_test")
    );
    assert_eq!(received[1].environment.as_deref(), Some("production"));
    let stats = sdk.recording_stats().exposures;
    assert_eq!((stats.accepted, stats.requests), (1, 2));
}

#[tokio::test]
async fn a_server_error_is_retried_and_a_malformed_request_is_not() {
    let unavailable = Reply {
        status: 503,
        retry_after: None,
    };
    let malformed = Reply {
        status: 400,
        retry_after: None,
    };
    let local = Local::start(&[unavailable, malformed]).await;
    let sdk = builder(&local.address, "flg_eval_test")
        .build()
        .await
        .unwrap();
    sdk.track("signup", "user-1", None, None);
    within("the first flush", sdk.flush()).await;
    sdk.track("signup", "user-2", None, None);
    within("the second flush", sdk.flush()).await;
    let entities: Vec<String> = local
        .received()
        .iter()
        .map(|r| r.body["events"][0]["entityID"].to_string())
        .collect();
    assert_eq!(entities, [r#""user-1""#, r#""user-1""#, r#""user-2""#]);
    let stats = sdk.recording_stats().events;
    assert_eq!((stats.accepted, stats.rejected, stats.requests), (1, 1, 3));
}
