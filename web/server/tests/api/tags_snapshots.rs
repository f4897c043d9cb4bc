//! A flag's tags, its history (snapshots and optimistic-concurrency versions), and the rule that a
//! refused write changes nothing.

use crate::helpers::{TestApp, expect_error, expect_invalid, expect_ok, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

fn flag_path(id: i64) -> String {
    format!("/api/v1/flags/{id}")
}

/// Sends `body` with tenant A's admin key and an `If-Match` header.
async fn put_if_match(app: &TestApp, path: &str, if_match: &str, body: Value) -> (u16, Value) {
    let request = app.request(Method::PUT, path, &app.a.admin);
    let request = request.header("If-Match", if_match).json(&body);
    read(request.send().await.unwrap()).await
}

/// `GET /flags/{id}/snapshots<query>` in `env`.
async fn snapshots_in(app: &TestApp, env: &str, id: i64, query: &str) -> Vec<Value> {
    let path = format!("{}/snapshots{query}", flag_path(id));
    let list = expect_ok(
        app.call(&app.a.admin, Some(env), Method::GET, &path, None)
            .await,
    );
    list.as_array().expect("snapshot list").clone()
}

/// `GET /flags/{id}/snapshots<query>` in development.
async fn snapshots(app: &TestApp, id: i64, query: &str) -> Vec<Value> {
    snapshots_in(app, "development", id, query).await
}

#[tokio::test]
async fn create_flag_tag_is_idempotent_and_shares_project_tags() {
    let app = spawn_app().await;
    let a = id(&app.create_flag("a").await);
    let b = id(&app.create_flag("b").await);
    let tags_of = |f: i64| format!("{}/tags", flag_path(f));
    let web = expect_ok(app.admin_post(&tags_of(a), json!({"value": "web"})).await);
    assert_eq!(web["value"], "web");
    let again = expect_ok(app.admin_post(&tags_of(a), json!({"value": "web"})).await);
    assert_eq!(again, web, "tagging twice returns the same tag");
    assert_eq!(expect_ok(app.admin_get(&tags_of(a)).await), json!([web]));
    let on_b = expect_ok(app.admin_post(&tags_of(b), json!({"value": "web"})).await);
    assert_eq!(on_b, web, "one tag per value in the project");
    assert_eq!(expect_ok(app.admin_get("/api/v1/tags").await), json!([web]));
    assert_eq!(app.flag_json("production", a).await["tags"], json!([web]));
}

#[tokio::test]
async fn find_all_tags_filters_by_value_like() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("tagged").await);
    let path = format!("{}/tags", flag_path(flag));
    for value in ["web-app", "mobile-app", "backend"] {
        expect_ok(app.admin_post(&path, json!({ "value": value })).await);
    }
    let values = async |query: &str| {
        let tags = expect_ok(app.admin_get(&format!("/api/v1/tags{query}")).await);
        let tags = tags.as_array().unwrap().iter();
        tags.map(|t| t["value"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(values("").await, ["web-app", "mobile-app", "backend"]);
    assert_eq!(values("?value_like=app").await, ["web-app", "mobile-app"]);
    assert_eq!(values("?value_like=back").await, ["backend"]);
    assert_eq!(values("?value_like=zzz").await, Vec::<String>::new());
}

#[tokio::test]
async fn delete_flag_tag_removes_it_and_second_delete_returns_404() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("tagged").await);
    let other = id(&app.create_flag("other").await);
    let path = format!("{}/tags", flag_path(flag));
    let tag = expect_ok(app.admin_post(&path, json!({"value": "web"})).await);
    let foreign = format!("{}/tags", flag_path(other));
    let foreign = expect_ok(app.admin_post(&foreign, json!({"value": "api"})).await);
    let tag_path = format!("{path}/{}", id(&tag));
    assert_eq!(app.admin_delete(&tag_path).await, (200, json!({})));
    assert_eq!(expect_ok(app.admin_get(&path).await), json!([]));
    assert_eq!(app.flag_json("development", flag).await["tags"], json!([]));
    expect_error(&app.admin_delete(&tag_path).await, 404, "tag_not_found");
    let not_on_flag = app.admin_delete(&format!("{path}/{}", id(&foreign))).await;
    expect_error(&not_on_flag, 404, "tag_not_found");
    expect_error(
        &app.admin_delete(&format!("{path}/4242")).await,
        404,
        "tag_not_found",
    );
    let tags = expect_ok(app.admin_get("/api/v1/tags").await);
    assert_eq!(tags, json!([tag, foreign]), "the project keeps its tags");
}

#[tokio::test]
async fn tag_routes_refuse_bad_values_read_keys_and_foreign_tenants() {
    let app = spawn_app().await;
    let flag = app.configured_flag("tagged").await;
    let path = format!("{}/tags", flag_path(id(&flag)));
    let tag_path = format!("{path}/{}", id(&flag["tags"][0]));
    let before = app.observe_flag(id(&flag)).await;
    for value in ["has space", "", "a,b"] {
        expect_invalid(
            &app.admin_post(&path, json!({ "value": value })).await,
            "value",
        );
    }
    expect_error(&app.admin_post(&path, json!({})).await, 400, "invalid_json");
    let (read_key, b) = (&app.a.read, &app.b.admin);
    let tags = expect_ok(app.call(read_key, None, Method::GET, &path, None).await);
    assert_eq!(tags, flag["tags"]);
    let add = Some(json!({"value": "x"}));
    let post = app
        .call(read_key, None, Method::POST, &path, add.clone())
        .await;
    expect_error(&post, 403, "forbidden");
    let delete = app
        .call(read_key, None, Method::DELETE, &tag_path, None)
        .await;
    expect_error(&delete, 403, "forbidden");
    for (method, p, body) in [
        (Method::GET, &path, None),
        (Method::POST, &path, add),
        (Method::DELETE, &tag_path, None),
    ] {
        expect_error(
            &app.call(b, None, method, p, body).await,
            404,
            "flag_not_found",
        );
    }
    let own = json!({"description": "b's flag"});
    let own = expect_ok(
        app.call(b, None, Method::POST, "/api/v1/flags", Some(own))
            .await,
    );
    let theirs = format!("{}/tags/{}", flag_path(id(&own)), id(&flag["tags"][0]));
    let reply = app.call(b, None, Method::DELETE, &theirs, None).await;
    expect_error(&reply, 404, "tag_not_found");
    assert_eq!(app.observe_flag(id(&flag)).await, before);
}

#[tokio::test]
async fn every_mutation_writes_snapshot_of_full_flag_newest_first() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("audited").await);
    let path = flag_path(flag);
    let variant = format!("{path}/variants");
    let sid = app.new_segment("development", flag, 100).await;
    let segment = format!("{path}/segments/{sid}");
    let mutations = [
        (
            Method::PUT,
            path.clone(),
            Some(json!({"description": "changed"})),
        ),
        (
            Method::PUT,
            format!("{path}/enabled"),
            Some(json!({"enabled": true})),
        ),
        (Method::POST, variant.clone(), Some(json!({"key": "on"}))),
        (
            Method::POST,
            format!("{path}/tags"),
            Some(json!({"value": "web"})),
        ),
        (
            Method::PUT,
            segment.clone(),
            Some(json!({"rolloutPercent": 40})),
        ),
        (
            Method::POST,
            format!("{segment}/constraints"),
            Some(json!({
            "property": "country", "operator": "EQ", "value": "\"CA\""})),
        ),
        (
            Method::PUT,
            format!("{path}/segments/reorder"),
            Some(json!({"segmentIDs": [sid]})),
        ),
        (Method::DELETE, segment, None),
        (Method::DELETE, path.clone(), None),
        (Method::PUT, format!("{path}/restore"), None),
    ];
    let mut count = snapshots(&app, flag, "").await.len();
    assert_eq!(count, 2, "create and new segment");
    for (method, p, body) in mutations {
        expect_ok(app.admin(method.clone(), &p, body).await);
        let list = snapshots(&app, flag, "").await;
        count += 1;
        assert_eq!(list.len(), count, "{method} {p}");
        assert!(
            list.windows(2).all(|w| id(&w[0]) > id(&w[1])),
            "newest first"
        );
        let newest = &list[0];
        assert_eq!(newest["updatedBy"], app.admin_actor());
        assert!(
            newest["updatedAt"].as_str().unwrap().ends_with('Z'),
            "{newest}"
        );
        if p == path && method == Method::DELETE {
            assert_eq!(newest["flag"]["archived"], true);
            expect_error(&app.admin_get(&path).await, 404, "flag_not_found");
        } else {
            let now = app.flag_json("development", flag).await;
            assert_eq!(newest["flag"], now, "after {method} {p}");
        }
    }
    let oldest = &snapshots(&app, flag, "?sort=ASC").await[0]["flag"];
    assert_eq!(
        (&oldest["version"], &oldest["description"]),
        (&json!(1), &json!("audited flag"))
    );
}

#[tokio::test]
async fn snapshots_are_written_per_touched_environment() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("split").await);
    let counts = async || {
        let dev = app.snapshot_count("development", flag).await;
        (dev, app.snapshot_count("production", flag).await)
    };
    assert_eq!(counts().await, (1, 1));
    let enable = format!("{}/enabled", flag_path(flag));
    expect_ok(app.admin_put(&enable, json!({"enabled": true})).await);
    assert_eq!(counts().await, (2, 1), "enabling touches one environment");
    app.new_segment("production", flag, 10).await;
    assert_eq!(counts().await, (2, 2), "segments belong to one environment");
    expect_ok(
        app.admin_put(&flag_path(flag), json!({"notes": "shared"}))
            .await,
    );
    assert_eq!(
        counts().await,
        (3, 3),
        "shared fields touch every environment"
    );
    app.new_variant(flag, "on", json!({})).await;
    assert_eq!(counts().await, (4, 4), "variants are shared");
    let prod = app.flag_json("production", flag).await;
    let newest = snapshots_in(&app, "production", flag, "?limit=1").await;
    assert_eq!(newest[0]["flag"], prod);
}

#[tokio::test]
async fn put_flag_enabling_and_changing_shared_fields_updates_every_environment() {
    let app = spawn_app().await;
    let body = json!({"key": "main", "description": "d", "template": "simple_boolean_flag"});
    let main = id(&expect_ok(app.admin_post("/api/v1/flags", body).await));
    app.create_flag("gate").await;
    let on = Some(json!({"enabled": true}));
    let enable = format!("{}/enabled", flag_path(main));
    expect_ok(app.admin_prod(Method::PUT, &enable, on).await);
    let entity = json!({"flagKey": "main", "entityID": "user-1"});
    assert_eq!(
        expect_ok(app.evaluate(entity.clone()).await)["variantKey"],
        "on"
    );
    let before = app.snapshot_count("production", main).await;
    let change =
        json!({"enabled": true, "bucketing": "flagr_crc32", "dependsOn": [{"flagKey": "gate"}]});
    expect_ok(app.admin_put(&flag_path(main), change).await);
    let prod = app.flag_json("production", main).await;
    assert_eq!(
        (&prod["bucketing"], &prod["enabled"]),
        (&json!("flagr_crc32"), &json!(true))
    );
    assert_eq!(app.snapshot_count("production", main).await, before + 1);
    let newest = snapshots_in(&app, "production", main, "?limit=1").await;
    assert_eq!(newest[0]["flag"], prod, "production's history shows it");
    let result = expect_ok(app.evaluate(entity).await);
    assert_eq!(
        result["reason"], "PREREQUISITE_FAILED",
        "production evaluates the change: {result}"
    );
}

#[tokio::test]
async fn get_flag_snapshots_pages_with_limit_offset_and_sort() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("paged").await);
    for n in 0..4 {
        let notes = json!({ "notes": format!("{n}") });
        expect_ok(app.admin_put(&flag_path(flag), notes).await);
    }
    let versions = async |query: &str| -> Vec<i64> {
        let list = snapshots(&app, flag, query).await;
        list.iter()
            .map(|s| s["flag"]["version"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(versions("").await, [5, 4, 3, 2, 1]);
    assert_eq!(versions("?limit=2").await, [5, 4]);
    assert_eq!(versions("?limit=2&offset=2").await, [3, 2]);
    assert_eq!(versions("?offset=4").await, [1]);
    assert_eq!(versions("?sort=ASC").await, [1, 2, 3, 4, 5]);
    assert_eq!(versions("?sort=asc&limit=2&offset=1").await, [2, 3]);
    assert_eq!(versions("?sort=DESC&limit=1").await, [5]);
    let bad = app
        .admin_get(&format!("{}/snapshots?limit=x", flag_path(flag)))
        .await;
    expect_error(&bad, 400, "invalid_query");
    let unknown = app.admin_get("/api/v1/flags/4242/snapshots").await;
    expect_error(&unknown, 404, "flag_not_found");
}

#[tokio::test]
async fn put_flag_with_current_version_bumps_it() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("cas").await);
    let path = flag_path(flag);
    for (version, if_match) in [(1, "1"), (2, "\"2\""), (3, "W/\"3\"")] {
        let request = app.request(Method::PUT, &path, &app.a.admin);
        let request = request
            .header("If-Match", if_match)
            .json(&json!({"notes": if_match}));
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "If-Match: {if_match}");
        assert_eq!(response.headers()["etag"], format!("\"{}\"", version + 1));
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (&body["version"], &body["notes"]),
            (&json!(version + 1), &json!(if_match))
        );
    }
    let body = expect_ok(
        app.admin_put(&path, json!({"notes": "v", "version": 4}))
            .await,
    );
    assert_eq!(body["version"], 5);
    let enabled = format!("{path}/enabled");
    let on = json!({"enabled": true});
    assert_eq!(
        expect_ok(put_if_match(&app, &enabled, "5", on).await)["version"],
        6
    );
}

#[tokio::test]
async fn put_flag_with_stale_version_returns_409_and_changes_nothing() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("stale").await);
    let path = flag_path(flag);
    expect_ok(app.admin_put(&path, json!({"notes": "second"})).await);
    let before = app.observe_flag(flag).await;
    let lost = json!({"description": "lost update", "enabled": true});
    let error = expect_error(
        &put_if_match(&app, &path, "\"1\"", lost).await,
        409,
        "version_conflict",
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("version 2") && message.contains("version 1"),
        "{message}"
    );
    for version in [1, 3, 99] {
        let body = json!({"description": "lost update", "version": version});
        expect_error(&app.admin_put(&path, body).await, 409, "version_conflict");
    }
    let enabled = format!("{path}/enabled");
    let enable = put_if_match(&app, &enabled, "1", json!({"enabled": true})).await;
    expect_error(&enable, 409, "version_conflict");
    let header_wins = put_if_match(&app, &path, "1", json!({"notes": "x", "version": 2}));
    expect_error(&header_wins.await, 409, "version_conflict");
    assert_eq!(app.observe_flag(flag).await, before);
}

#[tokio::test]
async fn put_flag_with_malformed_if_match_returns_400() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("malformed").await);
    let before = app.observe_flag(flag).await;
    for if_match in ["abc", "\"v2\"", "1.5"] {
        for suffix in ["", "/enabled"] {
            let path = format!("{}{suffix}", flag_path(flag));
            let body = json!({"notes": "x", "enabled": true});
            let reply = put_if_match(&app, &path, if_match, body).await;
            expect_error(&reply, 400, "invalid_header");
        }
    }
    assert_eq!(app.observe_flag(flag).await, before);
}

#[tokio::test]
async fn refused_flag_writes_change_nothing() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    app.create_flag("other").await;
    let path = flag_path(id(&flag));
    let before = app.observe_flag(id(&flag)).await;
    let refused = [
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "key": "other"}),
            409,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "key": "bad key"}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "description": " "}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"enabled": true, "bucketing": "x"}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"entityType": "user", "defaultVariant": "nope"}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "dependsOn": [{"flagKey": "guarded"}]}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "salt": ""}),
            400,
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"notes": "x", "version": 99}),
            409,
        ),
        (
            Method::PUT,
            format!("{path}/enabled"),
            json!({"enabled": 1}),
            400,
        ),
        (
            Method::POST,
            format!("{path}/duplicate"),
            json!({"key": "other"}),
            409,
        ),
        (
            Method::POST,
            format!("{path}/tags"),
            json!({"value": "bad tag"}),
            400,
        ),
    ];
    for (method, p, body, status) in refused {
        let (got, error) = app.admin(method, &p, Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {error}");
    }
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    let types = expect_ok(app.admin_get("/api/v1/flags/entity_types").await);
    assert_eq!(types, json!([]), "a refused change creates no entity type");
    let keys = expect_ok(app.admin_get("/api/v1/flags").await);
    assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
}

#[tokio::test]
async fn list_tags_with_value_like_is_literal_and_case_insensitive() {
    let app = spawn_app().await;
    let flag = app.create_flag("tagged-like").await;
    let id = flag["id"].as_i64().unwrap();
    for value in ["Beta_One", "betaxone", "gamma"] {
        let (status, body) = app
            .admin(
                Method::POST,
                &format!("/api/v1/flags/{id}/tags"),
                Some(json!({"value": value})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, tags) = app
        .admin(Method::GET, "/api/v1/tags?value_like=beta_", None)
        .await;
    assert_eq!(status, 200);
    let values: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        vec!["Beta_One"],
        "`_` must not act as a wildcard; case must not matter"
    );
}

#[tokio::test]
async fn put_flag_with_if_match_star_applies_regardless_of_version() {
    let app = spawn_app().await;
    let flag = app.create_flag("star-match").await;
    let id = flag["id"].as_i64().unwrap();
    let reply = app
        .request(Method::PUT, &format!("/api/v1/flags/{id}"), &app.a.admin)
        .header("If-Match", "*")
        .json(&json!({"description": "any version"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(reply).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["description"], "any version");
    assert_eq!(body["version"], flag["version"].as_i64().unwrap() + 1);
}

/// The flag `key` as `GET /export/gitops?format=json` describes it in `env`: its configuration without
/// ids, versions or timestamps, so two states of one flag compare equal when they configure the same.
async fn configuration(app: &TestApp, env: &str, key: &str) -> Value {
    let doc = expect_ok(
        app.call(
            &app.a.admin,
            Some(env),
            Method::GET,
            "/api/v1/export/gitops?format=json",
            None,
        )
        .await,
    );
    let flags = doc["flags"].as_array().expect("exported flags");
    flags
        .iter()
        .find(|f| f["key"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("{key} is not in the export: {doc}"))
}

fn restore_path(flag: i64, snapshot: i64) -> String {
    format!("{}/snapshots/{snapshot}/restore", flag_path(flag))
}

#[tokio::test]
async fn restoring_a_snapshot_brings_back_that_configuration_as_a_new_change() {
    let app = spawn_app().await;
    let flag = id(&app.configured_flag("checkout").await);
    let path = flag_path(flag);
    expect_ok(
        app.admin_put(&format!("{path}/enabled"), json!({"enabled": true}))
            .await,
    );
    let wanted = configuration(&app, "development", "checkout").await;
    let production = app.flag_json("production", flag).await;
    let version = snapshots(&app, flag, "?limit=1").await[0].clone();

    // Later changes: another segment on top, the old one widened, a variant added, the flag off,
    // the description and the key changed.
    let first = app.flag_json("development", flag).await["segments"][0]["id"]
        .as_i64()
        .unwrap();
    app.new_segment("development", flag, 10).await;
    expect_ok(
        app.admin_put(
            &format!("{path}/segments/{first}"),
            json!({"rolloutPercent": 100, "description": "everyone"}),
        )
        .await,
    );
    app.new_variant(flag, "holdout", json!({})).await;
    expect_ok(
        app.admin_put(&format!("{path}/enabled"), json!({"enabled": false}))
            .await,
    );
    expect_ok(
        app.admin_put(
            &path,
            json!({"description": "renamed", "key": "checkout-v2"}),
        )
        .await,
    );
    let before = snapshots(&app, flag, "").await.len();
    assert_ne!(
        configuration(&app, "development", "checkout-v2").await,
        wanted
    );

    let restored = expect_ok(
        app.admin_post(&restore_path(flag, id(&version)), json!({}))
            .await,
    );
    assert_eq!(
        restored["key"], "checkout-v2",
        "the key is kept: clients use it"
    );
    let mut expected = wanted.clone();
    expected["key"] = json!("checkout-v2");
    assert_eq!(
        configuration(&app, "development", "checkout-v2").await,
        expected
    );

    // A change like any other: a new snapshot of the result, an audit event, the same evaluation.
    let list = snapshots(&app, flag, "").await;
    assert_eq!(list.len(), before + 1);
    assert_eq!(list[0]["flag"], app.flag_json("development", flag).await);
    let audit = expect_ok(app.admin_get("/api/v1/audit?action=flag.rollback").await);
    let events = audit["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(events[0]["resourceId"], flag.to_string(), "{audit}");
    let body = json!({"flagID": flag, "entityID": "e1", "entityContext": {"country": "CA"}});
    let (status, result) = app
        .call(
            &app.a.admin,
            Some("development"),
            Method::POST,
            "/api/v1/evaluation",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert!(
        result["variantKey"].is_string(),
        "restored targeting serves a variant: {result}"
    );

    // Only the snapshot's environment changes (production keeps the variant added since, as it may
    // use it).
    let prod_now = app.flag_json("production", flag).await;
    assert_eq!(prod_now["segments"], production["segments"]);
    assert_eq!(prod_now["enabled"], production["enabled"]);
}

#[tokio::test]
async fn restoring_refuses_foreign_snapshots_read_keys_and_snapshots_that_no_longer_fit() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("guarded").await);
    let other = id(&app.create_flag("other").await);
    let gate = id(&app.create_flag("gate").await);
    let path = flag_path(flag);
    let dev = id(&snapshots(&app, flag, "?limit=1").await[0]);
    let prod = id(&snapshots_in(&app, "production", flag, "?limit=1").await[0]);
    let of_other = id(&snapshots(&app, other, "?limit=1").await[0]);

    let refused = |reply: (u16, Value), status: u16, code: &str| {
        expect_error(&reply, status, code);
    };
    let post = async |key: &str, env: &str, p: &str| {
        app.call(key, Some(env), Method::POST, p, Some(json!({})))
            .await
    };
    let unknown = restore_path(flag, 987_654);
    refused(
        post(&app.a.admin, "development", &unknown).await,
        404,
        "snapshot_not_found",
    );
    let production_snapshot = restore_path(flag, prod);
    refused(
        post(&app.a.admin, "development", &production_snapshot).await,
        404,
        "snapshot_not_found",
    );
    let another_flags = restore_path(flag, of_other);
    refused(
        post(&app.a.admin, "development", &another_flags).await,
        404,
        "snapshot_not_found",
    );
    refused(
        post(&app.b.admin, "development", &restore_path(flag, dev)).await,
        404,
        "flag_not_found",
    );
    refused(
        post(&app.a.read, "development", &restore_path(flag, dev)).await,
        403,
        "forbidden",
    );

    // A snapshot whose prerequisite flag has been deleted since is refused whole.
    let gate_key = json!([{"flagKey": "gate"}]);
    expect_ok(app.admin_put(&path, json!({"dependsOn": gate_key})).await);
    let with_gate = id(&snapshots(&app, flag, "?limit=1").await[0]);
    expect_ok(app.admin_put(&path, json!({"dependsOn": []})).await);
    expect_ok(app.admin_delete(&flag_path(gate)).await);
    let before = app.observe_flag(flag).await;
    let reply = post(&app.a.admin, "development", &restore_path(flag, with_gate)).await;
    let body = expect_error(&reply, 422, "import_invalid");
    assert!(body.to_string().contains("gate"), "{body}");
    assert_eq!(
        app.observe_flag(flag).await,
        before,
        "a refused restore changes nothing"
    );
}
