//! Segment routes in one environment: segments, reordering, constraints and distributions, and who may
//! use them.

use crate::helpers::{TestApp, expect_error, expect_invalid, expect_ok, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

fn segments_path(flag: i64) -> String {
    format!("/api/v1/flags/{flag}/segments")
}

/// A configured flag (see `TestApp::configured_flag`) and the path of its development segment.
async fn configured(app: &TestApp) -> (Value, String) {
    let flag = app.configured_flag("segmented").await;
    let path = format!("{}/{}", segments_path(id(&flag)), id(&flag["segments"][0]));
    (flag, path)
}

#[tokio::test]
async fn create_segment_appends_it_with_rank_999() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("seg").await);
    let body = json!({"description": "  beta users ", "rolloutPercent": 30});
    let first = expect_ok(app.admin_post(&segments_path(flag), body).await);
    let want = json!({"id": id(&first), "description": "beta users", "constraints": [],
        "distributions": [], "rank": 999, "rolloutPercent": 30});
    assert_eq!(first, want);
    let second = app
        .admin_post(&segments_path(flag), json!({"rolloutPercent": 0}))
        .await;
    let second = expect_ok(second);
    assert_eq!(
        (&second["rank"], &second["description"]),
        (&json!(999), &json!(""))
    );
    let listed = expect_ok(app.admin_get(&segments_path(flag)).await);
    assert_eq!(listed, json!([first, second]), "rank, then id");
    assert_eq!(app.flag_json("development", flag).await["segments"], listed);
}

#[tokio::test]
async fn create_segment_with_invalid_input_returns_400_and_changes_nothing() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("seg").await);
    let path = segments_path(flag);
    let before = app.observe_flag(flag).await;
    for rollout in [101, -1] {
        let reply = app
            .admin_post(&path, json!({ "rolloutPercent": rollout }))
            .await;
        expect_invalid(&reply, "rolloutPercent");
    }
    let long = json!({"description": "d".repeat(10_001), "rolloutPercent": 5});
    expect_invalid(&app.admin_post(&path, long).await, "description");
    let missing = app.admin_post(&path, json!({"description": "d"})).await;
    expect_error(&missing, 400, "invalid_json");
    assert_eq!(app.observe_flag(flag).await, before);
    expect_ok(app.admin_post(&path, json!({"rolloutPercent": 100})).await);
}

#[tokio::test]
async fn put_segment_changes_description_and_rollout_only() {
    let app = spawn_app().await;
    let (flag, path) = configured(&app).await;
    let segment = &flag["segments"][0];
    let body = json!({"description": "everyone", "rolloutPercent": 80});
    let updated = expect_ok(app.admin_put(&path, body).await);
    let mut want = segment.clone();
    want["description"] = json!("everyone");
    want["rolloutPercent"] = json!(80);
    assert_eq!(updated, want);
    let before = app.observe_flag(id(&flag)).await;
    let reply = app.admin_put(&path, json!({"rolloutPercent": 101})).await;
    expect_invalid(&reply, "rolloutPercent");
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    let unknown = format!("{}/4242", segments_path(id(&flag)));
    let reply = app.admin_put(&unknown, json!({"rolloutPercent": 1})).await;
    expect_error(&reply, 404, "segment_not_found");
}

#[tokio::test]
async fn delete_segment_removes_it_with_its_constraints_and_distributions() {
    let app = spawn_app().await;
    let (flag, path) = configured(&app).await;
    assert_eq!(app.admin_delete(&path).await, (200, json!({})));
    assert_eq!(
        expect_ok(app.admin_get(&segments_path(id(&flag))).await),
        json!([])
    );
    let constraints = app.admin_get(&format!("{path}/constraints")).await;
    expect_error(&constraints, 404, "segment_not_found");
    expect_error(&app.admin_delete(&path).await, 404, "segment_not_found");
    let control = format!(
        "/api/v1/flags/{}/variants/{}",
        id(&flag),
        id(&flag["variants"][0])
    );
    let freed = app.admin_delete(&control).await;
    assert_eq!(
        freed,
        (200, json!({})),
        "no distribution uses the variant any more"
    );
}

#[tokio::test]
async fn reorder_segments_sets_ranks_to_positions() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("ordered").await);
    let other = id(&app.create_flag("other").await);
    let mut s = Vec::new();
    for rollout in [10, 20, 30] {
        s.push(app.new_segment("development", flag, rollout).await);
    }
    let foreign = app.new_segment("development", other, 5).await;
    app.new_segment("production", flag, 5).await;
    let reorder = format!("{}/reorder", segments_path(flag));
    let ok = app
        .admin_put(&reorder, json!({"segmentIDs": [s[2], s[0], s[1]]}))
        .await;
    assert_eq!(ok, (200, json!({})));
    let listed = expect_ok(app.admin_get(&segments_path(flag)).await);
    let order: Vec<(i64, i64)> = (listed.as_array().unwrap().iter())
        .map(|x| (id(x), x["rank"].as_i64().unwrap()))
        .collect();
    assert_eq!(order, [(s[2], 0), (s[0], 1), (s[1], 2)]);
    let before = app.observe_flag(flag).await;
    for ids in [
        json!([s[0], s[1]]),
        json!([s[0], s[1], s[2], foreign]),
        json!([s[0], s[1], foreign]),
        json!([s[0], s[1], s[2], s[2]]),
        json!([]),
    ] {
        let reply = app.admin_put(&reorder, json!({ "segmentIDs": ids })).await;
        expect_invalid(&reply, "segmentIDs");
    }
    assert_eq!(app.observe_flag(flag).await, before);
}

#[tokio::test]
async fn segments_belong_to_the_environment_they_were_created_in() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("envs").await);
    let prod = app.new_segment("production", flag, 40).await;
    assert_eq!(
        expect_ok(app.admin_get(&segments_path(flag)).await),
        json!([])
    );
    let in_prod = app
        .admin_prod(Method::GET, &segments_path(flag), None)
        .await;
    assert_eq!(expect_ok(in_prod)[0]["id"], prod);
    let path = format!("{}/{prod}", segments_path(flag));
    let before = app.observe_flag(flag).await;
    let rule = json!({"property": "a", "operator": "EQ", "value": "1"});
    for (method, p, body) in [
        (
            Method::PUT,
            path.clone(),
            Some(json!({"rolloutPercent": 1})),
        ),
        (Method::DELETE, path.clone(), None),
        (Method::GET, format!("{path}/constraints"), None),
        (Method::POST, format!("{path}/constraints"), Some(rule)),
        (Method::GET, format!("{path}/distributions"), None),
        (
            Method::PUT,
            format!("{path}/distributions"),
            Some(json!({"distributions": []})),
        ),
    ] {
        expect_error(&app.admin(method, &p, body).await, 404, "segment_not_found");
    }
    assert_eq!(app.observe_flag(flag).await, before);
}

#[tokio::test]
async fn create_constraint_accepts_every_operator_and_literal_kind() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("rules").await);
    let sid = app.new_segment("development", flag, 100).await;
    let path = format!("{}/{sid}/constraints", segments_path(flag));
    let cases = [
        ("country", "EQ", "\"CA\""),
        ("country", "NEQ", "\"US\""),
        ("plan", "IN", "[\"a\",\"b\"]"),
        ("tier", "NOTIN", "[1,2]"),
        ("age", "GT", "18"),
        ("score", "LTE", "65.5"),
        ("version", "GTE", "semver:\"1.2.3\""),
        ("signup", "LT", "time:\"2026-01-01T00:00:00Z\""),
        ("email", "EREG", "\"^a.*\""),
        ("email", "NEREG", "\"@corp\\\\.com$\""),
        ("roles", "CONTAINS", "\"admin\""),
        ("roles", "NOTCONTAINS", "3"),
        ("url", "STARTS_WITH", "\"https://\""),
        ("url", "ENDS_WITH", "\".com\""),
        ("beta", "EQ", "true"),
        ("limit", "LT", "{other.prop}"),
        ("items[0]", "EQ", "\"x\""),
        ("user.address.country", "NEQ", "\"CA\""),
    ];
    let mut created = Vec::new();
    for (property, operator, value) in cases {
        let body = json!({"property": property, "operator": operator, "value": value});
        let c = expect_ok(app.admin_post(&path, body.clone()).await);
        assert_eq!(
            c,
            json!({"id": id(&c), "property": property, "operator": operator, "value": value})
        );
        created.push(c);
    }
    assert_eq!(
        expect_ok(app.admin_get(&path).await),
        Value::Array(created.clone())
    );
    let flag_json = app.flag_json("development", flag).await;
    assert_eq!(
        flag_json["segments"][0]["constraints"],
        Value::Array(created)
    );
}

#[tokio::test]
async fn create_constraint_with_invalid_literal_operator_or_property_returns_400() {
    let app = spawn_app().await;
    let (flag, path) = configured(&app).await;
    let path = format!("{path}/constraints");
    let before = app.observe_flag(id(&flag)).await;
    let bare = json!({"property": "country", "operator": "EQ", "value": "CA"});
    let error = expect_invalid(&app.admin_post(&path, bare).await, "value");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("string values must be quoted: \"CA\""),
        "{message}"
    );
    for (property, operator, value, field) in [
        ("email", "EREG", "\"(unclosed\"", "value"),
        ("email", "LIKE", "\"a\"", "operator"),
        ("email", "eq", "\"a\"", "operator"),
        ("plan", "IN", "\"a\"", "value"),
        ("plan", "IN", "[]", "value"),
        ("age", "GT", "\"old\"", "value"),
        ("", "EQ", "\"a\"", "property"),
        ("a..b", "EQ", "\"a\"", "property"),
    ] {
        let body = json!({"property": property, "operator": operator, "value": value});
        expect_invalid(&app.admin_post(&path, body).await, field);
    }
    assert_eq!(app.observe_flag(id(&flag)).await, before);
}

#[tokio::test]
async fn put_constraint_replaces_it_and_delete_removes_it() {
    let app = spawn_app().await;
    let (flag, segment) = configured(&app).await;
    let cid = id(&flag["segments"][0]["constraints"][0]);
    let path = format!("{segment}/constraints/{cid}");
    let body = json!({"property": "age", "operator": "GTE", "value": "21"});
    let updated = expect_ok(app.admin_put(&path, body).await);
    let want = json!({"id": cid, "property": "age", "operator": "GTE", "value": "21"});
    assert_eq!(updated, want);
    assert_eq!(
        expect_ok(app.admin_get(&format!("{segment}/constraints")).await),
        json!([want])
    );
    let before = app.observe_flag(id(&flag)).await;
    let bad = json!({"property": "age", "operator": "GTE", "value": "old"});
    expect_invalid(&app.admin_put(&path, bad).await, "value");
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    assert_eq!(app.admin_delete(&path).await, (200, json!({})));
    assert_eq!(
        expect_ok(app.admin_get(&format!("{segment}/constraints")).await),
        json!([])
    );
    expect_error(&app.admin_delete(&path).await, 404, "constraint_not_found");
    let body = json!({"property": "a", "operator": "EQ", "value": "1"});
    expect_error(
        &app.admin_put(&path, body).await,
        404,
        "constraint_not_found",
    );
    let other = app.new_segment("development", id(&flag), 10).await;
    let elsewhere = format!("{}/{other}/constraints", segments_path(id(&flag)));
    let moved = expect_ok(
        app.admin_post(
            &elsewhere,
            json!({"property": "a", "operator": "EQ", "value": "1"}),
        )
        .await,
    );
    let wrong_segment = format!("{segment}/constraints/{}", id(&moved));
    expect_error(
        &app.admin_delete(&wrong_segment).await,
        404,
        "constraint_not_found",
    );
}

#[tokio::test]
async fn put_distributions_replaces_them_sorted_by_variant_id() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("split").await);
    let mut v = Vec::new();
    for key in ["a", "b", "c"] {
        v.push(app.new_variant(flag, key, json!({})).await);
    }
    let sid = app.new_segment("development", flag, 100).await;
    let path = format!("{}/{sid}/distributions", segments_path(flag));
    let body = json!({"distributions": [
        {"variantID": v[2], "percent": 50, "variantKey": "ignored"},
        {"variantID": v[0], "percent": 50}]});
    let put = expect_ok(app.admin_put(&path, body).await);
    let shape = |d: &Value| -> Vec<(i64, String, i64)> {
        let items = d.as_array().unwrap().iter();
        items
            .map(|x| {
                (
                    x["variantID"].as_i64().unwrap(),
                    x["variantKey"].as_str().unwrap().into(),
                    x["percent"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        shape(&put),
        [(v[0], "a".into(), 50), (v[2], "c".into(), 50)]
    );
    assert!(
        put.as_array()
            .unwrap()
            .iter()
            .all(|d| d["id"].as_i64().is_some())
    );
    assert_eq!(expect_ok(app.admin_get(&path).await), put);
    let all_b = json!({"distributions": [{"variantID": v[1], "percent": 100}]});
    let replaced = expect_ok(app.admin_put(&path, all_b).await);
    assert_eq!(shape(&replaced), [(v[1], "b".into(), 100)]);
    let flag_json = app.flag_json("development", flag).await;
    assert_eq!(flag_json["segments"][0]["distributions"], replaced);
}

#[tokio::test]
async fn put_distributions_with_invalid_input_returns_400_and_keeps_previous() {
    let app = spawn_app().await;
    let (flag, segment) = configured(&app).await;
    let (a, b) = (id(&flag["variants"][0]), id(&flag["variants"][1]));
    let foreign = id(&app.create_flag("foreign").await);
    let foreign = app.new_variant(foreign, "x", json!({})).await;
    let path = format!("{segment}/distributions");
    let before = app.observe_flag(id(&flag)).await;
    let d = |v: i64, p: i64| json!({"variantID": v, "percent": p});
    for (list, field) in [
        (json!([d(a, 49), d(b, 50)]), "distributions"),
        (json!([d(a, 51), d(b, 50)]), "distributions"),
        (json!([d(4242, 100)]), "distributions[0].variantID"),
        (json!([d(foreign, 100)]), "distributions[0].variantID"),
        (json!([d(a, 50), d(a, 50)]), "distributions[1].variantID"),
        (json!([d(a, -1), d(b, 101)]), "distributions[0].percent"),
        (json!([d(a, 101)]), "distributions[0].percent"),
        (json!([]), "distributions"),
    ] {
        let reply = app.admin_put(&path, json!({ "distributions": list })).await;
        expect_invalid(&reply, field);
    }
    let missing = app
        .admin_put(&path, json!({"distributions": [{"variantID": a}]}))
        .await;
    expect_error(&missing, 400, "invalid_json");
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    let dists = expect_ok(app.admin_get(&path).await);
    assert_eq!(dists, flag["segments"][0]["distributions"]);
}

#[tokio::test]
async fn segment_routes_refuse_read_evaluation_and_foreign_keys() {
    let app = spawn_app().await;
    let (flag, segment) = configured(&app).await;
    let fid = id(&flag);
    let cid = id(&flag["segments"][0]["constraints"][0]);
    let before = app.observe_flag(fid).await;
    let (list, constraint) = (segments_path(fid), format!("{segment}/constraints/{cid}"));
    let rule = json!({"property": "a", "operator": "EQ", "value": "1"});
    let reads = [
        list.clone(),
        format!("{segment}/constraints"),
        format!("{segment}/distributions"),
    ];
    for p in &reads {
        expect_ok(app.call(&app.a.read, None, Method::GET, p, None).await);
        let eval = app.call(&app.a.eval, None, Method::GET, p, None).await;
        expect_error(&eval, 403, "forbidden");
        let foreign = app.call(&app.b.admin, None, Method::GET, p, None).await;
        expect_error(&foreign, 404, "flag_not_found");
    }
    let writes = [
        (Method::POST, list.clone(), json!({"rolloutPercent": 5})),
        (
            Method::PUT,
            format!("{list}/reorder"),
            json!({"segmentIDs": [id(&flag["segments"][0])]}),
        ),
        (Method::PUT, segment.clone(), json!({"rolloutPercent": 5})),
        (Method::POST, format!("{segment}/constraints"), rule.clone()),
        (Method::PUT, constraint.clone(), rule),
        (Method::DELETE, constraint, json!({})),
        (
            Method::PUT,
            format!("{segment}/distributions"),
            json!({"distributions": flag["segments"][0]["distributions"]}),
        ),
        (Method::DELETE, segment.clone(), json!({})),
    ];
    for (method, p, body) in writes {
        for (key, status, code) in [
            (&app.a.read, 403, "forbidden"),
            (&app.a.eval, 403, "forbidden"),
            (&app.b.admin, 404, "flag_not_found"),
        ] {
            let reply = app
                .call(key, None, method.clone(), &p, Some(body.clone()))
                .await;
            expect_error(&reply, status, code);
        }
    }
    assert_eq!(app.observe_flag(fid).await, before);
}

#[tokio::test]
async fn foreign_tenant_cannot_reach_segments_through_its_own_flag() {
    let app = spawn_app().await;
    let (flag, segment) = configured(&app).await;
    let (sid, variant) = (id(&flag["segments"][0]), id(&flag["variants"][0]));
    let cid = id(&flag["segments"][0]["constraints"][0]);
    let before = app.observe_flag(id(&flag)).await;
    let b = &app.b.admin;
    let own = json!({"description": "b's flag"});
    let own = id(&expect_ok(
        app.call(b, None, Method::POST, "/api/v1/flags", Some(own))
            .await,
    ));
    let own_segments = segments_path(own);
    let five = Some(json!({"rolloutPercent": 5}));
    let own_sid = id(&expect_ok(
        app.call(b, None, Method::POST, &own_segments, five).await,
    ));
    let theirs = format!("{own_segments}/{sid}");
    let rule = json!({"property": "a", "operator": "EQ", "value": "1"});
    for (method, p, body) in [
        (Method::PUT, theirs.clone(), json!({"rolloutPercent": 1})),
        (Method::DELETE, theirs.clone(), json!({})),
        (Method::POST, format!("{theirs}/constraints"), rule.clone()),
        (
            Method::PUT,
            format!("{theirs}/constraints/{cid}"),
            rule.clone(),
        ),
        (Method::GET, format!("{theirs}/distributions"), json!({})),
    ] {
        let reply = app.call(b, None, method, &p, Some(body)).await;
        expect_error(&reply, 404, "segment_not_found");
    }
    let own_constraint = format!("{own_segments}/{own_sid}/constraints/{cid}");
    let reply = app
        .call(b, None, Method::PUT, &own_constraint, Some(rule))
        .await;
    expect_error(&reply, 404, "constraint_not_found");
    let split = json!({"distributions": [{"variantID": variant, "percent": 100}]});
    let own_dists = format!("{own_segments}/{own_sid}/distributions");
    let reply = app
        .call(b, None, Method::PUT, &own_dists, Some(split))
        .await;
    expect_invalid(&reply, "distributions[0].variantID");
    let reorder = format!("{own_segments}/reorder");
    let ids = Some(json!({"segmentIDs": [own_sid, sid]}));
    expect_invalid(
        &app.call(b, None, Method::PUT, &reorder, ids).await,
        "segmentIDs",
    );
    assert_eq!(app.observe_flag(id(&flag)).await, before);
    let listed = expect_ok(app.admin_get(&segments_path(id(&flag))).await);
    assert_eq!(listed, flag["segments"], "{segment}");
}
