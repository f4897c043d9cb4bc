//! Measurement over HTTP: events and exposures checked item by item and committed before `202`,
//! metric definitions, experiment settings, and a flag's results after the rollup, checked against
//! figures computed independently (statsmodels and the mSPRT formula evaluated in Python on the same
//! counts; the numbers are quoted where they are used).

use crate::helpers::{
    SegmentSpec, TestApp, close, expect_error, expect_invalid, read, row, spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};

/// Milliseconds since the Unix epoch, now.
fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl TestApp {
    /// Sends a JSON body with tenant A's production evaluation key.
    async fn ingest(&self, path: &str, body: Value) -> (u16, Value) {
        let req = self.request(Method::POST, path, &self.a.eval).json(&body);
        read(req.send().await.expect("request")).await
    }

    /// Exposes `c-0…c-{n-1}` to `control` and `t-0…t-{n-1}` to `treatment` of flag `key` at `at`
    /// (epoch ms), all accepted.
    async fn expose_both(&self, key: &str, n: usize, at: i64) {
        let exposures: Vec<Value> = (0..n)
            .flat_map(|i| {
                [("control", format!("c-{i}")), ("treatment", format!("t-{i}"))].map(|(v, e)| {
                    json!({"flagKey": key, "variantKey": v, "entityID": e, "timestamp": at})
                })
            })
            .collect();
        let (status, answer) = self
            .ingest("/api/v1/exposures", json!({"exposures": exposures}))
            .await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (202, Some(2 * n as u64)),
            "{answer}"
        );
    }

    /// Tenant A's results of flag `id` in production.
    async fn results(&self, id: i64) -> Value {
        let path = format!("/api/v1/flags/{id}/results");
        let (status, body) = self
            .call(&self.a.admin, Some("production"), Method::GET, &path, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Tenant A's funnel of flag `id` in production, for `query`.
    async fn funnel(&self, id: i64, query: &str) -> (u16, Value) {
        let path = format!("/api/v1/flags/{id}/funnel?{query}");
        self.call(&self.a.admin, Some("production"), Method::GET, &path, None)
            .await
    }

    /// A flag in production with variants `control` and `treatment` split 50/50 for everyone.
    async fn experiment_flag(&self, key: &str) -> i64 {
        let everyone = SegmentSpec {
            constraints: &[],
            rollout: 100,
            percents: &[50, 50],
        };
        self.build_flag(
            &self.a.admin,
            "production",
            key,
            &["control", "treatment"],
            &[everyone],
        )
        .await
        .id
    }
}

#[tokio::test]
async fn events_are_checked_one_by_one_and_the_good_ones_accepted() {
    let app = spawn_app().await;
    let t = now();
    let body = json!({"events": [
        {"key": "signup", "entityID": "u1", "timestamp": t},
        {"key": "signup", "entityID": "u2", "timestamp": "2020-01-01T00:00:00Z"},
        {"key": "", "entityID": "u3", "timestamp": t},
        {"key": "purchase", "entityID": "u4", "timestamp": t, "value": 12.5, "properties": {"plan": "pro"}},
        {"key": "purchase", "entityID": "u5", "timestamp": t, "value": "12"},
        {"key": "$pageview", "entityID": "u6", "timestamp": t},
        {"key": "purchase", "entityID": "u7", "timestamp": t, "properties": "pro"},
        {"key": "purchase", "entityID": "", "timestamp": t},
        7,
        {"key": "$error", "entityID": "u8", "timestamp": t + 60_000},
        {"key": "late", "entityID": "u9", "timestamp": t + 10 * 60_000},
    ]});
    let (status, answer) = app.ingest("/api/v1/events", body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 3, "{answer}");
    let refused: Vec<(i64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_i64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        vec![
            (1, "timestamp_out_of_range"),
            (2, "invalid_key"),
            (4, "invalid_value"),
            (5, "reserved_key"),
            (6, "invalid_properties"),
            (7, "invalid_entity"),
            (8, "invalid_item"),
            (10, "timestamp_out_of_range"),
        ]
    );
}

#[tokio::test]
async fn a_request_wrong_as_a_whole_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (status, body) = app.ingest("/api/v1/events", json!({"event": []})).await;
    assert_eq!(status, 400, "{body}");
    expect_invalid(&(status, body), "events");
    let too_many: Vec<Value> = (0..1_001)
        .map(|i| json!({"key": "k", "entityID": format!("u{i}"), "timestamp": now()}))
        .collect();
    let reply = app
        .ingest("/api/v1/events", json!({"events": too_many}))
        .await;
    expect_error(&reply, 413, "payload_too_large");
    let big = "x".repeat(1 << 20);
    let reply = app
        .ingest("/api/v1/events", json!({"events": [{"key": big}]}))
        .await;
    expect_error(&reply, 413, "payload_too_large");
    let req = app
        .request(Method::POST, "/api/v1/events", &app.a.eval)
        .header("content-type", "application/json")
        .body("{not json");
    let reply = read(req.send().await.unwrap()).await;
    expect_error(&reply, 400, "invalid_json");
}

#[tokio::test]
async fn exposures_name_the_environments_flags_and_variants() {
    let app = spawn_app().await;
    app.experiment_flag("checkout").await;
    let t = now();
    let body = json!({"exposures": [
        {"flagKey": "checkout", "variantKey": "control", "entityID": "u1", "timestamp": t},
        {"flagKey": "nope", "variantKey": "control", "entityID": "u2", "timestamp": t},
        {"flagKey": "checkout", "variantKey": "blue", "entityID": "u3", "timestamp": t},
        {"flagKey": "checkout", "variantKey": "treatment", "entityID": "u1", "timestamp": t},
    ]});
    let (status, answer) = app.ingest("/api/v1/exposures", body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 2);
    let codes: Vec<&str> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["unknown_flag", "unknown_variant"]);
}

#[tokio::test]
async fn metrics_are_defined_validated_changed_and_deleted() {
    let app = spawn_app().await;
    let (status, list) = app.admin(Method::GET, "/api/v1/metrics", None).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["error_rate", "crash_rate"]);
    for (bad, field) in [
        (
            json!({"key": "Bad Key", "kind": "count", "event": "e"}),
            "key",
        ),
        (
            json!({"key": "error_rate", "kind": "count", "event": "e"}),
            "key",
        ),
        (json!({"key": "c", "kind": "count"}), "event"),
        (
            json!({"key": "q", "kind": "quantile", "event": "e"}),
            "quantile",
        ),
        (
            json!({"key": "q", "kind": "quantile", "event": "e", "quantile": 1.0}),
            "quantile",
        ),
        (
            json!({"key": "c", "kind": "count", "event": "e", "quantile": 0.5}),
            "quantile",
        ),
        (
            json!({"key": "c", "kind": "count", "event": "e", "windowHours": 0}),
            "windowHours",
        ),
        (
            json!({"key": "c", "kind": "conversion", "event": "e", "winsorizeAt": 3}),
            "winsorizeAt",
        ),
        (
            json!({"key": "r", "kind": "ratio", "numerator": "x", "denominator": "y"}),
            "numerator",
        ),
        (
            json!({"key": "c", "kind": "count", "event": "e", "valueProperty": "v"}),
            "valueProperty",
        ),
    ] {
        let reply = app
            .admin(Method::POST, "/api/v1/metrics", Some(bad.clone()))
            .await;
        expect_invalid(&reply, field);
    }
    let reply = app
        .admin(
            Method::POST,
            "/api/v1/metrics",
            Some(json!({"key": "k", "kind": "median", "event": "e"})),
        )
        .await;
    expect_error(&reply, 400, "invalid_json");
    let revenue = json!({"key": "revenue", "name": "Revenue", "kind": "sum", "event": "purchase",
                         "valueProperty": "amount", "winsorizeAt": 500});
    let (status, created) = app
        .admin(Method::POST, "/api/v1/metrics", Some(revenue.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["valueProperty"], "amount");
    assert_eq!(created["windowHours"], 168);
    assert_eq!(created["direction"], "increase");
    let reply = app
        .admin(Method::POST, "/api/v1/metrics", Some(revenue))
        .await;
    expect_error(&reply, 409, "metric_key_taken");
    let visits = json!({"key": "visits", "kind": "count", "event": "visit"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(visits))
            .await
            .0,
        201
    );
    let per_visit = json!({"key": "revenue-per-visit", "kind": "ratio", "numerator": "revenue",
                           "denominator": "visits"});
    let (status, ratio) = app
        .admin(Method::POST, "/api/v1/metrics", Some(per_visit))
        .await;
    assert_eq!(status, 201, "{ratio}");
    assert_eq!(
        (ratio["numerator"].as_str(), ratio["denominator"].as_str()),
        (Some("revenue"), Some("visits"))
    );
    let change = json!({"name": "Revenue (USD)", "direction": "decrease", "guardrail": true});
    let (status, changed) = app
        .admin(Method::PUT, "/api/v1/metrics/revenue", Some(change))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["guardrail"].as_bool()),
        (Some("Revenue (USD)"), Some(true))
    );
    let reply = app
        .admin(
            Method::PUT,
            "/api/v1/metrics/revenue",
            Some(json!({"event": "other"})),
        )
        .await;
    expect_error(&reply, 400, "invalid_json");
    let reply = app
        .admin(Method::DELETE, "/api/v1/metrics/revenue", None)
        .await;
    expect_error(&reply, 409, "metric_in_use");
    assert_eq!(
        app.admin(Method::DELETE, "/api/v1/metrics/revenue-per-visit", None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.admin(Method::DELETE, "/api/v1/metrics/revenue", None)
            .await
            .0,
        204
    );
    let reply = app
        .admin(Method::GET, "/api/v1/metrics/revenue", None)
        .await;
    expect_error(&reply, 404, "metric_not_found");
    let reply = app
        .admin(Method::DELETE, "/api/v1/metrics/error_rate", None)
        .await;
    expect_invalid(&reply, "key");
    let (_, audit) = app
        .admin(Method::GET, "/api/v1/audit?action=metric.deleted", None)
        .await;
    assert!(audit.to_string().contains("metric.deleted"), "{audit}");
}

#[tokio::test]
async fn a_conversion_experiment_reads_its_rates_differences_and_tests() {
    let app = spawn_app().await;
    let id = app.experiment_flag("checkout").await;
    let metric = json!({"key": "purchase", "kind": "conversion", "event": "purchase"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let settings = json!({"controlVariant": "control", "primaryMetric": "purchase"});
    let path = format!("/api/v1/flags/{id}/experiment");
    let (status, experiment) = app.admin(Method::PUT, &path, Some(settings)).await;
    assert_eq!(status, 200, "{experiment}");
    assert_eq!(experiment["primaryMetric"], "purchase");
    let t = now();
    app.expose_both("checkout", 200, t - 3_600_000).await;
    // 20 of 200 control entities buy, 40 of 200 treatment entities (each twice: a conversion counts once).
    let buys: Vec<Value> = (0..20)
        .map(|i| format!("c-{i}"))
        .chain((0..40).map(|i| format!("t-{i}")))
        .flat_map(|e| {
            [0, 1]
                .map(|k| json!({"key": "purchase", "entityID": e, "timestamp": t - 1_800_000 + k}))
        })
        .collect();
    let (status, answer) = app.ingest("/api/v1/events", json!({"events": buys})).await;
    assert_eq!(
        (status, answer["accepted"].as_i64()),
        (202, Some(120)),
        "{answer}"
    );
    app.settle().await;
    let results = app.results(id).await;
    assert_eq!(results["control"], "control");
    assert_eq!(results["correction"], "holm");
    assert_eq!(results["statusBasis"], "sequential");
    let control = row(&results, "purchase", "control");
    assert_eq!(
        (control["exposed"].as_i64(), control["control"].as_bool()),
        (Some(200), Some(true))
    );
    close(&control["value"], 0.1, 1e-12);
    let treatment = row(&results, "purchase", "treatment");
    assert_eq!(treatment["exposed"], 200);
    close(&treatment["value"], 0.2, 1e-12);
    close(&treatment["absDiff"], 0.1, 1e-12);
    close(&treatment["relDiff"], 1.0, 1e-12);
    // statsmodels: proportions_ztest([40, 20], [200, 200]) and
    // confint_proportions_2indep(40, 200, 20, 200, compare="diff", method="wald").
    close(&treatment["pValue"], 0.005_101_399_646_004_982_5, 1e-9);
    close(&treatment["ci95"][0], 0.030_704_808_782_516_08, 1e-9);
    close(&treatment["ci95"][1], 0.169_295_191_217_483_93, 1e-9);
    // The mSPRT p-value with τ² tuned for 10,000 entities per variant (σ² = 0.09): 0.69273600614...
    close(
        &treatment["sequential"]["pValue"],
        0.692_736_006_145_185_7,
        1e-9,
    );
    assert_eq!(treatment["status"], "inconclusive", "{treatment}");
    assert_eq!(treatment["cuped"], false);
    // The relative difference's normal posterior (mean 1, variance 0.16/200/0.01 + 0.04·0.09/200/0.0001):
    // scipy's norm.cdf(1/σ), and E[max(0, −D)] by scipy.integrate.quad.
    close(&treatment["chanceToBeat"], 0.975_069_898_121_546_5, 1e-9);
    close(&treatment["expectedLoss"], 0.004_801_276_487_053_942, 1e-9);
    // Exposures follow the configured 50/50 split exactly.
    close(&results["srm"]["pValue"], 1.0, 1e-12);
    assert_eq!(results["srm"]["observed"]["treatment"], 200);
    let roles: Vec<(&str, &str)> = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["metric"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("purchase", "primary"),
            ("error_rate", "guardrail"),
            ("crash_rate", "guardrail")
        ]
    );
    assert_eq!(
        row(&results, "error_rate", "treatment")["status"],
        "collecting"
    );
}

#[tokio::test]
async fn the_rollup_counts_each_pair_once_whatever_arrives_first() {
    let app = spawn_app().await;
    let id = app.experiment_flag("late").await;
    let metric = json!({"key": "clicks", "kind": "count", "event": "click"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let path = format!("/api/v1/flags/{id}/experiment");
    let settings = Some(json!({"secondaryMetrics": ["clicks"]}));
    assert_eq!(app.admin(Method::PUT, &path, settings).await.0, 200);
    let t = now();
    let click = |e: &str, at: i64| json!({"key": "click", "entityID": e, "timestamp": at});
    let expose = |e: &str, v: &str, at: i64| json!({"flagKey": "late", "variantKey": v, "entityID": e, "timestamp": at});
    // u1's click arrives before its exposure and is rolled up first; u2's the other way round; u3's
    // click is before its exposure (not counted after it); u4's is past the 168-hour window.
    app.ingest(
        "/api/v1/events",
        json!({"events": [click("u1", t - 1_000)]}),
    )
    .await;
    app.settle().await;
    app.ingest(
        "/api/v1/exposures",
        json!({"exposures": [
            expose("u1", "control", t - 2_000), expose("u2", "control", t - 2_000),
            expose("u3", "control", t - 2_000), expose("u4", "treatment", t - 6 * 86_400_000),
        ]}),
    )
    .await;
    app.settle().await;
    app.ingest(
        "/api/v1/events",
        json!({"events": [
            click("u2", t - 1_500), click("u2", t - 1_400), click("u3", t - 3_000), click("u4", t),
            // The same exposure again changes nothing.
        ]}),
    )
    .await;
    app.ingest(
        "/api/v1/exposures",
        json!({"exposures": [expose("u1", "treatment", t)]}),
    )
    .await;
    app.settle().await;
    let results = app.results(id).await;
    let control = row(&results, "clicks", "control");
    assert_eq!(control["exposed"], 3, "{results}");
    // u1: 1 click, u2: 2 clicks, u3: 0 after exposure: a mean of 1 per exposed entity.
    close(&control["value"], 1.0, 1e-12);
    close(&control["stddev"], 1.0, 1e-12);
    let treatment = row(&results, "clicks", "treatment");
    assert_eq!(treatment["exposed"], 1);
    // u4's click is 6 days after its exposure: inside the 7-day window.
    close(&treatment["value"], 1.0, 1e-12);
    assert_eq!(treatment["status"], "collecting");
}

#[tokio::test]
async fn server_side_evaluations_are_recorded_as_first_exposures() {
    // A fresh tenant's first flush also makes its entity salt: on SQLite's single connection this
    // must not wait on the flush's own transaction.
    let app = spawn_app().await;
    let id = app.experiment_flag("served").await;
    let mut served = std::collections::BTreeMap::<String, i64>::new();
    for round in 0..2 {
        for i in 0..60 {
            let body = json!({"flagID": id, "entityID": format!("user-{i}"), "entityContext": {}});
            let (status, answer) = app.ingest("/api/v1/evaluation", body).await;
            assert_eq!(status, 200, "{answer}");
            let variant = answer["variantKey"].as_str().expect("a variant").to_owned();
            if round == 0 {
                *served.entry(variant).or_default() += 1;
            }
        }
    }
    app.settle().await;
    let results = app.results(id).await;
    for variant in ["control", "treatment"] {
        assert_eq!(
            row(&results, "error_rate", variant)["exposed"].as_i64(),
            Some(served.get(variant).copied().unwrap_or(0)),
            "{variant}: {results}"
        );
    }
}

#[tokio::test]
async fn a_funnel_counts_the_steps_done_in_order_within_its_window() {
    let app = spawn_app().await;
    let id = app.experiment_flag("onboarding").await;
    for key in ["visit", "signup", "purchase"] {
        let metric = json!({"key": key, "kind": "conversion", "event": key, "windowHours": 72});
        let (status, body) = app
            .admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let count = json!({"key": "pages", "kind": "count", "event": "visit"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(count))
            .await
            .0,
        201
    );
    const H: i64 = 3_600_000;
    let exposed_at = now() - 10 * H;
    app.expose_both("onboarding", 100, exposed_at).await;
    let mut events = Vec::new();
    let mut did = |key: &str, entity: String, hours: f64| {
        let at = exposed_at + (hours * H as f64) as i64;
        events.push(json!({"key": key, "entityID": entity, "timestamp": at}));
    };
    // Control: 60 visit, 30 of them sign up, 10 of those buy. Ten more sign up without visiting,
    // and c-10 buys before signing up: neither counts past the step they missed.
    for i in 0..60 {
        did("visit", format!("c-{i}"), 1.0);
    }
    for i in (0..30).chain(60..70) {
        did("signup", format!("c-{i}"), 2.0);
    }
    for i in 0..10 {
        did("purchase", format!("c-{i}"), 3.0);
    }
    did("purchase", "c-10".to_owned(), 1.5);
    // Treatment: 80 visit, 50 sign up, 30 buy, of whom 5 only after the 4-hour window from their visit.
    for i in 0..80 {
        did("visit", format!("t-{i}"), 1.0);
    }
    for i in 0..50 {
        did("signup", format!("t-{i}"), 2.0);
    }
    for i in 0..30 {
        did("purchase", format!("t-{i}"), if i < 25 { 3.0 } else { 6.0 });
    }
    let (status, answer) = app
        .ingest("/api/v1/events", json!({"events": events}))
        .await;
    assert_eq!(status, 202, "{answer}");
    app.settle().await;

    let (status, funnel) = app
        .funnel(id, "steps=visit,signup,purchase&windowHours=4")
        .await;
    assert_eq!(status, 200, "{funnel}");
    assert_eq!(funnel["steps"], json!(["visit", "signup", "purchase"]));
    assert_eq!(
        (funnel["windowHours"].as_i64(), funnel["control"].as_str()),
        (Some(4), Some("control"))
    );
    let variants = funnel["variants"].as_array().unwrap();
    let counts = |v: &Value| -> Vec<i64> {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["entities"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(variants[0]["variant"], "control");
    assert_eq!(variants[0]["exposed"], 100);
    assert_eq!(counts(&variants[0]), vec![60, 30, 10]);
    assert_eq!(variants[1]["variant"], "treatment");
    assert_eq!(counts(&variants[1]), vec![80, 50, 25]);
    let last = &variants[1]["steps"][2];
    close(&last["rate"], 0.5, 1e-12);
    close(&last["overall"], 0.25, 1e-12);
    // statsmodels proportion_confint(25, 50, method="wilson") and (25, 100, …); control's last step
    // proportion_confint(10, 30, method="wilson").
    close(&last["rateCi95"][0], 0.366_445_143_168_285_8, 1e-9);
    close(&last["rateCi95"][1], 0.633_554_856_831_714_2, 1e-9);
    close(&last["overallCi95"][0], 0.175_452_113_622_876_77, 1e-9);
    close(&last["overallCi95"][1], 0.343_044_635_480_616_1, 1e-9);
    close(
        &variants[0]["steps"][2]["rateCi95"][0],
        0.192_304_980_836_761_29,
        1e-9,
    );
    close(
        &variants[0]["steps"][2]["rateCi95"][1],
        0.512_199_483_554_561_6,
        1e-9,
    );
    // statsmodels proportions_ztest([25, 10], [100, 100]) and
    // confint_proportions_2indep(25, 100, 10, 100, compare="diff", method="wald").
    let completion = &variants[1]["completion"];
    close(&completion["absDiff"], 0.15, 1e-12);
    close(&completion["pValue"], 0.005_247_203_739_115_64, 1e-9);
    close(&completion["ci95"][0], 0.046_752_490_454_121_83, 1e-9);
    close(&completion["ci95"][1], 0.253_247_509_545_878_16, 1e-9);
    assert!(variants[0]["completion"].is_null());
    // With the default window of 7 days the late buyers count.
    let (_, wide) = app.funnel(id, "steps=visit,signup,purchase").await;
    assert_eq!(counts(&wide["variants"][1]), vec![80, 50, 30]);

    // Bad queries are refused with the field named.
    for (query, field) in [
        ("", "steps"),
        ("steps=visit", "steps"),
        ("steps=visit,visit", "steps"),
        ("steps=visit,nothing", "steps"),
        ("steps=visit,pages", "steps"),
        ("steps=visit,signup&windowHours=0", "windowHours"),
        ("steps=visit,signup&windowHours=9999", "windowHours"),
    ] {
        let (status, body) = app.funnel(id, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(
            body["error"]["code"], "validation_failed",
            "{query}: {body}"
        );
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (status, _) = app
        .admin(
            Method::GET,
            "/api/v1/flags/99999/funnel?steps=visit,signup",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

/// Rows of `table` of tenant `tenant`.
async fn raw_rows(app: &TestApp, table: &str, tenant: flagent_types::TenantId) -> i64 {
    let sql = format!(
        "SELECT count(*) AS n FROM {table} WHERE tenant_id = {}",
        tenant.0
    );
    flagent_storage::admin::query_count(&app.db_url, &sql)
        .await
        .expect("count")
}

#[tokio::test]
async fn raw_rows_are_kept_for_their_plans_retention_and_results_outlive_them() {
    let app = spawn_app().await;
    for (tenant, plan) in [(app.a.id, "free"), (app.b.id, "pro")] {
        let sql = format!("UPDATE tenants SET plan = '{plan}' WHERE id = {}", tenant.0);
        flagent_storage::admin::execute(&app.db_url, &sql)
            .await
            .expect("plan");
    }
    let id = app.experiment_flag("kept").await;
    let metric = json!({"key": "buy", "kind": "conversion", "event": "buy"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let t = now();
    app.expose_both("kept", 150, t - 7_200_000).await;
    let buys: Vec<Value> = (0..30)
        .map(|i| format!("c-{i}"))
        .chain((0..60).map(|i| format!("t-{i}")))
        .map(|e| json!({"key": "buy", "entityID": e, "timestamp": t - 3_600_000}))
        .collect();
    let (status, _) = app.ingest("/api/v1/events", json!({"events": buys})).await;
    assert_eq!(status, 202);
    let crash = json!({"crashes": [{
        "platform": "ios", "appVersion": "1.0", "errorType": "Fault", "message": "boom",
        "entityID": "c-1", "timestamp": t - 3_600_000,
        "frames": [{"function": "pay", "file": "Pay.swift", "line": 3}]
    }]});
    let (status, answer) = app.ingest("/api/v1/crashes", crash).await;
    assert_eq!(status, 202, "{answer}");
    // Tenant B's own events, kept by the pro plan for 90 days.
    let theirs: Vec<Value> = (0..40)
        .map(|i| json!({"key": "visit", "entityID": format!("b-{i}"), "timestamp": t - 3_600_000}))
        .collect();
    let req = app
        .request(Method::POST, "/api/v1/events", &app.b.eval)
        .json(&json!({"events": theirs}));
    assert_eq!(read(req.send().await.expect("request")).await.0, 202);
    app.settle().await;
    let before = app.results(id).await;
    // A's 90 buys and 1 crash (which is also a $crash event).
    assert_eq!(raw_rows(&app, "events", app.a.id).await, 91);

    #[allow(clippy::disallowed_methods)]
    let system = flagent_types::SystemScope::assume_system("tests");
    const DAY: i64 = 86_400_000;
    let limits = flagent_analytics::RetentionLimits {
        batch: 7,
        batches: 1_000,
    };
    let postgres = app.db_url.starts_with("postgres");
    let expire = |at: i64| {
        let (analytics, system) = (app.analytics.clone(), &system);
        async move { analytics.expire(system, at, limits).await.expect("expire") }
    };
    // Nothing is due yet; on PostgreSQL the day partitions ingestion needs are made.
    let now_run = expire(t).await;
    assert_eq!(
        (now_run.events, now_run.crashes, now_run.partitions_dropped),
        (0, 0, 0)
    );
    assert_eq!(now_run.partitions_added > 0, postgres, "{now_run:?}");
    assert_eq!(raw_rows(&app, "events", app.a.id).await, 91);

    // 60 days on, A's rows are past the free plan's 30 days and go in batches of 7; B's stay.
    let later = expire(t + 60 * DAY).await;
    assert_eq!(
        (later.events, later.crashes, later.partitions_dropped),
        (91, 1, 0),
        "{later:?}"
    );
    assert_eq!(raw_rows(&app, "events", app.a.id).await, 0);
    assert_eq!(raw_rows(&app, "crashes", app.a.id).await, 0);
    assert_eq!(raw_rows(&app, "events", app.b.id).await, 40);
    // The results read the rollup's sums, which are kept.
    assert_eq!(app.results(id).await, before);

    // 500 days on every plan has given them up: on PostgreSQL the day's partitions are dropped with
    // B's rows in them, elsewhere the rows are deleted.
    let much_later = expire(t + 500 * DAY).await;
    if postgres {
        assert!(much_later.partitions_dropped >= 2, "{much_later:?}");
        assert_eq!(much_later.events, 0, "{much_later:?}");
    } else {
        assert_eq!((much_later.events, much_later.partitions_dropped), (40, 0));
    }
    assert_eq!(raw_rows(&app, "events", app.b.id).await, 0);
    // Ingestion goes on into the partitions made for the days it accepts.
    let again = json!({"events": [{"key": "buy", "entityID": "c-9", "timestamp": now()}]});
    assert_eq!(app.ingest("/api/v1/events", again).await.0, 202);
    assert_eq!(raw_rows(&app, "events", app.a.id).await, 1);
}

#[tokio::test]
async fn a_project_may_refuse_event_keys_no_metric_reads() {
    let app = spawn_app().await;
    let (status, settings) = app
        .admin(Method::GET, "/api/v1/events/settings", None)
        .await;
    assert_eq!((status, settings), (200, json!({"acceptNewEvents": true})));
    let metric = json!({"key": "buy", "kind": "conversion", "event": "buy"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let t = now();
    let batch = json!({"events": [
        {"key": "buy", "entityID": "u1", "timestamp": t},
        {"key": "browse", "entityID": "u1", "timestamp": t},
    ]});
    let (_, answer) = app.ingest("/api/v1/events", batch.clone()).await;
    assert_eq!(answer["accepted"], 2, "{answer}");

    // Bad bodies and keys without the permission change nothing.
    for body in [
        json!({"acceptNewEvents": "no"}),
        json!({}),
        json!({"acceptNewEvents": false, "x": 1}),
    ] {
        let (status, answer) = app
            .admin(Method::PUT, "/api/v1/events/settings", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let off = json!({"acceptNewEvents": false});
    let (status, _) = app
        .call(
            &app.a.read,
            None,
            Method::PUT,
            "/api/v1/events/settings",
            Some(off.clone()),
        )
        .await;
    assert_eq!(status, 403);
    let (_, settings) = app
        .admin(Method::GET, "/api/v1/events/settings", None)
        .await;
    assert_eq!(settings["acceptNewEvents"], true);

    let (status, settings) = app
        .admin(Method::PUT, "/api/v1/events/settings", Some(off))
        .await;
    assert_eq!(
        (status, settings["acceptNewEvents"].as_bool()),
        (200, Some(false))
    );
    let (status, answer) = app.ingest("/api/v1/events", batch).await;
    assert_eq!(
        (status, answer["accepted"].as_i64()),
        (202, Some(1)),
        "{answer}"
    );
    assert_eq!(answer["rejected"][0]["index"], 1);
    assert_eq!(answer["rejected"][0]["code"], "unknown_event");
    // The built-in error event is always accepted.
    let error = json!({"events": [{"key": "$error", "entityID": "u1", "timestamp": t}]});
    assert_eq!(app.ingest("/api/v1/events", error).await.1["accepted"], 1);
    let (_, audit) = app
        .admin(
            Method::GET,
            "/api/v1/audit?action=event_settings.updated",
            None,
        )
        .await;
    assert_eq!(audit["events"].as_array().map(Vec::len), Some(1), "{audit}");
}
