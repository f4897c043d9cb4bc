//! Variant routes: create, list, rename (distributions follow), delete (refused while a distribution gives
//! the variant a share), and who may do so; and duplicating a flag, which copies its variants and segments.

use crate::helpers::{TestApp, expect_error, expect_invalid, expect_ok, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

fn flag_path_of(id: i64) -> String {
    format!("/api/v1/flags/{id}")
}

fn variants_path(flag: i64) -> String {
    format!("/api/v1/flags/{flag}/variants")
}

/// `(variantID, variantKey, percent)` of every distribution of a flag's first segment in `env`.
async fn split(app: &TestApp, env: &str, flag: i64) -> Vec<(i64, String, i64)> {
    let flag = app.flag_json(env, flag).await;
    let dists = flag["segments"][0]["distributions"]
        .as_array()
        .unwrap()
        .iter();
    dists
        .map(|d| {
            let key = d["variantKey"].as_str().unwrap().to_owned();
            (
                d["variantID"].as_i64().unwrap(),
                key,
                d["percent"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_variant_returns_it_with_its_attachment_in_every_environment() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("colors").await);
    let attachment = json!({"hex": "#00f", "nested": {"list": [1, 2.5, "x"], "on": true}});
    let body = json!({"key": "blue", "attachment": attachment});
    let blue = expect_ok(app.admin_post(&variants_path(flag), body).await);
    assert!(id(&blue) > 0);
    assert_eq!(
        blue,
        json!({"id": id(&blue), "key": "blue", "attachment": attachment})
    );
    assert_eq!(
        expect_ok(app.admin_get(&variants_path(flag)).await),
        json!([blue])
    );
    for env in ["development", "production"] {
        assert_eq!(
            app.flag_json(env, flag).await["variants"],
            json!([blue]),
            "{env}"
        );
    }
}

#[tokio::test]
async fn create_variant_with_null_or_missing_attachment_stores_empty_object() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("plain").await);
    let path = variants_path(flag);
    let from_null = expect_ok(
        app.admin_post(&path, json!({"key": "a", "attachment": null}))
            .await,
    );
    assert_eq!(from_null["attachment"], json!({}));
    let missing = expect_ok(app.admin_post(&path, json!({"key": "b"})).await);
    assert_eq!(missing["attachment"], json!({}));
    let listed = expect_ok(app.admin_get(&path).await);
    assert_eq!(listed, json!([from_null, missing]), "ascending id");
}

#[tokio::test]
async fn create_variant_with_invalid_input_returns_400_and_changes_nothing() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("strict").await);
    let path = variants_path(flag);
    let before = app.observe_flag(flag).await;
    for attachment in [json!("text"), json!([1]), json!(5), json!(true)] {
        let body = json!({"key": "v", "attachment": attachment});
        let error = expect_invalid(&app.admin_post(&path, body).await, "attachment");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("must be a JSON object"), "{message}");
    }
    for key in ["bad key", "", "a*b", &"v".repeat(64)] {
        expect_invalid(&app.admin_post(&path, json!({ "key": key })).await, "key");
    }
    let no_key = app.admin_post(&path, json!({"attachment": {}})).await;
    expect_error(&no_key, 400, "invalid_json");
    assert_eq!(app.observe_flag(flag).await, before);
}

#[tokio::test]
async fn create_or_rename_variant_to_taken_key_returns_409() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("taken").await);
    let other = id(&app.create_flag("other").await);
    let path = variants_path(flag);
    app.new_variant(flag, "a", json!({})).await;
    let b = app.new_variant(flag, "b", json!({})).await;
    let before = app.observe_flag(flag).await;
    let again = app.admin_post(&path, json!({"key": "a"})).await;
    expect_error(&again, 409, "variant_key_taken");
    let rename = app
        .admin_put(&format!("{path}/{b}"), json!({"key": "a"}))
        .await;
    expect_error(&rename, 409, "variant_key_taken");
    assert_eq!(app.observe_flag(flag).await, before);
    expect_ok(
        app.admin_post(&variants_path(other), json!({"key": "a"}))
            .await,
    );
}

#[tokio::test]
async fn put_variant_renames_it_and_distributions_follow_in_every_environment() {
    let app = spawn_app().await;
    let flag = app.configured_flag("renamed").await;
    let (fid, control) = (id(&flag), id(&flag["variants"][0]));
    let treatment = id(&flag["variants"][1]);
    let prod_segment = app.new_segment("production", fid, 100).await;
    let prod = format!("/api/v1/flags/{fid}/segments/{prod_segment}/distributions");
    let all_control = json!({"distributions": [{"variantID": control, "percent": 100}]});
    expect_ok(app.admin_prod(Method::PUT, &prod, Some(all_control)).await);
    let path = format!("{}/{control}", variants_path(fid));
    let body = json!({"key": "blue", "attachment": {"v": 2}});
    let renamed = expect_ok(app.admin_put(&path, body).await);
    assert_eq!(
        renamed,
        json!({"id": control, "key": "blue", "attachment": {"v": 2}})
    );
    let dev = split(&app, "development", fid).await;
    let want = [
        (control, "blue".to_owned(), 50),
        (treatment, "treatment".to_owned(), 50),
    ];
    assert_eq!(dev, want);
    assert_eq!(
        split(&app, "production", fid).await,
        [(control, "blue".to_owned(), 100)]
    );
    let same_key = app.admin_put(&path, json!({"key": "blue"})).await;
    assert_eq!(
        expect_ok(same_key)["attachment"],
        json!({}),
        "attachment replaced"
    );
}

#[tokio::test]
async fn delete_variant_with_a_share_returns_409_until_its_percent_is_zero() {
    let app = spawn_app().await;
    let flag = app.configured_flag("shared").await;
    let fid = id(&flag);
    let (control, treatment) = (id(&flag["variants"][0]), id(&flag["variants"][1]));
    let path = format!("{}/{control}", variants_path(fid));
    let before = app.observe_flag(fid).await;
    let error = expect_error(&app.admin_delete(&path).await, 409, "variant_in_use");
    assert!(
        error["message"].as_str().unwrap().contains("control"),
        "{error}"
    );
    assert_eq!(app.observe_flag(fid).await, before);
    let sid = id(&flag["segments"][0]);
    let dists = format!("/api/v1/flags/{fid}/segments/{sid}/distributions");
    let zero = json!({"distributions": [
        {"variantID": control, "percent": 0}, {"variantID": treatment, "percent": 100}]});
    expect_ok(app.admin_put(&dists, zero).await);
    assert_eq!(app.admin_delete(&path).await, (200, json!({})));
    let keys = expect_ok(app.admin_get(&variants_path(fid)).await);
    assert_eq!(keys, json!([flag["variants"][1]]));
    assert_eq!(
        split(&app, "development", fid).await,
        [(treatment, "treatment".to_owned(), 100)]
    );
}

#[tokio::test]
async fn delete_unused_variant_removes_it_and_second_delete_returns_404() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("pruned").await);
    let keep = app.new_variant(flag, "keep", json!({})).await;
    let spare = app.new_variant(flag, "spare", json!({})).await;
    let path = format!("{}/{spare}", variants_path(flag));
    assert_eq!(app.admin_delete(&path).await, (200, json!({})));
    let listed = expect_ok(app.admin_get(&variants_path(flag)).await);
    assert_eq!(
        listed,
        json!([{"id": keep, "key": "keep", "attachment": {}}])
    );
    expect_error(&app.admin_delete(&path).await, 404, "variant_not_found");
    let put = app.admin_put(&path, json!({"key": "spare"})).await;
    expect_error(&put, 404, "variant_not_found");
}

#[tokio::test]
async fn variant_of_another_flag_or_unknown_id_returns_404() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("mine").await);
    let other = id(&app.create_flag("theirs").await);
    let theirs = app.new_variant(other, "theirs", json!({})).await;
    let before = app.observe_flag(other).await;
    for variant in [theirs.to_string(), "4242".to_owned()] {
        let path = format!("{}/{variant}", variants_path(flag));
        let put = app.admin_put(&path, json!({"key": "stolen"})).await;
        expect_error(&put, 404, "variant_not_found");
        expect_error(&app.admin_delete(&path).await, 404, "variant_not_found");
    }
    let malformed = app
        .admin_delete(&format!("{}/x", variants_path(flag)))
        .await;
    expect_error(&malformed, 400, "invalid_path");
    let unknown_flag = app
        .admin_post(&variants_path(4242), json!({"key": "v"}))
        .await;
    expect_error(&unknown_flag, 404, "flag_not_found");
    expect_error(
        &app.admin_get(&variants_path(4242)).await,
        404,
        "flag_not_found",
    );
    assert_eq!(app.observe_flag(other).await, before);
}

#[tokio::test]
async fn default_variant_cannot_be_renamed_or_deleted() {
    let app = spawn_app().await;
    let flag = id(&app.create_flag("defaulted").await);
    let off = app.new_variant(flag, "off", json!({})).await;
    let flag_path = format!("/api/v1/flags/{flag}");
    expect_ok(
        app.admin_put(&flag_path, json!({"defaultVariant": "off"}))
            .await,
    );
    let before = app.observe_flag(flag).await;
    let path = format!("{}/{off}", variants_path(flag));
    expect_invalid(&app.admin_put(&path, json!({"key": "on"})).await, "key");
    expect_invalid(&app.admin_delete(&path).await, "variantID");
    assert_eq!(app.observe_flag(flag).await, before);
    let attachment = json!({"key": "off", "attachment": {"v": 1}});
    expect_ok(app.admin_put(&path, attachment).await);
}

#[tokio::test]
async fn variant_routes_refuse_read_and_evaluation_keys() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    let fid = id(&flag);
    let before = app.observe_flag(fid).await;
    let path = variants_path(fid);
    let one = format!("{path}/{}", id(&flag["variants"][0]));
    let read = app.call(&app.a.read, None, Method::GET, &path, None).await;
    assert_eq!(expect_ok(read), flag["variants"]);
    let eval = app.call(&app.a.eval, None, Method::GET, &path, None).await;
    expect_error(&eval, 403, "forbidden");
    let body = Some(json!({"key": "new"}));
    for key in [&app.a.read, &app.a.eval] {
        for (method, p) in [
            (Method::POST, &path),
            (Method::PUT, &one),
            (Method::DELETE, &one),
        ] {
            let reply = app.call(key, None, method, p, body.clone()).await;
            expect_error(&reply, 403, "forbidden");
        }
    }
    assert_eq!(app.observe_flag(fid).await, before);
}

#[tokio::test]
async fn foreign_tenant_admin_gets_404_on_variants_and_changes_nothing() {
    let app = spawn_app().await;
    let flag = app.configured_flag("guarded").await;
    let fid = id(&flag);
    let control = id(&flag["variants"][0]);
    let before = app.observe_flag(fid).await;
    let path = variants_path(fid);
    let one = format!("{path}/{control}");
    let b = &app.b.admin;
    let body = Some(json!({"key": "new"}));
    for (method, p) in [
        (Method::GET, &path),
        (Method::POST, &path),
        (Method::PUT, &one),
        (Method::DELETE, &one),
    ] {
        let reply = app.call(b, None, method, p, body.clone()).await;
        expect_error(&reply, 404, "flag_not_found");
    }
    let own = app.call(
        b,
        None,
        Method::POST,
        "/api/v1/flags",
        Some(json!({"description": "b"})),
    );
    let own = id(&expect_ok(own.await));
    let through_own = format!("{}/{control}", variants_path(own));
    for method in [Method::PUT, Method::DELETE] {
        let reply = app.call(b, None, method, &through_own, body.clone()).await;
        expect_error(&reply, 404, "variant_not_found");
    }
    assert_eq!(app.observe_flag(fid).await, before);
}

/// What a copy must reproduce: everything but ids, with distributions naming variants by key.
fn copied_parts(flag: &Value) -> Value {
    let mut f = flag.clone();
    let keys: Vec<(Value, Value)> = (f["variants"].as_array().unwrap().iter())
        .map(|v| (v["id"].clone(), v["key"].clone()))
        .collect();
    let strip = |v: &mut Value| drop(v.as_object_mut().unwrap().remove("id"));
    f["variants"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(strip);
    for s in f["segments"].as_array_mut().unwrap() {
        strip(s);
        s["constraints"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .for_each(strip);
        for d in s["distributions"].as_array_mut().unwrap() {
            strip(d);
            let key = keys.iter().find(|(id, _)| *id == d["variantID"]).unwrap();
            d["variantID"] = key.1.clone();
        }
    }
    let fields = [
        "description",
        "tags",
        "variants",
        "segments",
        "notes",
        "entityType",
    ];
    let more = [
        "bucketing",
        "dependsOn",
        "defaultVariant",
        "dataRecordsEnabled",
    ];
    let parts = fields
        .iter()
        .chain(&more)
        .map(|k| (k.to_string(), f[*k].clone()));
    Value::Object(parts.collect())
}

#[tokio::test]
async fn duplicate_flag_copies_callers_environment_disabled_under_new_key() {
    let app = spawn_app().await;
    let src = id(&app.configured_flag("source").await);
    app.new_variant(src, "spare", json!({"a": {"b": [1]}}))
        .await;
    app.new_segment("production", src, 30).await;
    let settings = json!({"notes": "n", "entityType": "user", "defaultVariant": "control"});
    expect_ok(app.admin_put(&flag_path_of(src), settings).await);
    let enable = format!("{}/enabled", flag_path_of(src));
    let source = expect_ok(app.admin_put(&enable, json!({"enabled": true})).await);
    let path = format!("{}/duplicate", flag_path_of(src));
    let copy = expect_ok(app.admin_post(&path, json!({"key": "copy"})).await);
    assert_ne!(id(&copy), src);
    assert_eq!(
        (&copy["key"], &copy["salt"]),
        (&json!("copy"), &json!("copy"))
    );
    assert_eq!(
        (&copy["enabled"], &copy["archived"]),
        (&json!(false), &json!(false))
    );
    assert_eq!(copied_parts(&copy), copied_parts(&source), "{copy}");
    let old_ids: Vec<&Value> = source["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect();
    assert!(
        copy["variants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| !old_ids.contains(&&v["id"]))
    );
    assert_ne!(copy["segments"][0]["id"], source["segments"][0]["id"]);
    let copy_prod = app.flag_json("production", id(&copy)).await;
    assert_eq!(
        copy_prod["segments"],
        json!([]),
        "only the caller's environment is copied"
    );
    let prod_copy = app
        .admin_prod(Method::POST, &path, Some(json!({"key": "prod-copy"})))
        .await;
    let prod_copy = expect_ok(prod_copy);
    let prod_source = app.flag_json("production", src).await;
    assert_eq!(
        copied_parts(&prod_copy)["segments"],
        copied_parts(&prod_source)["segments"]
    );
    assert_eq!(prod_copy["segments"][0]["rolloutPercent"], 30);
    assert_eq!(
        app.flag_json("development", id(&prod_copy)).await["segments"],
        json!([])
    );
    assert_eq!(
        app.flag_json("development", src).await,
        source,
        "the source is untouched"
    );
}

#[tokio::test]
async fn duplicate_flag_with_taken_or_invalid_key_is_refused() {
    let app = spawn_app().await;
    let source = id(&app.configured_flag("source").await);
    app.create_flag("other").await;
    let path = format!("{}/duplicate", flag_path_of(source));
    for key in ["source", "other"] {
        let reply = app.admin_post(&path, json!({ "key": key })).await;
        expect_error(&reply, 409, "flag_key_taken");
    }
    let listed = expect_ok(app.admin_get("/api/v1/flags").await);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    expect_invalid(
        &app.admin_post(&path, json!({"key": "bad key"})).await,
        "key",
    );
    let copy = expect_ok(app.admin(Method::POST, &path, None).await);
    assert!(
        copy["key"].as_str().unwrap().starts_with("source-copy-"),
        "{copy}"
    );
    let unknown = app
        .admin_post("/api/v1/flags/4242/duplicate", json!({"key": "x"}))
        .await;
    expect_error(&unknown, 404, "flag_not_found");
}

#[tokio::test]
async fn duplicate_flag_with_longest_key_and_no_key_generates_valid_key() {
    let app = spawn_app().await;
    let long = "k".repeat(63);
    let source = id(&app.create_flag(&long).await);
    let path = format!("{}/duplicate", flag_path_of(source));
    let copy = expect_ok(app.admin(Method::POST, &path, Some(json!({}))).await);
    let key = copy["key"].as_str().unwrap();
    assert!(key.len() <= 63 && key.contains("-copy-"), "{key}");
    assert_eq!(app.flag_json("development", id(&copy)).await["key"], key);
}
