//! Flag routes: create, list, read, update, enable, delete, restore and duplicate, and what read-only,
//! evaluation-only and foreign-tenant keys may do with them. Versions and snapshots: `tags_snapshots.rs`.

use crate::helpers::{TestApp, expect_error, expect_invalid, expect_ok, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const FLAGS: &str = "/api/v1/flags";

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

fn flag_path(id: i64) -> String {
    format!("{FLAGS}/{id}")
}

async fn put_flag(app: &TestApp, id: i64, body: Value) -> (u16, Value) {
    app.admin_put(&flag_path(id), body).await
}

/// The keys `GET /flags<query>` lists.
async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let flags = expect_ok(app.admin_get(&format!("{FLAGS}{query}")).await);
    let flags = flags.as_array().expect("flag list").iter();
    flags
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_flag_with_key_returns_disabled_flag_with_defaults() {
    let app = spawn_app().await;
    let body = json!({"key": "new-checkout", "description": "New checkout"});
    let request = app.request(Method::POST, FLAGS, &app.a.admin).json(&body);
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let flag: Value = response.json().await.unwrap();
    let actor = app.admin_actor();
    assert!(flag["updatedAt"].as_str().unwrap().ends_with('Z'), "{flag}");
    let want = json!({"id": id(&flag), "key": "new-checkout", "description": "New checkout",
        "enabled": false, "tags": [], "segments": [], "variants": [], "dataRecordsEnabled": false,
        "entityType": "", "notes": "", "createdBy": actor, "updatedBy": actor,
        "updatedAt": flag["updatedAt"], "salt": "new-checkout", "bucketing": "murmur3",
        "dependsOn": [], "defaultVariant": null, "environment": "development",
        "projectKey": "default", "archived": false, "version": 1});
    assert_eq!(flag, want);
    assert_eq!(app.flag_json("development", id(&flag)).await, flag);
    let production = app.flag_json("production", id(&flag)).await;
    assert_eq!(production["environment"], "production");
    assert_eq!(production["enabled"], false);
}

#[tokio::test]
async fn create_flag_without_key_generates_key_used_as_salt() {
    let app = spawn_app().await;
    let bodies = [
        json!({"description": "d"}),
        json!({"description": "d", "key": ""}),
    ];
    for body in bodies {
        let flag = expect_ok(app.admin_post(FLAGS, body).await);
        let key = flag["key"].as_str().unwrap();
        let suffix = key.strip_prefix("flag-").expect("generated key");
        assert_eq!(suffix.len(), 16, "{key}");
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        assert!(suffix.chars().all(allowed), "{key}");
        assert_eq!(flag["salt"], key);
    }
    assert_eq!(list(&app, "").await.len(), 2, "two distinct generated keys");
}

#[tokio::test]
async fn create_flag_with_simple_boolean_template_serves_on_in_every_environment() {
    let app = spawn_app().await;
    let body = json!({"key": "kill", "description": "d", "template": "simple_boolean_flag"});
    let flag = expect_ok(app.admin_post(FLAGS, body).await);
    let variants = flag["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1, "{flag}");
    assert_eq!(variants[0]["key"], "on");
    assert_eq!(variants[0]["attachment"], json!({}));
    let on = id(&variants[0]);
    let mut segment_ids = Vec::new();
    for env in ["development", "production"] {
        let flag = app.flag_json(env, id(&flag)).await;
        assert_eq!(flag["enabled"], false, "{env}");
        let segments = flag["segments"].as_array().unwrap();
        assert_eq!(segments.len(), 1, "{env}: {flag}");
        assert_eq!(segments[0]["rolloutPercent"], 100);
        assert_eq!(segments[0]["constraints"], json!([]));
        let dist = &segments[0]["distributions"];
        assert_eq!(dist.as_array().unwrap().len(), 1, "{env}: {dist}");
        assert_eq!(dist[0]["percent"], 100);
        assert_eq!(dist[0]["variantID"], on);
        assert_eq!(dist[0]["variantKey"], "on");
        segment_ids.push(id(&segments[0]));
    }
    assert_ne!(
        segment_ids[0], segment_ids[1],
        "one segment per environment"
    );
}

#[tokio::test]
async fn create_flag_from_the_ui_templates_gives_their_variants_and_split_everywhere() {
    let app = spawn_app().await;
    for (template, expected) in [
        ("boolean", [("on", 100), ("off", 0)]),
        ("multivariate", [("control", 100), ("treatment", 0)]),
        ("experiment", [("control", 50), ("treatment", 50)]),
    ] {
        let body = json!({"key": template, "description": "d", "template": template});
        let flag = expect_ok(app.admin_post(FLAGS, body).await);
        let keys: Vec<_> = flag["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["key"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, expected.map(|(k, _)| k), "{template}");
        for env in ["development", "production"] {
            let flag = app.flag_json(env, id(&flag)).await;
            assert_eq!(flag["enabled"], false, "{template} in {env}");
            let segments = flag["segments"].as_array().unwrap();
            assert_eq!(segments.len(), 1, "{template} in {env}: {flag}");
            assert_eq!(segments[0]["description"], "Everyone");
            assert_eq!(segments[0]["rolloutPercent"], 100);
            let split: Vec<_> = segments[0]["distributions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["variantKey"].as_str().unwrap().to_owned(),
                        d["percent"].as_i64().unwrap(),
                    )
                })
                .collect();
            let wanted: Vec<_> = expected
                .iter()
                .map(|(k, p)| ((*k).to_owned(), *p))
                .collect();
            assert_eq!(split, wanted, "{template} in {env}");
        }
    }
}

#[tokio::test]
async fn create_flag_with_invalid_input_returns_400_and_creates_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"key": "a", "description": "d", "template": "bool"}),
            "template",
        ),
        (json!({"key": "a", "description": ""}), "description"),
        (json!({"key": "a", "description": "   "}), "description"),
        (json!({"key": "has space", "description": "d"}), "key"),
        (json!({"key": "a*b", "description": "d"}), "key"),
        (json!({"key": "a#b", "description": "d"}), "key"),
        (json!({"key": "café", "description": "d"}), "key"),
        (json!({"key": "k".repeat(64), "description": "d"}), "key"),
        (
            json!({"key": "a", "description": "d", "bucketing": "x"}),
            "bucketing",
        ),
        (json!({"key": "a", "description": "d", "salt": ""}), "salt"),
    ];
    for (body, field) in cases {
        expect_invalid(&app.admin_post(FLAGS, body).await, field);
    }
    let missing = app.admin_post(FLAGS, json!({"key": "a"})).await;
    expect_error(&missing, 400, "invalid_json");
    assert_eq!(list(&app, "").await, Vec::<String>::new());
    let longest = json!({"key": "k".repeat(63), "description": "d"});
    expect_ok(app.admin_post(FLAGS, longest).await);
    let punctuation = json!({"key": "a-b_c/d.e:F9", "description": "d"});
    expect_ok(app.admin_post(FLAGS, punctuation).await);
}

#[tokio::test]
async fn create_flag_with_taken_key_returns_409() {
    let app = spawn_app().await;
    let first = app.create_flag("taken").await;
    let body = json!({"key": "taken", "description": "x"});
    let taken = app.admin_post(FLAGS, body.clone()).await;
    expect_error(&taken, 409, "flag_key_taken");
    expect_ok(app.admin_delete(&flag_path(id(&first))).await);
    let again = app.admin_post(FLAGS, body).await;
    expect_error(&again, 409, "flag_key_taken");
    assert_eq!(list(&app, "?deleted=true").await, ["taken"]);
    assert_eq!(list(&app, "").await, Vec::<String>::new());
}

#[tokio::test]
async fn find_flags_filters_by_flagr_query_parameters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (key, text) in [
        ("alpha", "Payment Page"),
        ("beta", "payments API"),
        ("gamma", "Search"),
    ] {
        let body = json!({"key": key, "description": text});
        ids.push(id(&expect_ok(app.admin_post(FLAGS, body).await)));
    }
    for (i, value) in [(0, "web"), (0, "team-a"), (1, "web")] {
        let path = format!("{}/tags", flag_path(ids[i]));
        expect_ok(app.admin_post(&path, json!({ "value": value })).await);
    }
    let enable = format!("{}/enabled", flag_path(ids[1]));
    expect_ok(app.admin_put(&enable, json!({"enabled": true})).await);
    let none = Vec::<String>::new();
    assert_eq!(list(&app, "").await, ["alpha", "beta", "gamma"]);
    assert_eq!(list(&app, "?limit=2").await, ["alpha", "beta"]);
    assert_eq!(list(&app, "?limit=1&offset=1").await, ["beta"]);
    assert_eq!(list(&app, "?offset=5").await, none);
    assert_eq!(list(&app, "?enabled=true").await, ["beta"]);
    assert_eq!(list(&app, "?enabled=false").await, ["alpha", "gamma"]);
    assert_eq!(list(&app, "?key=gamma").await, ["gamma"]);
    assert_eq!(list(&app, "?key=gam").await, none);
    assert_eq!(list(&app, "?description=Search").await, ["gamma"]);
    assert_eq!(list(&app, "?description=search").await, none);
    assert_eq!(list(&app, "?description_like=PAY").await, ["alpha", "beta"]);
    assert_eq!(list(&app, "?tags=web").await, ["alpha", "beta"]);
    assert_eq!(list(&app, "?tags=web,team-a").await, ["alpha"]);
    assert_eq!(list(&app, "?tags=web&enabled=false").await, ["alpha"]);
    assert_eq!(list(&app, "?deleted=true").await, none);
    let negative = app.admin_get(&format!("{FLAGS}?limit=-1")).await;
    expect_error(&negative, 400, "invalid_query");
}

#[tokio::test]
async fn find_flags_preloads_segments_and_variants_only_when_asked() {
    let app = spawn_app().await;
    let flag = app.configured_flag("rich").await;
    let plain = expect_ok(app.admin_get(&format!("{FLAGS}?preload=false")).await);
    assert_eq!(plain[0]["segments"], json!([]), "{plain}");
    assert_eq!(plain[0]["variants"], json!([]), "{plain}");
    assert_eq!(plain[0]["tags"], flag["tags"], "tags are always listed");
    let default = expect_ok(app.admin_get(FLAGS).await);
    assert_eq!(default, plain, "preload defaults to false");
    let full = expect_ok(app.admin_get(&format!("{FLAGS}?preload=true")).await);
    assert_eq!(full, json!([flag]));
}

#[tokio::test]
async fn get_flag_returns_version_etag_in_requested_environment() {
    let app = spawn_app().await;
    let flag = app.create_flag("etagged").await;
    expect_ok(put_flag(&app, id(&flag), json!({"notes": "n"})).await);
    let path = format!("{}?environment=production", flag_path(id(&flag)));
    let request = app.request(Method::GET, &path, &app.a.admin);
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["environment"], "production");
    assert_eq!(body["version"], 2);
    assert_eq!(body["notes"], "n");
}

#[tokio::test]
async fn get_flag_with_unknown_or_malformed_id_returns_error() {
    let app = spawn_app().await;
    let unknown = app.admin_get(&flag_path(4242)).await;
    expect_error(&unknown, 404, "flag_not_found");
    let malformed = app.admin_get(&format!("{FLAGS}/abc")).await;
    expect_error(&malformed, 400, "invalid_path");
    let put = put_flag(&app, 4242, json!({"notes": "x"})).await;
    expect_error(&put, 404, "flag_not_found");
    let delete = app.admin_delete(&flag_path(4242)).await;
    expect_error(&delete, 404, "flag_not_found");
}

#[tokio::test]
async fn put_flag_with_partial_body_changes_only_given_fields() {
    let app = spawn_app().await;
    let before = app.create_flag("partial").await;
    let after = expect_ok(put_flag(&app, id(&before), json!({"description": "New"})).await);
    let mut expected = before.clone();
    expected["description"] = json!("New");
    expected["version"] = json!(2);
    expected["updatedAt"] = after["updatedAt"].clone();
    assert_eq!(after, expected);
    let body = json!({"notes": "# Notes", "dataRecordsEnabled": true, "salt": "s-1"});
    let after = expect_ok(put_flag(&app, id(&before), body).await);
    assert_eq!(after["description"], "New");
    assert_eq!(after["notes"], "# Notes");
    assert_eq!(after["dataRecordsEnabled"], true);
    assert_eq!(after["salt"], "s-1");
    assert_eq!(after["key"], "partial");
    assert_eq!(after["version"], 3);
    assert_eq!(app.flag_json("development", id(&before)).await, after);
}

#[tokio::test]
async fn put_flag_renaming_key_keeps_salt() {
    let app = spawn_app().await;
    let flag = app.create_flag("old-name").await;
    app.create_flag("other").await;
    let renamed = expect_ok(put_flag(&app, id(&flag), json!({"key": "new-name"})).await);
    assert_eq!(renamed["key"], "new-name");
    assert_eq!(renamed["salt"], "old-name");
    let taken = put_flag(&app, id(&flag), json!({"key": "other"})).await;
    expect_error(&taken, 409, "flag_key_taken");
    expect_invalid(
        &put_flag(&app, id(&flag), json!({"key": "bad key"})).await,
        "key",
    );
    assert_eq!(app.flag_json("development", id(&flag)).await, renamed);
}

#[tokio::test]
async fn put_flag_entity_type_is_listed_by_entity_types() {
    let app = spawn_app().await;
    let types = "/api/v1/flags/entity_types";
    assert_eq!(expect_ok(app.admin_get(types).await), json!([]));
    let a = id(&app.create_flag("a").await);
    let b = id(&app.create_flag("b").await);
    for (flag, entity) in [(a, "user"), (b, "user"), (b, "device")] {
        let body = expect_ok(put_flag(&app, flag, json!({"entityType": entity})).await);
        assert_eq!(body["entityType"], entity);
    }
    assert_eq!(
        expect_ok(app.admin_get(types).await),
        json!(["device", "user"])
    );
    let cleared = expect_ok(put_flag(&app, a, json!({"entityType": ""})).await);
    assert_eq!(cleared["entityType"], "");
    let long = put_flag(&app, a, json!({"entityType": "x".repeat(129)})).await;
    expect_invalid(&long, "entityType");
}

#[tokio::test]
async fn put_flag_bucketing_accepts_known_algorithms_only() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("hashing").await);
    for algorithm in ["flagr_crc32", "murmur3"] {
        let body = expect_ok(put_flag(&app, flag, json!({"bucketing": algorithm})).await);
        assert_eq!(body["bucketing"], algorithm);
    }
    expect_invalid(
        &put_flag(&app, flag, json!({"bucketing": "crc32"})).await,
        "bucketing",
    );
    assert_eq!(
        app.flag_json("development", flag).await["bucketing"],
        "murmur3"
    );
    let body = json!({"key": "crc", "description": "d", "bucketing": "flagr_crc32", "salt": "s"});
    let created = expect_ok(app.admin_post(FLAGS, body).await);
    assert_eq!(
        (&created["bucketing"], &created["salt"]),
        (&json!("flagr_crc32"), &json!("s"))
    );
}

#[tokio::test]
async fn put_flag_depends_on_rejects_unknown_self_and_cycle() {
    let app = spawn_app().await;
    let a = id(&app.create_flag("a").await);
    let b = id(&app.create_flag("b").await);
    app.new_variant(b, "on", json!({})).await;
    for deps in [
        json!([{"flagKey": "missing"}]),
        json!([{"flagKey": "a"}]),
        json!([{"flagKey": "b", "variantKey": "off"}]),
    ] {
        let reply = put_flag(&app, a, json!({ "dependsOn": deps })).await;
        expect_invalid(&reply, "dependsOn[0]");
    }
    let on = json!({"dependsOn": [{"flagKey": "b", "variantKey": "on"}]});
    let body = expect_ok(put_flag(&app, a, on).await);
    assert_eq!(
        body["dependsOn"],
        json!([{"flagKey": "b", "variantKey": "on"}])
    );
    let cycle = put_flag(&app, b, json!({"dependsOn": [{"flagKey": "a"}]})).await;
    let error = expect_invalid(&cycle, "dependsOn");
    assert!(
        error["message"].as_str().unwrap().contains("cycle"),
        "{error}"
    );
    assert_eq!(
        app.flag_json("development", b).await["dependsOn"],
        json!([])
    );
    let rename = put_flag(&app, b, json!({"key": "renamed-b"})).await;
    expect_invalid(&rename, "key");
    let body = expect_ok(put_flag(&app, a, json!({"dependsOn": []})).await);
    assert_eq!(body["dependsOn"], json!([]));
    let body = expect_ok(put_flag(&app, b, json!({"dependsOn": [{"flagKey": "a"}]})).await);
    assert_eq!(
        body["dependsOn"],
        json!([{"flagKey": "a", "variantKey": null}])
    );
}

#[tokio::test]
async fn a_prerequisite_cannot_be_deleted_or_lose_its_required_variant() {
    let app = spawn_app().await;
    let gate = id(&app.create_flag("gate").await);
    let on = app.new_variant(gate, "on", json!({})).await;
    let off = app.new_variant(gate, "off", json!({})).await;
    let mut dependents = Vec::new();
    for (key, deps) in [
        ("needs-on", json!([{"flagKey": "gate", "variantKey": "on"}])),
        ("needs-any", json!([{"flagKey": "gate"}])),
    ] {
        let flag = id(&app.create_flag(key).await);
        expect_ok(put_flag(&app, flag, json!({"dependsOn": deps})).await);
        dependents.push(flag);
    }
    let before = app.observe_flag(gate).await;

    // Deleting the flag others depend on: refused, naming them, and nothing changes.
    let refused = app.admin_delete(&flag_path(gate)).await;
    let body = expect_error(&refused, 409, "prerequisite_in_use");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("needs-any") && message.contains("needs-on"),
        "{message}"
    );
    // The variant one of them requires: neither deleted nor renamed.
    let on_path = format!("{}/variants/{on}", flag_path(gate));
    let refused = app.admin_delete(&on_path).await;
    let body = expect_error(&refused, 409, "prerequisite_in_use");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs-on"),
        "{body}"
    );
    let renamed = app.admin_put(&on_path, json!({"key": "enabled"})).await;
    expect_invalid(&renamed, "key");
    assert_eq!(
        app.observe_flag(gate).await,
        before,
        "refused changes change nothing"
    );

    // A variant nobody requires goes; once no flag depends on it, the flag goes too.
    let off_path = format!("{}/variants/{off}", flag_path(gate));
    expect_ok(app.admin_delete(&off_path).await);
    for flag in dependents {
        expect_ok(app.admin_delete(&flag_path(flag)).await);
    }
    expect_ok(app.admin_delete(&flag_path(gate)).await);
}

#[tokio::test]
async fn put_flag_default_variant_must_name_existing_variant() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("defaulted").await);
    let unknown = put_flag(&app, flag, json!({"defaultVariant": "off"})).await;
    expect_invalid(&unknown, "defaultVariant");
    app.new_variant(flag, "off", json!({})).await;
    let body = expect_ok(put_flag(&app, flag, json!({"defaultVariant": "off"})).await);
    assert_eq!(body["defaultVariant"], "off");
    let body = expect_ok(put_flag(&app, flag, json!({"defaultVariant": ""})).await);
    assert_eq!(body["defaultVariant"], Value::Null);
}

#[tokio::test]
async fn set_flag_enabled_changes_only_the_callers_environment() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("toggled").await);
    let path = format!("{}/enabled", flag_path(flag));
    let body = expect_ok(app.admin_put(&path, json!({"enabled": true})).await);
    assert_eq!(
        (&body["enabled"], &body["version"]),
        (&json!(true), &json!(2))
    );
    assert_eq!(app.flag_json("production", flag).await["enabled"], false);
    let on = Some(json!({"enabled": true}));
    let prod = app.admin_prod(Method::PUT, &flag_path(flag), on).await;
    assert_eq!(expect_ok(prod)["environment"], "production");
    expect_ok(app.admin_put(&path, json!({"enabled": false})).await);
    assert_eq!(app.flag_json("development", flag).await["enabled"], false);
    assert_eq!(app.flag_json("production", flag).await["enabled"], true);
    let bad = app.admin_put(&path, json!({"enabled": "yes"})).await;
    expect_error(&bad, 400, "invalid_json");
}

#[tokio::test]
async fn delete_flag_hides_it_until_restored() {
    let app = spawn_app().await;
    let gone = id(&app.create_flag("gone").await);
    app.create_flag("kept").await;
    let path = flag_path(gone);
    assert_eq!(app.admin_delete(&path).await, (200, json!({})));
    assert_eq!(list(&app, "").await, ["kept"]);
    let deleted = expect_ok(app.admin_get(&format!("{FLAGS}?deleted=true")).await);
    assert_eq!(deleted.as_array().unwrap().len(), 1, "{deleted}");
    assert_eq!(
        (&deleted[0]["key"], &deleted[0]["archived"]),
        (&json!("gone"), &json!(true))
    );
    expect_error(&app.admin_get(&path).await, 404, "flag_not_found");
    for (method, suffix, body) in [
        (Method::DELETE, "", None),
        (Method::PUT, "", Some(json!({"notes": "x"}))),
        (Method::PUT, "/enabled", Some(json!({"enabled": true}))),
        (Method::POST, "/duplicate", Some(json!({"key": "copy"}))),
    ] {
        let reply = app.admin(method, &format!("{path}{suffix}"), body).await;
        expect_error(&reply, 404, "flag_not_found");
    }
    let restore = format!("{path}/restore");
    let restored = expect_ok(app.admin(Method::PUT, &restore, None).await);
    assert_eq!(
        (&restored["key"], &restored["archived"]),
        (&json!("gone"), &json!(false))
    );
    assert_eq!(list(&app, "").await, ["gone", "kept"]);
    let twice = app.admin(Method::PUT, &restore, None).await;
    expect_error(&twice, 404, "flag_not_found");
}

/// Every write route of a flag, with a valid body.
fn flag_writes(id: i64) -> Vec<(Method, String, Option<Value>)> {
    let path = flag_path(id);
    vec![
        (
            Method::POST,
            FLAGS.into(),
            Some(json!({"key": "intruder", "description": "d"})),
        ),
        (
            Method::PUT,
            path.clone(),
            Some(json!({"description": "hacked", "enabled": true})),
        ),
        (
            Method::PUT,
            format!("{path}/enabled"),
            Some(json!({"enabled": true})),
        ),
        (
            Method::POST,
            format!("{path}/duplicate"),
            Some(json!({"key": "stolen"})),
        ),
        (Method::PUT, format!("{path}/restore"), None),
        (Method::DELETE, path, None),
    ]
}

#[tokio::test]
async fn read_key_can_read_flags_but_not_change_them() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    let before = app.observe_flag(id(&flag)).await;
    let path = flag_path(id(&flag));
    let read = async |p: String| app.call(&app.a.read, None, Method::GET, &p, None).await;
    assert_eq!(read(path.clone()).await, (200, flag.clone()));
    assert_eq!(
        read(format!("{FLAGS}?preload=true")).await,
        (200, json!([flag]))
    );
    assert_eq!(
        read(format!("{FLAGS}/entity_types")).await,
        (200, json!([]))
    );
    assert_eq!(read(format!("{path}/snapshots")).await.0, 200);
    for (method, p, body) in flag_writes(id(&flag)) {
        let reply = app.call(&app.a.read, None, method, &p, body).await;
        expect_error(&reply, 403, "forbidden");
    }
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    assert_eq!(list(&app, "").await, ["guarded"]);
}

#[tokio::test]
async fn evaluation_key_cannot_use_flag_routes() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    let before = app.observe_flag(id(&flag)).await;
    let path = flag_path(id(&flag));
    for p in [FLAGS.to_owned(), path.clone(), format!("{path}/snapshots")] {
        let reply = app.call(&app.a.eval, None, Method::GET, &p, None).await;
        expect_error(&reply, 403, "forbidden");
    }
    for (method, p, body) in flag_writes(id(&flag)) {
        let reply = app.call(&app.a.eval, None, method, &p, body).await;
        expect_error(&reply, 403, "forbidden");
    }
    assert_eq!(app.observe_flag(id(&flag)).await, before);
}

#[tokio::test]
async fn foreign_tenant_admin_gets_404_on_flag_routes_and_changes_nothing() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    let before = app.observe_flag(id(&flag)).await;
    let path = flag_path(id(&flag));
    let b = &app.b.admin;
    for p in [path.clone(), format!("{path}/snapshots")] {
        let reply = app.call(b, None, Method::GET, &p, None).await;
        expect_error(&reply, 404, "flag_not_found");
    }
    for (method, p, body) in flag_writes(id(&flag)).into_iter().skip(1) {
        let reply = app.call(b, None, method, &p, body).await;
        expect_error(&reply, 404, "flag_not_found");
    }
    let lists = [
        "/api/v1/flags?deleted=true",
        FLAGS,
        "/api/v1/tags",
        "/api/v1/flags/entity_types",
    ];
    for p in lists {
        assert_eq!(
            app.call(b, None, Method::GET, p, None).await,
            (200, json!([])),
            "{p}"
        );
    }
    let same_key = json!({"key": "guarded", "description": "other tenant"});
    expect_ok(app.call(b, None, Method::POST, FLAGS, Some(same_key)).await);
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    assert_eq!(list(&app, "").await, ["guarded"]);
}
