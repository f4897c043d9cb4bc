//! OFREP (`/ofrep/v1`): conformance with the published OpenFeature Python SDK and OFREP provider
//! (`tests/ofrep/conformance.py`, packages from `tests/requirements.txt`) over real HTTP, and plain-HTTP
//! checks of the bulk `ETag`/304, the error shapes, usage counting and tenant isolation.

use crate::helpers::{BuiltFlag, SegmentSpec, TestApp, code, read, spawn_app};
use flagent_tenants::usage::Period;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const PROD: &str = "production";

/// Creates a flag in tenant A's production environment with `variants` (key and attachment, in this
/// order), `segments` (percents per variant in that order), and enables it.
async fn flag(
    app: &TestApp,
    key: &str,
    variants: &[(&str, Value)],
    segments: &[SegmentSpec<'_>],
) -> BuiltFlag {
    flag_of(app, &app.a.admin, key, variants, segments).await
}

/// [`flag`] with a tenant's admin key.
async fn flag_of(
    app: &TestApp,
    admin: &str,
    key: &str,
    variants: &[(&str, Value)],
    segments: &[SegmentSpec<'_>],
) -> BuiltFlag {
    let ok = |(status, body): (u16, Value)| {
        assert_eq!(status, 200, "building flag {key}: {body}");
        body
    };
    let body = json!({"key": key, "description": format!("{key} flag")});
    let created = ok(app
        .call(admin, Some(PROD), Method::POST, "/api/v1/flags", Some(body))
        .await);
    let id = created["id"].as_i64().expect("flag id");
    let mut built = BuiltFlag {
        id,
        variants: Vec::new(),
        segments: Vec::new(),
    };
    for (variant, attachment) in variants {
        let body = json!({"key": variant, "attachment": attachment});
        let path = format!("/api/v1/flags/{id}/variants");
        let made = ok(app
            .call(admin, Some(PROD), Method::POST, &path, Some(body))
            .await);
        built
            .variants
            .push(made["id"].as_i64().expect("variant id"));
    }
    for segment in segments {
        let sid = app.add_segment(admin, PROD, &built, segment).await;
        built.segments.push(sid);
    }
    set_enabled(app, admin, id, true).await;
    built
}

async fn set_enabled(app: &TestApp, admin: &str, id: i64, enabled: bool) {
    let path = format!("/api/v1/flags/{id}/enabled");
    let (status, body) = app
        .call(
            admin,
            Some(PROD),
            Method::PUT,
            &path,
            Some(json!({ "enabled": enabled })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Everyone in the segment, one variant (by percents), no constraints.
const fn everyone(percents: &'static [i64]) -> SegmentSpec<'static> {
    SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents,
    }
}

/// The flags of the conformance run, in tenant A's production environment.
struct Flags {
    dark_mode: BuiltFlag,
    greeting: BuiltFlag,
    limit: BuiltFlag,
    ratio: BuiltFlag,
    settings: BuiltFlag,
    retired: BuiltFlag,
    banner: BuiltFlag,
}

async fn seed(app: &TestApp) -> Flags {
    let on_off = [("off", json!({})), ("on", json!({}))];
    // Boolean: `on` for the pro plan, nobody else.
    let dark_mode = flag(
        app,
        "dark-mode",
        &on_off,
        &[SegmentSpec {
            constraints: &[("plan", "EQ", "\"pro\"")],
            rollout: 100,
            percents: &[0, 100],
        }],
    )
    .await;
    // String: French speakers get `bonjour` (an attachment value), everyone else `hello` (the key).
    let greeting = flag(
        app,
        "greeting",
        &[
            ("hello", json!({})),
            ("bonjour", json!({"value": "Bonjour !"})),
        ],
        &[
            SegmentSpec {
                constraints: &[("language", "EQ", "\"fr\"")],
                rollout: 100,
                percents: &[0, 100],
            },
            everyone(&[100, 0]),
        ],
    )
    .await;
    // Integer: a 50/50 split.
    let limit = flag(
        app,
        "limit",
        &[
            ("small", json!({"value": 10})),
            ("large", json!({"value": 100})),
        ],
        &[everyone(&[50, 50])],
    )
    .await;
    // Float: adults get 1.0 (sent with its fractional part); the rest fall to the default variant.
    let ratio = flag(
        app,
        "ratio",
        &[
            ("low", json!({"value": 0.25})),
            ("full", json!({"value": 1.0})),
        ],
        &[SegmentSpec {
            constraints: &[("age", "GTE", "18")],
            rollout: 100,
            percents: &[0, 100],
        }],
    )
    .await;
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{}", ratio.id),
            Some(json!({"defaultVariant": "low"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Object: the same value for everyone (STATIC).
    let settings = flag(
        app,
        "settings",
        &[(
            "v2",
            json!({"value": {"theme": "dark", "limits": [1, 2], "beta": true}}),
        )],
        &[everyone(&[100])],
    )
    .await;
    // Disabled boolean and disabled string without a default.
    let retired = flag(app, "retired", &on_off, &[everyone(&[0, 100])]).await;
    set_enabled(app, &app.a.admin, retired.id, false).await;
    let banner = flag(
        app,
        "banner",
        &[("summer", json!({"value": "Summer sale"}))],
        &[everyone(&[100])],
    )
    .await;
    set_enabled(app, &app.a.admin, banner.id, false).await;
    Flags {
        dark_mode,
        greeting,
        limit,
        ratio,
        settings,
        retired,
        banner,
    }
}

/// Runs the Python OFREP provider over `cases` against `app` with `key` by default; returns its
/// results by case name.
async fn run_provider(app: &TestApp, key: &str, cases: Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ofrep/conformance.py");
    let (url, key) = (app.address.clone(), key.to_owned());
    // The server runs on this test's runtime: wait for Python on a blocking thread.
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(script)
            .env("FLAGENT_URL", url)
            .env("FLAGENT_KEY", key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python3 (the OFREP conformance test needs it)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(cases.to_string().as_bytes())
            .expect("write the cases");
        child.wait_with_output().expect("python3 ran")
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "the OFREP provider script failed (install its packages with \
         `python3 -m pip install -r web/server/tests/requirements.txt`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the script printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The variant `/api/v1/evaluation` gives `entity` for `flag` with A's evaluation key.
async fn flagr_variant(app: &TestApp, flag: &str, entity: &str) -> String {
    let (status, body) = app
        .evaluate(json!({"flagKey": flag, "entityID": entity}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["variantKey"].as_str().unwrap_or("").to_owned()
}

#[tokio::test]
async fn the_openfeature_python_provider_gets_typed_values_variants_and_reasons() {
    let app = spawn_app().await;
    let flags = seed(&app).await;
    let client_key = {
        let (status, body) = app
            .admin(
                Method::POST,
                "/api/v1/keys",
                Some(json!({"name": "browser", "scopes": ["client"], "environment": PROD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["key"].as_str().expect("key").to_owned()
    };
    let split_users: Vec<String> = (1..=6).map(|i| format!("user-{i}")).collect();
    let mut cases = vec![
        json!({"name": "bool match", "flag": "dark-mode", "type": "boolean", "default": false,
               "context": {"targetingKey": "u1", "plan": "pro"}}),
        json!({"name": "bool match by X-API-Key", "flag": "dark-mode", "type": "boolean",
               "default": false, "context": {"targetingKey": "u1", "plan": "pro"},
               "header": "x-api-key"}),
        json!({"name": "bool default", "flag": "dark-mode", "type": "boolean", "default": true,
               "context": {"targetingKey": "u1", "plan": "free"}}),
        json!({"name": "bool without context", "flag": "dark-mode", "type": "boolean",
               "default": true}),
        json!({"name": "string match", "flag": "greeting", "type": "string", "default": "?",
               "context": {"targetingKey": "u1", "language": "fr"}}),
        json!({"name": "string fallthrough", "flag": "greeting", "type": "string", "default": "?",
               "context": {"targetingKey": "u1", "language": "en"}}),
        json!({"name": "float match", "flag": "ratio", "type": "float", "default": 0.0,
               "context": {"targetingKey": "u1", "age": 30}}),
        json!({"name": "float default variant", "flag": "ratio", "type": "float", "default": 0.0,
               "context": {"targetingKey": "u1", "age": 12}}),
        json!({"name": "object static", "flag": "settings", "type": "object", "default": {},
               "context": {"targetingKey": "u1"}}),
        json!({"name": "bool disabled", "flag": "retired", "type": "boolean", "default": true,
               "context": {"targetingKey": "u1"}}),
        json!({"name": "string disabled", "flag": "banner", "type": "string",
               "default": "code default", "context": {"targetingKey": "u1"}}),
        json!({"name": "unknown flag", "flag": "no-such-flag", "type": "boolean", "default": true,
               "context": {"targetingKey": "u1"}}),
        json!({"name": "split without targeting key", "flag": "limit", "type": "integer",
               "default": -1, "context": {"plan": "pro"}}),
        json!({"name": "type mismatch", "flag": "greeting", "type": "integer", "default": 7,
               "context": {"targetingKey": "u1"}}),
        json!({"name": "bad key", "flag": "dark-mode", "type": "boolean", "default": true,
               "context": {"targetingKey": "u1", "plan": "pro"}, "key": "flg_not_a_real_key"}),
        json!({"name": "client key", "flag": "dark-mode", "type": "boolean", "default": true,
               "context": {"targetingKey": "u1", "plan": "pro"}, "key": client_key}),
    ];
    for user in &split_users {
        cases.push(
            json!({"name": format!("split {user}"), "flag": "limit", "type": "integer",
            "default": -1, "context": {"targetingKey": user}}),
        );
    }
    let results = run_provider(&app, &app.a.eval, Value::Array(cases)).await;
    let result = |name: &str| {
        let r = &results[name];
        assert!(r.is_object(), "no result for {name:?}: {results}");
        r.clone()
    };
    // (case, value, variant, reason, error code)
    let expected = [
        (
            "bool match",
            json!(true),
            json!("on"),
            "TARGETING_MATCH",
            Value::Null,
        ),
        (
            "bool match by X-API-Key",
            json!(true),
            json!("on"),
            "TARGETING_MATCH",
            Value::Null,
        ),
        (
            "bool default",
            json!(false),
            json!("off"),
            "DEFAULT",
            Value::Null,
        ),
        (
            "bool without context",
            json!(false),
            json!("off"),
            "DEFAULT",
            Value::Null,
        ),
        (
            "string match",
            json!("Bonjour !"),
            json!("bonjour"),
            "TARGETING_MATCH",
            Value::Null,
        ),
        (
            "string fallthrough",
            json!("hello"),
            json!("hello"),
            "TARGETING_MATCH",
            Value::Null,
        ),
        (
            "float match",
            json!(1.0),
            json!("full"),
            "TARGETING_MATCH",
            Value::Null,
        ),
        (
            "float default variant",
            json!(0.25),
            json!("low"),
            "DEFAULT",
            Value::Null,
        ),
        (
            "object static",
            json!({"theme": "dark", "limits": [1, 2], "beta": true}),
            json!("v2"),
            "STATIC",
            Value::Null,
        ),
        (
            "bool disabled",
            json!(false),
            json!("off"),
            "DISABLED",
            Value::Null,
        ),
        (
            "string disabled",
            json!("code default"),
            json!(""),
            "DISABLED",
            Value::Null,
        ),
        (
            "unknown flag",
            json!(true),
            Value::Null,
            "ERROR",
            json!("FLAG_NOT_FOUND"),
        ),
        (
            "split without targeting key",
            json!(-1),
            Value::Null,
            "ERROR",
            json!("TARGETING_KEY_MISSING"),
        ),
        (
            "type mismatch",
            json!(7),
            Value::Null,
            "ERROR",
            json!("TYPE_MISMATCH"),
        ),
        (
            "bad key",
            json!(true),
            Value::Null,
            "ERROR",
            json!("GENERAL"),
        ),
        (
            "client key",
            json!(true),
            Value::Null,
            "ERROR",
            json!("GENERAL"),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, value, variant, reason, error) in &expected {
        let got = result(name);
        let want = (value, variant, json!(reason), error);
        let have = (
            &got["value"],
            &got["variant"],
            got["reason"].clone(),
            &got["errorCode"],
        );
        if want != have {
            wrong.push(format!("{name}: wanted {want:?}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Types as Python sees them: 1.0 stays a float, 10/100 are ints.
    assert_eq!(result("float match")["valueType"], "float");
    assert_eq!(
        result("bad key")["errorMessage"],
        "unauthorized",
        "a bad key is a 401"
    );
    assert_eq!(
        result("client key")["errorMessage"],
        "forbidden",
        "a client key is a 403"
    );
    // Metadata names the flag, the segment and the variant, and Flagent's own reason.
    let meta = &result("bool match")["metadata"];
    assert_eq!(meta["flagID"], flags.dark_mode.id, "{meta}");
    assert_eq!(meta["segmentID"], flags.dark_mode.segments[0], "{meta}");
    assert_eq!(meta["variantID"], flags.dark_mode.variants[1], "{meta}");
    assert_eq!(meta["evaluationReason"], "TARGETING_MATCH", "{meta}");
    let meta = &result("string fallthrough")["metadata"];
    assert_eq!(meta["segmentID"], flags.greeting.segments[1], "{meta}");
    let meta = &result("float default variant")["metadata"];
    assert_eq!(meta["flagID"], flags.ratio.id, "{meta}");
    assert_eq!(meta["evaluationReason"], "DEFAULT", "{meta}");
    assert!(
        meta.get("variantID").is_none(),
        "no variant was picked: {meta}"
    );
    assert_eq!(
        result("object static")["metadata"]["flagID"],
        flags.settings.id
    );
    assert_eq!(
        result("bool disabled")["metadata"]["flagID"],
        flags.retired.id
    );
    assert_eq!(
        result("string disabled")["metadata"]["evaluationReason"],
        "DISABLED"
    );
    assert_eq!(
        result("string disabled")["metadata"]["flagID"],
        flags.banner.id
    );
    // The split agrees with Flagr's evaluation API, entity by entity.
    for user in &split_users {
        let got = result(&format!("split {user}"));
        let variant = flagr_variant(&app, "limit", user).await;
        let value = if variant == "small" { 10 } else { 100 };
        assert_eq!(
            (&got["variant"], &got["value"], &got["reason"]),
            (&json!(variant), &json!(value), &json!("SPLIT")),
            "{user}"
        );
        assert_eq!(got["valueType"], "int", "{got}");
        assert_eq!(got["metadata"]["segmentID"], flags.limit.segments[0]);
    }
}

// ---------------------------------------------------------------------------------------------------
// Plain HTTP.
// ---------------------------------------------------------------------------------------------------

/// `POST /ofrep/v1/evaluate/flags[/key]` with `key` and a raw body; returns status, headers and body.
async fn ofrep(
    app: &TestApp,
    key: Option<&str>,
    flag: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let path = match flag {
        Some(flag) => format!("/ofrep/v1/evaluate/flags/{flag}"),
        None => "/ofrep/v1/evaluate/flags".to_owned(),
    };
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let reply = req.send().await.expect("request");
    let headers = reply.headers().clone();
    let (status, body) = read(reply).await;
    (status, headers, body)
}

fn etag(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

#[tokio::test]
async fn bulk_evaluation_has_an_etag_and_answers_304_until_the_configuration_or_context_changes() {
    let app = spawn_app().await;
    let flags = seed(&app).await;
    let key = app.a.eval.clone();
    let ctx = r#"{"context": {"targetingKey": "u1", "plan": "pro", "age": 30}}"#;
    let (status, headers, body) = ofrep(&app, Some(&key), None, ctx, &[]).await;
    assert_eq!(status, 200, "{body}");
    let tag = etag(&headers);
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && !tag.starts_with("W/"),
        "a strong tag: {tag}"
    );
    let listed: Vec<&str> = body["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "dark-mode",
            "greeting",
            "limit",
            "ratio",
            "settings",
            "retired",
            "banner"
        ],
        "every flag, by id: {body}"
    );
    let by_key = |body: &Value, key: &str| {
        body["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_key(&body, "dark-mode")["value"], true);
    assert_eq!(by_key(&body, "ratio")["value"], 1.0);
    assert!(
        body.to_string().contains(r#""value":1.0"#),
        "floats keep a fractional part: {body}"
    );
    assert_eq!(by_key(&body, "settings")["reason"], "STATIC");
    assert_eq!(by_key(&body, "retired")["reason"], "DISABLED");
    assert!(by_key(&body, "banner").get("value").is_none(), "{body}");
    assert_eq!(by_key(&body, "banner")["variant"], "");
    assert!(body["metadata"]["revision"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(
        body["eventStreams"],
        json!([{"type": "sse", "url": "http://localhost:18000/api/v1/stream"}]),
        "the key's own environment's change stream"
    );

    // The same context with the tag: 304, no body, the tag again.
    let (status, headers, body) =
        ofrep(&app, Some(&key), None, ctx, &[("If-None-Match", &tag)]).await;
    assert_eq!((status, &body), (304, &Value::Null));
    assert_eq!(etag(&headers), tag);
    let listed = format!("\"other\", W/{tag}");
    let (status, _, _) = ofrep(&app, Some(&key), None, ctx, &[("If-None-Match", &listed)]).await;
    assert_eq!(status, 304, "a tag among others, compared weakly");
    // The same context written differently (key order, spacing) is the same context.
    let reordered = r#"{"context":{"age":30,"plan":"pro","targetingKey":"u1"}}"#;
    let (status, _, _) = ofrep(
        &app,
        Some(&key),
        None,
        reordered,
        &[("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(status, 304);
    // Another context: a new answer with another tag.
    let other = r#"{"context": {"targetingKey": "u2", "plan": "pro", "age": 30}}"#;
    let (status, headers, _) =
        ofrep(&app, Some(&key), None, other, &[("If-None-Match", &tag)]).await;
    assert_eq!(status, 200);
    assert_ne!(etag(&headers), tag);
    // A change to the environment's configuration: a new answer with another tag.
    set_enabled(&app, &app.a.admin, flags.dark_mode.id, false).await;
    let (status, headers, body) =
        ofrep(&app, Some(&key), None, ctx, &[("If-None-Match", &tag)]).await;
    assert_eq!(status, 200, "{body}");
    let changed = etag(&headers);
    assert_ne!(changed, tag);
    assert_eq!(by_key(&body, "dark-mode")["reason"], "DISABLED");
    // A change in another environment leaves this one's tag alone.
    let (status, _) = app
        .call(
            &app.a.admin,
            Some("development"),
            Method::PUT,
            &format!("/api/v1/flags/{}/enabled", flags.limit.id),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = ofrep(&app, Some(&key), None, ctx, &[("If-None-Match", &changed)]).await;
    assert_eq!(status, 304);
}

#[tokio::test]
async fn errors_have_ofreps_shape_and_status() {
    let app = spawn_app().await;
    seed(&app).await;
    let key = app.a.eval.clone();
    let single = |flag: &'static str, body: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let (status, _, body) = ofrep(app, Some(&key), Some(flag), body, &[]).await;
            (status, body)
        }
    };
    let ctx = r#"{"context": {"targetingKey": "u1"}}"#;
    let cases = [
        ("no-such-flag", ctx, 404, "FLAG_NOT_FOUND"),
        ("dark-mode", "{\"context\": ", 400, "PARSE_ERROR"),
        ("dark-mode", "[1, 2]", 400, "PARSE_ERROR"),
        ("dark-mode", r#"{"context": "u1"}"#, 400, "INVALID_CONTEXT"),
        (
            "dark-mode",
            r#"{"context": {"targetingKey": 42}}"#,
            400,
            "INVALID_CONTEXT",
        ),
        (
            "limit",
            r#"{"context": {"plan": "pro"}}"#,
            400,
            "TARGETING_KEY_MISSING",
        ),
        ("limit", "", 400, "TARGETING_KEY_MISSING"),
    ];
    for (flag, body, status, error) in cases {
        let (got, reply) = single(flag, body).await;
        assert_eq!(
            (got, reply["errorCode"].as_str()),
            (status, Some(error)),
            "{flag} {body}: {reply}"
        );
        assert_eq!(reply["key"], flag, "{reply}");
        assert!(
            reply["errorDetails"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{reply}"
        );
        assert!(reply.get("error").is_none(), "OFREP's shape only: {reply}");
    }
    // A missing or empty body or context is accepted where the key is not needed.
    for body in ["", "{}", r#"{"context": {}}"#, r#"{"context": null}"#] {
        let (status, reply) = single("dark-mode", body).await;
        assert_eq!(status, 200, "{body:?}: {reply}");
        assert_eq!(
            (&reply["value"], &reply["reason"]),
            (&json!(false), &json!("DEFAULT"))
        );
    }
    // Flag keys may contain slashes.
    let (status, body) = app
        .admin_prod(
            Method::POST,
            "/api/v1/flags",
            Some(json!({"key": "team/checkout", "description": "nested"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, reply) = single("team/checkout", ctx).await;
    assert_eq!(
        (status, &reply["key"], &reply["reason"]),
        (200, &json!("team/checkout"), &json!("DISABLED")),
        "{reply}"
    );

    // Bulk: a request error has no key; a flag that needs the targeting key says so in its place.
    let (status, _, reply) = ofrep(&app, Some(&key), None, "nope", &[]).await;
    assert_eq!(
        (status, &reply["errorCode"]),
        (400, &json!("PARSE_ERROR")),
        "{reply}"
    );
    assert!(reply.get("key").is_none(), "{reply}");
    let (status, _, reply) = ofrep(&app, Some(&key), None, r#"{"context": [1]}"#, &[]).await;
    assert_eq!(
        (status, &reply["errorCode"]),
        (400, &json!("INVALID_CONTEXT")),
        "{reply}"
    );
    let (status, _, reply) = ofrep(&app, Some(&key), None, "", &[]).await;
    assert_eq!(status, 200, "{reply}");
    let limit = reply["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!(limit["errorCode"], "TARGETING_KEY_MISSING", "{reply}");

    // Credentials: refused before the body is read, in Flagent's shape (401/403 carry no OFREP body).
    for flag in [Some("dark-mode"), None] {
        let (status, _, reply) = ofrep(&app, None, flag, "{\"context\": ", &[]).await;
        assert_eq!(
            (status, code(&reply)),
            (401, "missing_credentials"),
            "{reply}"
        );
        let (status, _, reply) = ofrep(&app, Some("flg_garbage"), flag, ctx, &[]).await;
        assert_eq!((status, code(&reply)), (401, "invalid_api_key"), "{reply}");
    }
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "browser", "scopes": ["client"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let client = body["key"].as_str().unwrap().to_owned();
    let (status, _, reply) = ofrep(&app, Some(&client), Some("dark-mode"), "nope", &[]).await;
    assert_eq!((status, code(&reply)), (403, "forbidden"), "{reply}");
    // X-API-Key works like Bearer.
    let reply = app
        .client
        .post(format!("{}/ofrep/v1/evaluate/flags/dark-mode", app.address))
        .header("X-API-Key", &key)
        .json(&json!({"context": {"targetingKey": "u1", "plan": "pro"}}))
        .send()
        .await
        .unwrap();
    let (status, reply) = read(reply).await;
    assert_eq!((status, &reply["value"]), (200, &json!(true)), "{reply}");
}

#[tokio::test]
async fn answered_evaluations_are_counted_and_refusals_errors_and_304s_are_not() {
    let app = spawn_app().await;
    seed(&app).await;
    let key = app.a.eval.clone();
    let a = app.a.id;
    let before = app.usage.unflushed(a, Period::now());
    let ctx = r#"{"context": {"targetingKey": "u1"}}"#;
    assert_eq!(
        ofrep(&app, Some(&key), Some("dark-mode"), ctx, &[]).await.0,
        200
    );
    assert_eq!(ofrep(&app, Some(&key), Some("nope"), ctx, &[]).await.0, 404);
    assert_eq!(
        ofrep(&app, Some(&key), Some("dark-mode"), "{", &[]).await.0,
        400
    );
    assert_eq!(ofrep(&app, None, Some("dark-mode"), ctx, &[]).await.0, 401);
    let (status, headers, _) = ofrep(&app, Some(&key), None, ctx, &[]).await;
    assert_eq!(status, 200);
    let tag = etag(&headers);
    assert_eq!(
        ofrep(&app, Some(&key), None, ctx, &[("If-None-Match", &tag)])
            .await
            .0,
        304
    );
    assert_eq!(
        app.usage.unflushed(a, Period::now()) - before,
        1 + 7,
        "one single evaluation and one bulk of seven flags"
    );
}

#[tokio::test]
async fn tenant_b_never_sees_tenant_a_flags_through_ofrep() {
    let app = spawn_app().await;
    seed(&app).await;
    let ctx = r#"{"context": {"targetingKey": "u1", "plan": "pro"}}"#;
    // B's evaluation key: A's flags do not exist for it.
    for flag in ["dark-mode", "greeting", "settings"] {
        let (status, _, reply) = ofrep(&app, Some(&app.b.eval), Some(flag), ctx, &[]).await;
        assert_eq!(
            (status, &reply["errorCode"]),
            (404, &json!("FLAG_NOT_FOUND")),
            "{reply}"
        );
    }
    let (status, _, reply) = ofrep(&app, Some(&app.b.eval), None, ctx, &[]).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["flags"], json!([]), "B has no flags: {reply}");
    // B's own flag with one of A's keys answers B's configuration, and A still gets A's.
    flag_of(
        &app,
        &app.b.admin,
        "dark-mode",
        &[("off", json!({})), ("on", json!({}))],
        &[everyone(&[100, 0])],
    )
    .await;
    let (status, headers_b, reply) = ofrep(&app, Some(&app.b.eval), None, ctx, &[]).await;
    assert_eq!(status, 200, "{reply}");
    let flags = reply["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{reply}");
    assert_eq!(
        (&flags[0]["value"], &flags[0]["reason"]),
        (&json!(false), &json!("STATIC"))
    );
    let (_, _, reply) = ofrep(&app, Some(&app.a.eval), Some("dark-mode"), ctx, &[]).await;
    assert_eq!(
        (&reply["value"], &reply["reason"]),
        (&json!(true), &json!("TARGETING_MATCH"))
    );
    // A's tag never validates B's answer, even for the same context.
    let (_, headers_a, _) = ofrep(&app, Some(&app.a.eval), None, ctx, &[]).await;
    assert_ne!(etag(&headers_a), etag(&headers_b));
    let (status, _, _) = ofrep(
        &app,
        Some(&app.b.eval),
        None,
        ctx,
        &[("If-None-Match", &etag(&headers_a))],
    )
    .await;
    assert_eq!(status, 200);
}
