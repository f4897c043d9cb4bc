//! Export (GitOps YAML/JSON, Flagr eval cache) and the all-or-nothing import, including a round trip
//! between tenants and a Flagr export that keeps Flagr's assignments.

use crate::helpers::{SegmentSpec, TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const PROD: Option<&str> = Some("production");

/// Builds three flags in tenant A's production: a 50/50 split at 30% rollout, a three-way split and a
/// constrained flag, tagged so the round trip carries tags too.
async fn build_three(app: &TestApp) {
    let admin = app.a.admin.clone();
    let split = |rollout, percents| SegmentSpec {
        constraints: &[],
        rollout,
        percents,
    };
    app.build_flag(
        &admin,
        "production",
        "new-checkout",
        &["1", "2"],
        &[split(30, &[50, 50])],
    )
    .await;
    app.build_flag(
        &admin,
        "production",
        "three-way",
        &["3", "7", "9"],
        &[split(100, &[30, 20, 50])],
    )
    .await;
    let west = SegmentSpec {
        constraints: &[("state", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[100, 0],
    };
    let flag = app
        .build_flag(
            &admin,
            "production",
            "west",
            &["ca", "rest"],
            &[west, split(100, &[0, 100])],
        )
        .await;
    let path = format!("/api/v1/flags/{}/tags", flag.id);
    let (status, body) = app
        .admin_prod(Method::POST, &path, Some(json!({"value": "geo"})))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn import(app: &TestApp, admin: &str, query: &str, doc: Value) -> (u16, Value) {
    let path = format!("/api/v1/import{query}");
    app.call(admin, PROD, Method::POST, &path, Some(doc)).await
}

async fn flag_keys(app: &TestApp, admin: &str) -> Vec<String> {
    let (status, flags) = app
        .call(admin, PROD, Method::GET, "/api/v1/flags", None)
        .await;
    assert_eq!(status, 200, "{flags}");
    let mut keys: Vec<String> = flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

/// A minimal valid flag entry giving everyone variant `on`.
fn simple_doc_flag(key: &str, description: &str) -> Value {
    json!({"key": key, "description": description, "enabled": true,
        "variants": [{"key": "on"}],
        "segments": [{"rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]})
}

#[tokio::test]
async fn export_gitops_defaults_to_yaml_and_gives_json_on_request() {
    let app = spawn_app().await;
    build_three(&app).await;
    let response = app
        .request(Method::GET, "/api/v1/export/gitops", &app.a.admin)
        .header("X-Environment", "production")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/yaml"),
        "{content_type}"
    );
    let yaml = response.text().await.unwrap();
    assert!(yaml.starts_with("flags:"), "{yaml}");
    assert!(
        yaml.contains("key: new-checkout") && yaml.contains("salt: new-checkout"),
        "{yaml}"
    );
    let (status, doc) = app
        .call(
            &app.a.admin,
            PROD,
            Method::GET,
            "/api/v1/export/gitops?format=json",
            None,
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let flags = doc["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 3);
    let checkout = flags.iter().find(|f| f["key"] == "new-checkout").unwrap();
    assert_eq!(checkout["enabled"], true);
    assert_eq!(checkout["segments"][0]["rolloutPercent"], 30);
    assert_eq!(
        checkout["segments"][0]["distributions"],
        json!([{"variantKey": "1", "percent": 50}, {"variantKey": "2", "percent": 50}])
    );
}

#[tokio::test]
async fn export_gitops_with_unknown_format_returns_400() {
    let app = spawn_app().await;
    let (status, body) = app
        .admin(Method::GET, "/api/v1/export/gitops?format=xml", None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_query");
}

/// `(entity, flagKey, variantKey, reason)` of every result of a batch with `key`.
async fn outcomes(
    app: &TestApp,
    key: &str,
    entities: &[Value],
) -> Vec<(String, String, Value, Value)> {
    let body = json!({"entities": entities, "flagKeys": ["new-checkout", "three-way", "west"]});
    let (status, r) = app
        .call(
            key,
            None,
            Method::POST,
            "/api/v1/evaluation/batch",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r["evaluationResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let entity = r["evalContext"]["entityID"].as_str().unwrap().to_owned();
            let flag = r["flagKey"].as_str().unwrap().to_owned();
            (entity, flag, r["variantKey"].clone(), r["reason"].clone())
        })
        .collect()
}

#[tokio::test]
async fn export_from_tenant_a_imported_into_tenant_b_evaluates_identically() {
    let app = spawn_app().await;
    build_three(&app).await;
    let yaml = app
        .request(Method::GET, "/api/v1/export/gitops", &app.a.admin)
        .header("X-Environment", "production")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = app
        .request(Method::POST, "/api/v1/import", &app.b.admin)
        .header("X-Environment", "production")
        .header("Content-Type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    let (status, report) = read(response).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["created"],
        json!(["new-checkout", "three-way", "west"])
    );
    assert_eq!(report["dryRun"], false);
    // The JSON and Flagr-shaped exports describe the same flags, so importing them changes nothing.
    for path in [
        "/api/v1/export/gitops?format=json",
        "/api/v1/export/eval_cache/json",
    ] {
        let (_, doc) = app.call(&app.a.admin, PROD, Method::GET, path, None).await;
        let (status, report) = import(&app, &app.b.admin, "", doc).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            report["unchanged"],
            json!(["new-checkout", "three-way", "west"]),
            "{path}"
        );
    }
    let entities: Vec<Value> = (0..300)
        .map(|i| {
            let state = if i % 2 == 0 { "CA" } else { "NY" };
            json!({"entityID": format!("user-{i}"), "entityContext": {"state": state}})
        })
        .collect();
    let in_a = outcomes(&app, &app.a.eval, &entities).await;
    let in_b = outcomes(&app, &app.b.eval, &entities).await;
    assert_eq!(in_a.len(), 900);
    assert_eq!(in_a, in_b);
    // The comparison means something only if the flags split the entities.
    let variants = |flag: &str| {
        let mut seen: Vec<String> = in_a
            .iter()
            .filter(|o| o.1 == flag)
            .map(|o| o.2.to_string())
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    assert_eq!(variants("new-checkout"), ["\"1\"", "\"2\"", "null"]);
    assert_eq!(variants("three-way").len(), 3);
    assert_eq!(variants("west"), ["\"ca\"", "\"rest\""]);
}

#[tokio::test]
async fn import_with_invalid_items_returns_422_listing_every_problem_and_writes_nothing() {
    let app = spawn_app().await;
    let mut bad_constraint = simple_doc_flag("bad-constraint", "bare word");
    bad_constraint["segments"][0]["constraints"] =
        json!([{"property": "state", "operator": "EQ", "value": "CA"}]);
    let mut bad_sum = simple_doc_flag("bad-sum", "ninety percent");
    bad_sum["variants"] = json!([{"key": "a"}, {"key": "b"}]);
    bad_sum["segments"][0]["distributions"] =
        json!([{"variantKey": "a", "percent": 50}, {"variantKey": "b", "percent": 40}]);
    let doc = json!({"flags": [simple_doc_flag("good", "fine"), bad_constraint, bad_sum]});
    let (status, body) = import(&app, &app.a.admin, "", doc).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "import_invalid");
    let problems = body["error"]["problems"].as_array().unwrap();
    let paths: Vec<&str> = problems
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "flags[1].segments[0].constraints[0].value",
            "flags[2].segments[0].distributions"
        ]
    );
    assert!(
        problems[0]["message"].as_str().unwrap().contains("\"CA\""),
        "{body}"
    );
    assert!(
        flag_keys(&app, &app.a.admin).await.is_empty(),
        "nothing may be written"
    );
    let (_, r) = app
        .evaluate(json!({"flagKey": "good", "entityID": "u1"}))
        .await;
    assert_eq!(
        r["reason"], "FLAG_NOT_FOUND",
        "nothing may reach the cache: {r}"
    );
}

#[tokio::test]
async fn import_dry_run_reports_changes_without_writing() {
    let app = spawn_app().await;
    let admin = app.a.admin.clone();
    let first = json!({"flags": [simple_doc_flag("a", "first"), simple_doc_flag("b", "second")]});
    let (status, report) = import(&app, &admin, "?dryRun=true", first.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"dryRun": true, "created": ["a", "b"], "updated": [], "unchanged": []})
    );
    assert!(flag_keys(&app, &admin).await.is_empty());
    assert_eq!(import(&app, &admin, "", first).await.0, 200);
    let second = json!({"flags": [simple_doc_flag("a", "changed"), simple_doc_flag("b", "second"),
        simple_doc_flag("c", "third")]});
    let (status, report) = import(&app, &admin, "?dryRun=true", second).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"dryRun": true, "created": ["c"], "updated": ["a"], "unchanged": ["b"]})
    );
    assert_eq!(flag_keys(&app, &admin).await, ["a", "b"]);
    let (_, flags) = app
        .call(&admin, PROD, Method::GET, "/api/v1/flags?key=a", None)
        .await;
    assert_eq!(flags[0]["description"], "first");
}

#[tokio::test]
async fn import_same_document_again_reports_all_unchanged() {
    let app = spawn_app().await;
    let admin = app.a.admin.clone();
    let doc = json!({"flags": [simple_doc_flag("a", "first"), simple_doc_flag("b", "second")]});
    let (status, report) = import(&app, &admin, "", doc.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], json!(["a", "b"]));
    let (_, report) = import(&app, &admin, "", doc).await;
    assert_eq!(
        report,
        json!({"dryRun": false, "created": [], "updated": [], "unchanged": ["a", "b"]})
    );
    // The environment's own export is unchanged by an import too.
    build_three(&app).await;
    let (_, export) = app
        .call(
            &admin,
            PROD,
            Method::GET,
            "/api/v1/export/gitops?format=json",
            None,
        )
        .await;
    let (_, report) = import(&app, &admin, "", export).await;
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 5, "{report}");
}

#[tokio::test]
async fn import_yaml_body_creates_flags() {
    let app = spawn_app().await;
    let yaml = "flags:\n  - key: yaml-flag\n    description: from YAML\n    enabled: true\n    \
        variants:\n      - key: \"on\"\n    segments:\n      - rolloutPercent: 100\n        \
        distributions:\n          - variantKey: \"on\"\n            percent: 100\n";
    let response = app
        .request(Method::POST, "/api/v1/import", &app.a.admin)
        .header("X-Environment", "production")
        .header("Content-Type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    let (status, report) = read(response).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], json!(["yaml-flag"]));
    let (_, r) = app
        .evaluate(json!({"flagKey": "yaml-flag", "entityID": "u1"}))
        .await;
    assert_eq!(r["variantKey"], "on", "{r}");
    assert_eq!(r["reason"], "TARGETING_MATCH");
}

#[tokio::test]
async fn import_with_unsupported_content_type_returns_415() {
    let app = spawn_app().await;
    let response = app
        .request(Method::POST, "/api/v1/import", &app.a.admin)
        .header("Content-Type", "text/plain")
        .body("flags: []")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(code(&body), "unsupported_media_type");
}

#[tokio::test]
async fn export_eval_cache_has_flagr_shape() {
    let app = spawn_app().await;
    build_three(&app).await;
    let (status, export) = app
        .call(
            &app.a.admin,
            PROD,
            Method::GET,
            "/api/v1/export/eval_cache/json",
            None,
        )
        .await;
    assert_eq!(status, 200, "{export}");
    let flags = export["Flags"].as_array().unwrap();
    assert_eq!(flags.len(), 3);
    let west = flags.iter().find(|f| f["Key"] == "west").unwrap();
    assert!(west["ID"].is_i64());
    assert_eq!(west["Enabled"], true);
    assert_eq!(west["Tags"][0]["Value"], "geo");
    let variants = west["Variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["Key"], "ca");
    let segment = &west["Segments"][0];
    assert_eq!(segment["RolloutPercent"], 100);
    assert_eq!(segment["Constraints"][0]["Property"], "state");
    assert_eq!(segment["Constraints"][0]["Operator"], "EQ");
    assert_eq!(segment["Distributions"][0]["VariantID"], variants[0]["ID"]);
    assert_eq!(segment["Distributions"][0]["Percent"], 100);
    assert_eq!(west["Segments"][1]["Constraints"], json!([]));
}

#[tokio::test]
async fn import_flagr_export_keeps_flagr_assignments() {
    let app = spawn_app().await;
    // Flagr's own export: Go field names, no Salt, variants not in id order.
    let export = json!({"Flags": [{
        "ID": 2, "Key": "flagr-flag", "Description": "", "Enabled": true,
        "Tags": [], "DataRecordsEnabled": false, "EntityType": "", "Notes": "",
        "Variants": [
            {"ID": 4, "FlagID": 2, "Key": "b", "Attachment": {"color": "blue"}},
            {"ID": 3, "FlagID": 2, "Key": "a", "Attachment": null}
        ],
        "Segments": [{
            "ID": 5, "FlagID": 2, "Description": "all", "Rank": 0, "RolloutPercent": 100,
            "Constraints": [],
            "Distributions": [
                {"ID": 6, "SegmentID": 5, "VariantID": 3, "VariantKey": "a", "Percent": 50},
                {"ID": 7, "SegmentID": 5, "VariantID": 4, "VariantKey": "b", "Percent": 50}
            ]
        }]
    }]});
    let (status, report) = import(&app, &app.a.admin, "", export.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], json!(["flagr-flag"]));
    let (_, report) = import(&app, &app.a.admin, "", export).await;
    assert_eq!(report["unchanged"], json!(["flagr-flag"]), "{report}");
    let (_, flags) = app
        .call(
            &app.a.admin,
            PROD,
            Method::GET,
            "/api/v1/flags?key=flagr-flag",
            None,
        )
        .await;
    assert_eq!(flags[0]["bucketing"], "flagr_crc32", "{flags}");
    assert_eq!(flags[0]["salt"], "2");
    // Flagr's buckets: entity 127 → 807 (variant b), entity 123 → 94 (variant a).
    for (entity, expected) in [("127", "b"), ("123", "a")] {
        let (_, r) = app
            .evaluate(json!({"flagKey": "flagr-flag", "entityID": entity}))
            .await;
        assert_eq!(r["variantKey"], expected, "{entity}: {r}");
        assert_eq!(r["reason"], "SPLIT");
    }
    let (_, r) = app
        .evaluate(json!({"flagKey": "flagr-flag", "entityID": "127"}))
        .await;
    assert_eq!(r["variantAttachment"], json!({"color": "blue"}));
}

#[tokio::test]
async fn import_with_key_of_deleted_flag_returns_422_at_that_key() {
    let app = spawn_app().await;
    let flag = app.create_flag("gone").await;
    let path = format!("/api/v1/flags/{}", flag["id"]);
    assert_eq!(app.admin(Method::DELETE, &path, None).await.0, 200);
    let doc = json!({"flags": [simple_doc_flag("fresh", "new"), simple_doc_flag("gone", "again")]});
    let (status, body) = import(&app, &app.a.admin, "", doc).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "import_invalid");
    assert_eq!(
        body["error"]["problems"][0]["path"], "flags[1].key",
        "{body}"
    );
    assert!(flag_keys(&app, &app.a.admin).await.is_empty());
}
