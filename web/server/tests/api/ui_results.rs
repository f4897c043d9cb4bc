//! The admin UI's experiment results and metric definitions over HTTP: exposures and events sent
//! through the ingestion API and rolled up, then the experiments page's tables (rates, lift with its
//! interval bar, chance to beat, p-values, statuses), its sample-ratio warning, its empty state and
//! settings form; and the metrics page with what each role is offered.

use crate::helpers::{TestApp, expect_ok, read, spawn_app};
use crate::ui::{experiment_flag, html, tenant_a_key};
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `body` to the ingestion route `path` with tenant A's production evaluation key; asserts
/// that all `expected` items were accepted.
async fn ingest(app: &TestApp, path: &str, body: Value, expected: usize) {
    let req = app.request(Method::POST, path, &app.a.eval).json(&body);
    let (status, answer) = read(req.send().await.expect("request")).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], expected, "{answer}");
}

/// Exposes `count` entities named `{prefix}-{i}` to `variant` of flag `flag`, an hour ago.
async fn expose(app: &TestApp, flag: &str, variant: &str, prefix: &str, count: usize) {
    let at = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let exposures: Vec<Value> = (0..count)
        .map(|i| json!({"flagKey": flag, "variantKey": variant, "entityID": format!("{prefix}-{i}"), "timestamp": at}))
        .collect();
    ingest(
        app,
        "/api/v1/exposures",
        json!({"exposures": exposures}),
        count,
    )
    .await;
}

/// `{prefix}-0` … `{prefix}-{count - 1}` each send the event `key` half an hour ago.
async fn convert(app: &TestApp, key: &str, prefix: &str, count: usize) {
    let at = chrono::Utc::now().timestamp_millis() - 1_800_000;
    let events: Vec<Value> = (0..count)
        .map(|i| json!({"key": key, "entityID": format!("{prefix}-{i}"), "timestamp": at}))
        .collect();
    ingest(app, "/api/v1/events", json!({"events": events}), count).await;
}

/// A 50/50 flag of tenant A whose experiment is decided on the conversion metric `purchase`.
async fn purchase_experiment(app: &TestApp, key: &str) -> i64 {
    let flag = experiment_flag(app, key).await;
    let settings = json!({"controlVariant": "control", "primaryMetric": "purchase"});
    let path = format!("/api/v1/flags/{flag}/experiment");
    expect_ok(app.admin(Method::PUT, &path, Some(settings)).await);
    flag
}

/// `value` as the page writes a relative difference (`+20.0%`).
fn signed(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 10.0;
    if rounded < 0.0 {
        format!("\u{2212}{:.1}%", -rounded)
    } else {
        format!("+{rounded:.1}%")
    }
}

/// The text of the first element after `marker` in the row of `variant` in the table of `metric`.
fn cell(body: &str, metric: &str, variant: &str, marker: &str) -> String {
    let table = body
        .split(&format!("data-metric=\"{metric}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no table of {metric}"));
    let row = table
        .split(&format!("<tr data-variant=\"{variant}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row of {variant}"));
    let start = row.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len();
    row[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_experiments_page_shows_each_metrics_results_from_exposures_and_events() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let metric =
        json!({"key": "purchase", "name": "Purchase", "kind": "conversion", "event": "purchase"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let flag = purchase_experiment(&app, "checkout").await;
    expose(&app, "checkout", "control", "c", 200).await;
    expose(&app, "checkout", "treatment", "t", 200).await;
    // 20 of 200 control entities buy, 40 of 200 treatment entities.
    convert(&app, "purchase", "c", 20).await;
    convert(&app, "purchase", "t", 40).await;
    app.settle().await;

    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<dt>Primary metric</dt><dd>Purchase</dd>"),
        "{body}"
    );
    assert!(body.contains("<dt>Correction</dt><dd>Holm "), "{body}");
    let at = |variant, marker| cell(&body, "purchase", variant, marker);
    assert_eq!(at("control", "class=\"figure exposed\">"), "200");
    assert_eq!(at("control", "class=\"figure value\">"), "10.0%");
    assert_eq!(
        at("control", "<td colspan=\"5\" class=\"muted\">"),
        "Control"
    );
    assert_eq!(at("treatment", "class=\"figure value\">"), "20.0%");
    assert_eq!(at("treatment", "class=\"lift-figure\">"), "+100.0%");
    // statsmodels' proportions_ztest([40, 20], [200, 200]), the mSPRT's p-value for 10,000 entities
    // per variant, and the normal posterior's chance (see analytics.rs).
    assert_eq!(at("treatment", "class=\"figure p-value\">"), "0.0051");
    assert_eq!(at("treatment", "class=\"figure sequential\">"), "0.69");
    assert_eq!(at("treatment", "class=\"figure chance\">"), "97.5%");
    assert_eq!(at("treatment", "class=\"badge neutral\">"), "Inconclusive");
    // The bar is drawn from the API's own interval.
    let (_, results) = app
        .call(
            &app.a.admin,
            Some("production"),
            Method::GET,
            &format!("/api/v1/flags/{flag}/results"),
            None,
        )
        .await;
    let row = &results["metrics"][0]["variants"][1];
    let [lo, hi] = [0, 1].map(|i| row["relCi95"][i].as_f64().expect("an interval"));
    let title = format!(
        "Lift +100.0%, 95% interval {} to {}",
        signed(lo),
        signed(hi)
    );
    assert!(
        body.contains(&format!("<title>{title}")),
        "{title} in {body}"
    );
    assert!(body.contains("<svg class=\"interval neutral\""));
    // The guardrails follow, and the exposures match the split: no warning.
    assert!(
        body.contains("data-metric=\"error_rate\"") && body.contains("data-metric=\"crash_rate\"")
    );
    assert!(!body.contains("Sample ratio mismatch:"), "{body}");
    assert!(body.contains("data-api=\"/api/v1/flags/") && body.contains("name=\"primaryMetric\""));

    // A viewer sees the results without the form; development has no exposures.
    let viewer = app.member("reader@example.com", "viewer").await;
    let (status, body) = html(&app, &viewer, &page).await;
    assert_eq!(status, 200);
    assert!(body.contains("+100.0%") && !body.contains("name=\"primaryMetric\""));
    let development = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=development");
    let (_, body) = html(&app, &owner, &development).await;
    assert!(
        body.contains("No exposures of this flag in this environment yet"),
        "{body}"
    );
    assert!(body.contains("<a href=\"/api/docs\">"));
}

#[tokio::test]
async fn a_skewed_split_of_exposures_is_warned_about_above_the_results() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let metric = json!({"key": "purchase", "kind": "conversion", "event": "purchase"});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(metric))
            .await
            .0,
        201
    );
    let flag = purchase_experiment(&app, "skewed").await;
    expose(&app, "skewed", "control", "c", 300).await;
    expose(&app, "skewed", "treatment", "t", 100).await;
    app.settle().await;
    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    // χ² = 100 on one degree of freedom: p ≈ 1.5e-23.
    let warning = "the exposures per variant (control 300, treatment 100) do not match the \
                   configured split (control 50%, treatment 50%), p &#60; 0.0001; results may be biased";
    let at = body
        .find(warning)
        .unwrap_or_else(|| panic!("no warning in {body}"));
    assert!(at < body.find("data-metric=\"purchase\"").expect("the table"));
    // No conversions yet: the treatment is still collecting data.
    assert_eq!(
        cell(
            &body,
            "purchase",
            "treatment",
            "class=\"badge collecting\">"
        ),
        "Collecting data"
    );
}

#[tokio::test]
async fn the_metrics_page_lists_the_projects_metrics_and_offers_changes_to_writers_only() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let revenue = json!({"key": "revenue", "name": "Revenue", "kind": "sum", "event": "purchase",
                         "valueProperty": "amount", "winsorizeAt": 500, "windowHours": 36});
    assert_eq!(
        app.admin(Method::POST, "/api/v1/metrics", Some(revenue))
            .await
            .0,
        201
    );
    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/metrics?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("aria-current=\"page\">Metrics</a>"), "{body}");
    assert!(body.contains("<code>error_rate</code> <span class=\"tag\">Built in</span>"));
    assert!(body.contains("value from property amount; each entity capped at 500"));
    assert!(body.contains("<td>36 hours</td>"));
    assert!(body.contains("data-api=\"/api/v1/metrics\" data-method=\"POST\""));
    assert!(body.contains("data-api=\"/api/v1/metrics/revenue\" data-method=\"DELETE\""));
    assert!(!body.contains("data-api=\"/api/v1/metrics/error_rate\""));
    // A viewer reads the same list, without the forms.
    let viewer = app.member("reader@example.com", "viewer").await;
    let (status, body) = html(&app, &viewer, &page).await;
    assert_eq!(status, 200);
    assert!(body.contains("<code>revenue</code>") && !body.contains("data-api=\"/api/v1/metrics"));
}
