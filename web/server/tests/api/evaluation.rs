//! Evaluation routes: the spec's bucketing vectors, constraints, segment order, reasons, debug logs,
//! the GET forms, batches and prerequisites, all through flags built with the management API.

use crate::helpers::{BuiltFlag, SegmentSpec, TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// `(entityID, bucket, variant at r=100, variant at r=30)` for salt `new-checkout`, variants 1 and 2
/// at 50/50 (evaluation.md).
const VECTORS: [(&str, u32, &str, Option<&str>); 5] = [
    ("user-1", 631, "2", Some("2")),
    ("user-2", 789, "2", None),
    ("alice@example.com", 218, "1", None),
    ("device:abc", 462, "1", None),
    ("ü-ñ-中文", 746, "2", None),
];

const CA: (&str, &str, &str) = ("state", "EQ", "\"CA\"");

fn everyone<'a>(percents: &'a [i64]) -> SegmentSpec<'a> {
    SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents,
    }
}

/// Builds a flag in production with tenant A's admin key.
async fn build(
    app: &TestApp,
    key: &str,
    variants: &[&str],
    segments: &[SegmentSpec<'_>],
) -> BuiltFlag {
    app.build_flag(&app.a.admin, "production", key, variants, segments)
        .await
}

/// The spec's `new-checkout` flag: variants `1` and `2` at 50/50, rollout 100.
async fn new_checkout(app: &TestApp) -> BuiltFlag {
    let flag = build(app, "new-checkout", &["1", "2"], &[everyone(&[50, 50])]).await;
    assert!(flag.variants.is_sorted(), "variant ids must ascend");
    flag
}

/// Evaluates `flag_key` for `entity` with `context` through tenant A's production key; expects a 200.
async fn eval(app: &TestApp, flag_key: &str, entity: &str, context: Value) -> Value {
    let body = json!({"flagKey": flag_key, "entityID": entity, "entityContext": context});
    let (status, result) = app.evaluate(body).await;
    assert_eq!(status, 200, "{result}");
    result
}

fn variant(result: &Value) -> Option<&str> {
    result["variantKey"].as_str()
}

#[tokio::test]
async fn evaluate_spec_vectors_at_full_rollout_returns_table_variants() {
    let app = spawn_app().await;
    let flag = new_checkout(&app).await;
    for (entity, bucket, expected, _) in VECTORS {
        let body = json!({"flagKey": "new-checkout", "entityID": entity, "enableDebug": true});
        let (status, r) = app.evaluate(body).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(variant(&r), Some(expected), "{entity}: {r}");
        let position = if expected == "1" { 0 } else { 1 };
        assert_eq!(r["variantID"], flag.variants[position], "{entity}");
        assert_eq!(r["reason"], "SPLIT", "{entity}");
        assert_eq!(r["segmentID"], flag.segments[0]);
        assert_eq!(r["flagID"], flag.id);
        assert_eq!(r["evalContext"]["entityID"], entity);
        let log = r["evalDebugLog"]["segmentDebugLogs"][0]["msg"]
            .as_str()
            .unwrap();
        assert!(
            log.contains(&format!("bucket {bucket} ")),
            "{entity}: {log}"
        );
    }
}

#[tokio::test]
async fn evaluate_spec_vectors_at_30_percent_rollout_keeps_only_low_window_entities() {
    let app = spawn_app().await;
    let flag = new_checkout(&app).await;
    let path = format!("/api/v1/flags/{}/segments/{}", flag.id, flag.segments[0]);
    let body = json!({"description": "segment", "rolloutPercent": 30});
    let (status, seg) = app.admin_prod(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200, "{seg}");
    for (entity, _, _, expected) in VECTORS {
        let r = eval(&app, "new-checkout", entity, json!({})).await;
        assert_eq!(variant(&r), expected, "{entity}: {r}");
        if expected.is_none() {
            assert!(r.get("variantID").is_none(), "{r}");
            assert_eq!(r["reason"], "DEFAULT");
            assert_eq!(r["segmentID"], flag.segments[0], "the segment matched");
        }
    }
}

#[tokio::test]
async fn evaluate_three_way_split_orders_windows_by_variant_id() {
    let app = spawn_app().await;
    // Created in id order 3 < 7 < 9; the shares are 7: 20%, 3: 30%, 9: 50%.
    let flag = build(
        &app,
        "new-checkout",
        &["3", "7", "9"],
        &[everyone(&[30, 20, 50])],
    )
    .await;
    assert!(flag.variants.is_sorted());
    for (entity, expected) in [
        ("user-1", "9"),
        ("alice@example.com", "3"),
        ("device:abc", "7"),
    ] {
        let r = eval(&app, "new-checkout", entity, json!({})).await;
        assert_eq!(variant(&r), Some(expected), "{entity}: {r}");
    }
}

#[tokio::test]
async fn evaluate_with_constraint_matches_only_equal_typed_value() {
    let app = spawn_app().await;
    let segment = SegmentSpec {
        constraints: &[CA],
        rollout: 100,
        percents: &[100],
    };
    build(&app, "west", &["on"], &[segment]).await;
    let r = eval(&app, "west", "u1", json!({"state": "CA"})).await;
    assert_eq!(variant(&r), Some("on"), "{r}");
    assert_eq!(r["reason"], "TARGETING_MATCH");
    assert_eq!(r["variantAttachment"], json!({}));
    for context in [
        json!({"state": "NY"}),
        json!({"state": 5}),
        json!({}),
        Value::Null,
    ] {
        let r = eval(&app, "west", "u1", context.clone()).await;
        assert_eq!(variant(&r), None, "{context}: {r}");
        assert_eq!(r["reason"], "DEFAULT");
        assert!(r.get("segmentID").is_none(), "{r}");
    }
}

#[tokio::test]
async fn evaluate_matched_segment_excluding_entity_stops_before_later_segments() {
    let app = spawn_app().await;
    let gated = SegmentSpec {
        constraints: &[CA],
        rollout: 0,
        percents: &[100, 0],
    };
    let flag = build(&app, "ordered", &["a", "b"], &[gated, everyone(&[0, 100])]).await;
    let r = eval(&app, "ordered", "u1", json!({"state": "CA"})).await;
    assert_eq!(variant(&r), None, "{r}");
    assert_eq!(r["segmentID"], flag.segments[0]);
    assert_eq!(r["reason"], "DEFAULT");
    let r = eval(&app, "ordered", "u1", json!({"state": "NY"})).await;
    assert_eq!(variant(&r), Some("b"), "{r}");
    assert_eq!(r["segmentID"], flag.segments[1]);
    // With the catch-all segment first, it decides for everyone.
    let path = format!("/api/v1/flags/{}/segments/reorder", flag.id);
    let body = json!({"segmentIDs": [flag.segments[1], flag.segments[0]]});
    let (status, body) = app.admin_prod(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    let r = eval(&app, "ordered", "u1", json!({"state": "CA"})).await;
    assert_eq!(variant(&r), Some("b"), "{r}");
}

#[tokio::test]
async fn evaluate_disabled_flag_returns_reason_disabled() {
    let app = spawn_app().await;
    let flag = build(&app, "off-flag", &["on"], &[everyone(&[100])]).await;
    let path = format!("/api/v1/flags/{}/enabled", flag.id);
    let (status, body) = app
        .admin_prod(Method::PUT, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, 200, "{body}");
    let r = eval(&app, "off-flag", "u1", json!({})).await;
    assert_eq!(r["reason"], "DISABLED");
    assert!(r.get("variantID").is_none(), "{r}");
}

#[tokio::test]
async fn evaluate_unknown_flag_returns_200_flag_not_found() {
    let app = spawn_app().await;
    for body in [
        json!({"flagKey": "nope", "entityID": "u1", "enableDebug": true}),
        json!({"flagID": 987_654, "entityID": "u1", "enableDebug": true}),
    ] {
        let (status, r) = app.evaluate(body.clone()).await;
        assert_eq!(status, 200, "{r}");
        assert!(r.get("variantID").is_none(), "{r}");
        assert_eq!(r["reason"], "FLAG_NOT_FOUND");
        assert_eq!(r["evalDebugLog"]["msg"], "flag not found");
        let named = if body.get("flagKey").is_some() {
            "flagKey"
        } else {
            "flagID"
        };
        assert_eq!(r[named], body[named], "the request's flag is echoed");
    }
}

#[tokio::test]
async fn evaluate_without_entity_id_generates_and_echoes_one() {
    let app = spawn_app().await;
    build(&app, "anon", &["on"], &[everyone(&[100])]).await;
    let (status, r) = app.evaluate(json!({"flagKey": "anon"})).await;
    assert_eq!(status, 200, "{r}");
    let id = r["evalContext"]["entityID"].as_str().unwrap();
    assert!(id.starts_with("randomly_generated_"), "{r}");
    assert_eq!(variant(&r), Some("on"));
}

#[tokio::test]
async fn evaluate_with_debug_logs_every_visited_segment() {
    let app = spawn_app().await;
    let west = SegmentSpec {
        constraints: &[CA],
        rollout: 100,
        percents: &[100, 0],
    };
    let flag = build(&app, "debugged", &["a", "b"], &[west, everyone(&[0, 100])]).await;
    let body = json!({"flagKey": "debugged", "entityID": "u1", "entityContext": {"state": "NY"},
        "enableDebug": true});
    let (_, r) = app.evaluate(body).await;
    let logs = r["evalDebugLog"]["segmentDebugLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{r}");
    assert_eq!(logs[0]["segmentID"], flag.segments[0]);
    assert!(logs[0]["msg"].as_str().unwrap().contains("state"), "{r}");
    assert_eq!(logs[1]["segmentID"], flag.segments[1]);
    assert!(logs[1]["msg"].as_str().unwrap().contains("bucket"), "{r}");
    assert!(!r["evalDebugLog"]["msg"].as_str().unwrap().is_empty());
    let (_, quiet) = app
        .evaluate(json!({"flagKey": "debugged", "entityID": "u1"}))
        .await;
    assert!(quiet.get("evalDebugLog").is_none(), "{quiet}");
}

async fn get_eval(app: &TestApp, path: &str, json: &str) -> (u16, Value) {
    let req = app
        .request(Method::GET, path, &app.a.eval)
        .query(&[("json", json)]);
    read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn get_evaluation_with_json_query_matches_post() {
    let app = spawn_app().await;
    new_checkout(&app).await;
    let body = json!({"flagKey": "new-checkout", "entityID": "user-1"});
    let (status, got) = get_eval(&app, "/api/v1/evaluation", &body.to_string()).await;
    assert_eq!(status, 200, "{got}");
    let (_, posted) = app.evaluate(body).await;
    assert_eq!(got["variantKey"], "2");
    assert_eq!(got["variantID"], posted["variantID"]);
    assert_eq!(got["segmentID"], posted["segmentID"]);
}

#[tokio::test]
async fn get_evaluation_with_bad_json_returns_400_invalid_json() {
    let app = spawn_app().await;
    for path in ["/api/v1/evaluation", "/api/v1/evaluation/batch"] {
        let (status, body) = get_eval(&app, path, "{not json").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(code(&body), "invalid_json");
    }
}

#[tokio::test]
async fn evaluate_without_flag_id_or_key_returns_400() {
    let app = spawn_app().await;
    for body in [
        json!({"entityID": "u1"}),
        json!({"flagKey": "", "flagID": 0}),
    ] {
        let (status, r) = app.evaluate(body).await;
        assert_eq!(status, 400, "{r}");
        assert_eq!(code(&r), "validation_failed");
        assert_eq!(r["error"]["field"], "flagID");
    }
}

#[tokio::test]
async fn evaluate_with_non_object_context_returns_400() {
    let app = spawn_app().await;
    new_checkout(&app).await;
    for context in [json!("CA"), json!([1, 2]), json!(3)] {
        let body = json!({"flagKey": "new-checkout", "entityID": "u1", "entityContext": context});
        let (status, r) = app.evaluate(body).await;
        assert_eq!(status, 400, "{r}");
        assert_eq!(r["error"]["field"], "entityContext");
    }
}

#[tokio::test]
async fn change_through_api_is_visible_to_the_next_evaluation() {
    let app = spawn_app().await;
    let flag = new_checkout(&app).await;
    assert_eq!(
        variant(&eval(&app, "new-checkout", "user-1", json!({})).await),
        Some("2")
    );
    let path = format!(
        "/api/v1/flags/{}/segments/{}/distributions",
        flag.id, flag.segments[0]
    );
    let body = json!({"distributions": [{"variantID": flag.variants[0], "percent": 100}]});
    let (status, body) = app.admin_prod(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    let r = eval(&app, "new-checkout", "user-1", json!({})).await;
    assert_eq!(variant(&r), Some("1"), "{r}");
    assert_eq!(r["reason"], "TARGETING_MATCH");
    let path = format!("/api/v1/flags/{}/enabled", flag.id);
    let body = json!({"enabled": false});
    assert_eq!(app.admin_prod(Method::PUT, &path, Some(body)).await.0, 200);
    let r = eval(&app, "new-checkout", "user-1", json!({})).await;
    assert_eq!(r["reason"], "DISABLED", "{r}");
    let path = format!("/api/v1/flags/{}", flag.id);
    assert_eq!(app.admin_prod(Method::DELETE, &path, None).await.0, 200);
    let r = eval(&app, "new-checkout", "user-1", json!({})).await;
    assert_eq!(r["reason"], "FLAG_NOT_FOUND", "a deleted flag is gone: {r}");
}

#[tokio::test]
async fn evaluate_flag_configured_only_in_development_gives_no_variant_in_production() {
    let app = spawn_app().await;
    let admin = app.a.admin.clone();
    let spec = [everyone(&[100])];
    app.build_flag(&admin, "development", "dev-only", &["on"], &spec)
        .await;
    let body = json!({"flagKey": "dev-only", "entityID": "u1"});
    let path = "/api/v1/evaluation";
    let (status, dev) = app
        .call(&admin, Some("development"), Method::POST, path, Some(body))
        .await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(variant(&dev), Some("on"), "{dev}");
    let prod = eval(&app, "dev-only", "u1", json!({})).await;
    assert_eq!(variant(&prod), None, "{prod}");
    assert_eq!(prod["reason"], "DISABLED");
}

/// Builds one flag per `(key, tags)`, each giving everyone variant `on`.
async fn tagged_flags(app: &TestApp, flags: &[(&str, &[&str])]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (key, tags) in flags {
        let flag = build(app, key, &["on"], &[everyone(&[100])]).await;
        for tag in *tags {
            let path = format!("/api/v1/flags/{}/tags", flag.id);
            let (status, body) = app
                .admin_prod(Method::POST, &path, Some(json!({"value": tag})))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        ids.push(flag.id);
    }
    ids
}

async fn batch(app: &TestApp, body: Value) -> (u16, Value) {
    let req = app
        .request(Method::POST, "/api/v1/evaluation/batch", &app.a.eval)
        .json(&body);
    read(req.send().await.unwrap()).await
}

fn result_keys(body: &Value) -> Vec<(String, String)> {
    body["evaluationResults"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {body}"))
        .iter()
        .map(|r| {
            let entity = r["evalContext"]["entityID"].as_str().unwrap().to_owned();
            (entity, r["flagKey"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn batch_orders_tag_matches_then_ids_then_keys_per_entity() {
    let app = spawn_app().await;
    let ids = tagged_flags(&app, &[("f-a", &["web"]), ("f-b", &[]), ("f-c", &[])]).await;
    let body = json!({"entities": [{"entityID": "e1"}, {"entityID": "e2"}],
        "flagKeys": ["f-c", "missing"], "flagIDs": [ids[1]], "flagTags": ["web"]});
    let (status, r) = batch(&app, body).await;
    assert_eq!(status, 200, "{r}");
    let expected: Vec<(String, String)> = ["e1", "e2"]
        .iter()
        .flat_map(|e| ["f-a", "f-b", "f-c", "missing"].map(|f| (e.to_string(), f.to_owned())))
        .collect();
    assert_eq!(result_keys(&r), expected);
    let results = r["evaluationResults"].as_array().unwrap();
    assert_eq!(results[0]["variantKey"], "on");
    assert_eq!(results[3]["reason"], "FLAG_NOT_FOUND");
}

#[tokio::test]
async fn batch_with_tag_operator_all_selects_flags_having_every_tag() {
    let app = spawn_app().await;
    let flags: [(&str, &[&str]); 3] = [
        ("both", &["web", "beta"]),
        ("web", &["web"]),
        ("beta", &["beta"]),
    ];
    tagged_flags(&app, &flags).await;
    let entity = json!([{"entityID": "e1"}]);
    let all = json!({"entities": entity, "flagTags": ["web", "beta"], "flagTagsOperator": "ALL"});
    let (status, r) = batch(&app, all).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(result_keys(&r), vec![("e1".to_owned(), "both".to_owned())]);
    let any = json!({"entities": entity, "flagTags": ["web", "beta"], "flagTagsOperator": "ANY"});
    let (_, r) = batch(&app, any).await;
    let mut keys: Vec<String> = result_keys(&r).into_iter().map(|(_, k)| k).collect();
    keys.sort();
    assert_eq!(keys, ["beta", "both", "web"]);
    let bad = json!({"entities": entity, "flagTags": ["web"], "flagTagsOperator": "SOME"});
    assert_eq!(batch(&app, bad).await.0, 400);
}

#[tokio::test]
async fn batch_with_empty_selectors_or_entities_returns_400() {
    let app = spawn_app().await;
    let body = json!({"entities": [{"entityID": "e1"}], "flagKeys": []});
    let (status, r) = batch(&app, body).await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(code(&r), "empty_selector");
    let (status, r) = batch(&app, json!({"entities": [], "flagKeys": ["x"]})).await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["field"], "entities");
}

#[tokio::test]
async fn batch_over_10000_results_returns_413_batch_too_large() {
    let app = spawn_app().await;
    tagged_flags(&app, &[("big", &[])]).await;
    let body = |n: usize| {
        let entities: Vec<Value> = (0..n)
            .map(|i| json!({"entityID": format!("e{i}")}))
            .collect();
        json!({"entities": entities, "flagKeys": ["big"]})
    };
    let (status, r) = batch(&app, body(10_001)).await;
    assert_eq!(status, 413, "{r}");
    assert_eq!(code(&r), "batch_too_large");
    let (status, r) = batch(&app, body(10_000)).await;
    assert_eq!(status, 200);
    assert_eq!(r["evaluationResults"].as_array().unwrap().len(), 10_000);
}

#[tokio::test]
async fn get_batch_with_json_query_evaluates() {
    let app = spawn_app().await;
    new_checkout(&app).await;
    let body = json!({"entities": [{"entityID": "user-1"}, {"entityID": "alice@example.com"}],
        "flagKeys": ["new-checkout"]});
    let (status, r) = get_eval(&app, "/api/v1/evaluation/batch", &body.to_string()).await;
    assert_eq!(status, 200, "{r}");
    let results = r["evaluationResults"].as_array().unwrap();
    assert_eq!(
        results.iter().map(variant).collect::<Vec<_>>(),
        [Some("2"), Some("1")]
    );
}

#[tokio::test]
async fn evaluate_with_unmet_prerequisite_returns_prerequisite_failed() {
    let app = spawn_app().await;
    let gold = SegmentSpec {
        constraints: &[("tier", "EQ", "\"gold\"")],
        rollout: 100,
        percents: &[100, 0],
    };
    let silver = SegmentSpec {
        constraints: &[("tier", "EQ", "\"silver\"")],
        rollout: 100,
        percents: &[0, 100],
    };
    build(&app, "gate", &["on", "off"], &[gold, silver]).await;
    let child = build(&app, "child", &["yes"], &[everyone(&[100])]).await;
    let path = format!("/api/v1/flags/{}", child.id);
    let body = json!({"dependsOn": [{"flagKey": "gate", "variantKey": "on"}]});
    let (status, body) = app.admin_prod(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    let r = eval(&app, "child", "u1", json!({"tier": "gold"})).await;
    assert_eq!(variant(&r), Some("yes"), "{r}");
    for tier in ["silver", "bronze"] {
        // Silver: the gate gives the wrong variant; bronze: no variant at all.
        let r = eval(&app, "child", "u1", json!({"tier": tier})).await;
        assert_eq!(variant(&r), None, "{tier}: {r}");
        assert_eq!(r["reason"], "PREREQUISITE_FAILED", "{tier}");
    }
    // Without a required variant, any variant of the gate will do.
    let body = json!({"dependsOn": [{"flagKey": "gate"}]});
    assert_eq!(app.admin_prod(Method::PUT, &path, Some(body)).await.0, 200);
    let r = eval(&app, "child", "u1", json!({"tier": "silver"})).await;
    assert_eq!(variant(&r), Some("yes"), "{r}");
}
