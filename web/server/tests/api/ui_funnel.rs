//! The admin UI's funnel page over HTTP: exposures and events sent through the ingestion API and
//! rolled up, then the page's form, chart (bar heights and whiskers from the API's own figures),
//! table and completion lines; refusals shown at the field the API names with a 200; who may see it;
//! and the experiments page's link to it.

use crate::helpers::{TestApp, read, spawn_app};
use crate::ui::{experiment_flag, html, tenant_a_key, tenant_b_flag};
use reqwest::Method;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

/// Sends `body` to the ingestion route `path` with tenant A's production evaluation key; asserts
/// that all `expected` items were accepted.
async fn ingest(app: &TestApp, path: &str, body: Value, expected: usize) {
    let req = app.request(Method::POST, path, &app.a.eval).json(&body);
    let (status, answer) = read(req.send().await.expect("request")).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], expected, "{answer}");
}

/// A flag `onboarding` whose 100 control and 100 treatment entities were exposed 10 hours ago and
/// then visited, signed up and bought: control 60, 30, 10; treatment 80, 50, 30, of whom 5 bought
/// 5 hours after their visit. Also a count metric `pages`, which no funnel may take.
async fn onboarding(app: &TestApp) -> i64 {
    for key in ["visit", "signup", "purchase"] {
        let metric = json!({"key": key, "name": format!("Did {key}"), "kind": "conversion", "event": key, "windowHours": 72});
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
    let flag = experiment_flag(app, "onboarding").await;
    let exposed_at = chrono::Utc::now().timestamp_millis() - 10 * HOUR;
    let exposures: Vec<Value> = (0..100)
        .flat_map(|i| {
            [("control", "c"), ("treatment", "t")].map(|(v, p)| {
                json!({"flagKey": "onboarding", "variantKey": v, "entityID": format!("{p}-{i}"), "timestamp": exposed_at})
            })
        })
        .collect();
    ingest(
        app,
        "/api/v1/exposures",
        json!({"exposures": exposures}),
        200,
    )
    .await;
    let mut events = Vec::new();
    let mut did = |key: &str, prefix: &str, count: usize, hours: i64| {
        for i in 0..count {
            let at = exposed_at + hours * HOUR;
            events.push(json!({"key": key, "entityID": format!("{prefix}-{i}"), "timestamp": at}));
        }
    };
    did("visit", "c", 60, 1);
    did("signup", "c", 30, 2);
    did("purchase", "c", 10, 3);
    did("visit", "t", 80, 1);
    did("signup", "t", 50, 2);
    did("purchase", "t", 25, 3);
    let late: Vec<Value> = (25..30)
        .map(|i| json!({"key": "purchase", "entityID": format!("t-{i}"), "timestamp": exposed_at + 6 * HOUR}))
        .collect();
    events.extend(late);
    let n = events.len();
    ingest(app, "/api/v1/events", json!({"events": events}), n).await;
    app.settle().await;
    flag
}

/// The text of the first element after `marker` in the row of `variant` in the step `step`.
fn cell(body: &str, step: &str, variant: &str, marker: &str) -> String {
    let group = body
        .split(&format!("<tbody data-step=\"{step}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no rows of {step}"));
    let row = group
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

/// A share as the page writes it (`25.0%`; two decimals under 1%).
fn percent(value: f64) -> String {
    let p = value * 100.0;
    if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Where the chart draws share `v` on its 0–100% scale (from 232 at 0 to 24 at 100%).
fn y(v: f64) -> f64 {
    ((232.0 - 208.0 * v) * 10.0).round() / 10.0
}

/// The opening of the bar group of `variant` at `step`, and what follows it up to its end.
fn bar<'a>(body: &'a str, class: &str, variant: &str, step: &str) -> &'a str {
    let open =
        format!(r#"<g class="funnel-bar {class}" data-variant="{variant}" data-step="{step}">"#);
    let start = body.find(&open).unwrap_or_else(|| panic!("no bar {open}"));
    let rest = &body[start..];
    &rest[..rest.find("</g>").expect("the group's end")]
}

#[tokio::test]
async fn the_funnel_page_draws_each_variants_steps_from_the_apis_figures() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = onboarding(&app).await;
    let owner = app.owner_session().await;
    let base = format!("/ui/t/{tenant}/flags/{flag}/funnel?env=production");

    // First visit: the form with the conversion metrics only, and no funnel yet.
    let (status, body) = html(&app, &owner, &base).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<h1>Funnel: <span class=\"flag-key\">onboarding</span></h1>"));
    assert!(
        body.contains(r#"<label for="funnel-step-3">Step 3</label>"#),
        "{body}"
    );
    assert!(body.contains(r#"<option value="signup">Did signup (signup)</option>"#));
    assert!(
        !body.contains(r#"<option value="pages""#),
        "a count metric is no step"
    );
    assert!(!body.contains(r#"<svg class="funnel""#));

    let page = format!("{base}&step=visit&step=signup&step=purchase&windowHours=4");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#"<option value="purchase" selected>"#),
        "{body}"
    );
    assert!(body.contains(r#"value="4""#));
    let path = format!("/api/v1/flags/{flag}/funnel?steps=visit,signup,purchase&windowHours=4");
    let (status, api) = app
        .call(&app.a.admin, Some("production"), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{api}");
    let steps = ["visit", "signup", "purchase"];
    for (v, (variant, counts)) in [("control", [60, 30, 10]), ("treatment", [80, 50, 25])]
        .into_iter()
        .enumerate()
    {
        let figures = &api["variants"][v];
        assert_eq!(figures["variant"], variant);
        for (s, step) in steps.into_iter().enumerate() {
            let f = &figures["steps"][s];
            let number = |name: &str| f[name].as_f64().expect(name);
            let ci = |name: &str| {
                let [lo, hi] = [0, 1].map(|i| f[name][i].as_f64().expect(name));
                format!("{} to {}", percent(lo), percent(hi))
            };
            let at = |marker| cell(&body, step, variant, marker);
            assert_eq!(at("class=\"figure entities\">"), counts[s].to_string());
            assert_eq!(at("class=\"rate-figure\">"), percent(number("rate")));
            assert_eq!(at("class=\"overall-figure\">"), percent(number("overall")));
            let intervals = at_both(&body, step, variant);
            assert_eq!(intervals, (ci("rateCi95"), ci("overallCi95")));
            // The bar is as tall as the overall share, its whisker the interval, its label the rate.
            let g = bar(&body, &format!("series-{v}"), variant, step);
            let overall = number("overall");
            let top = y(overall);
            assert!(
                g.contains(&format!(
                    r#"y="{top}" width="56" height="{}""#,
                    ((232.0 - top) * 10.0).round() / 10.0
                )),
                "{g}"
            );
            let [lo, hi] = [0, 1].map(|i| f["overallCi95"][i].as_f64().unwrap());
            assert!(
                g.contains(&format!(r#"y1="{}""#, y(hi)))
                    && g.contains(&format!(r#"y2="{}""#, y(lo))),
                "{g}"
            );
            assert!(
                g.contains(&format!(">{}</text>", percent(number("rate")))),
                "{g}"
            );
        }
    }
    // The late buyers do not count within 4 hours; the completion line is the API's z test.
    assert_eq!(
        cell(&body, "purchase", "treatment", "class=\"rate-figure\">"),
        "50.0%"
    );
    assert!(body.contains(r#"<span class="completion-rate">25.0%</span> against <span class="control-rate">10.0%</span> for control:"#), "{body}");
    assert!(body.contains(r#"difference <span class="abs-diff">+15.0%</span> (95% interval <span class="diff-ci">+4.7% to +25.3%</span>), <span class="p-value">p = 0.0052</span>."#), "{body}");
    assert!(body.contains("within 4 hours of the first step"));

    // The API's own list works too, with the default window of 7 days.
    let (_, wide) = html(&app, &owner, &format!("{base}&steps=visit,signup,purchase")).await;
    assert_eq!(
        cell(&wide, "purchase", "treatment", "class=\"figure entities\">"),
        "30"
    );
    assert!(wide.contains("within 7 days of the first step"));
}

/// The rate's and the overall share's interval texts of `variant` at `step`.
fn at_both(body: &str, step: &str, variant: &str) -> (String, String) {
    let row = body
        .split(&format!("<tbody data-step=\"{step}\">"))
        .nth(1)
        .and_then(|g| g.split(&format!("<tr data-variant=\"{variant}\">")).nth(1))
        .expect("the row");
    let row = &row[..row.find("</tr>").expect("the row's end")];
    let intervals: Vec<String> = row
        .split("<span class=\"ci\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_owned())
        .collect();
    (intervals[0].clone(), intervals[1].clone())
}

#[tokio::test]
async fn a_refused_funnel_shows_the_apis_message_at_its_field() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = onboarding(&app).await;
    let owner = app.owner_session().await;
    let base = format!("/ui/t/{tenant}/flags/{flag}/funnel?env=production");
    for (query, field, message) in [
        (
            "step=visit&step=&windowHours=",
            "steps",
            "a funnel has 2 to 10 steps (metric keys separated by commas), not 1",
        ),
        (
            "step=visit&step=visit",
            "steps",
            "the step &#34;visit&#34; is named twice",
        ),
        (
            "step=visit&step=pages",
            "steps",
            "the step &#34;pages&#34; is not a conversion metric",
        ),
        (
            "steps=visit,nothing",
            "steps",
            "no metric &#34;nothing&#34; in this project",
        ),
        (
            "step=visit&step=signup&windowHours=0",
            "window",
            "the window is 1 to 2160 hours, not 0",
        ),
        (
            "step=visit&step=signup&windowHours=abc",
            "window",
            "the window is a whole number of hours, not &#34;abc&#34;",
        ),
    ] {
        let (status, body) = html(&app, &owner, &format!("{base}&{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        let note =
            format!(r#"<span class="field-error" id="funnel-{field}-error">{message}</span>"#);
        assert!(body.contains(&note), "{query}: {body}");
        assert!(body.contains(&format!(r#"aria-describedby="funnel-{field}-error""#)));
        assert!(body.contains(&format!(
            r#"<p class="form-error" role="alert">{message}</p>"#
        )));
        assert!(!body.contains(r#"<svg class="funnel""#), "{query}");
    }
    // The chosen key that is no conversion metric stays chosen, so the refusal reads against it.
    let (_, body) = html(&app, &owner, &format!("{base}&step=visit&step=pages")).await;
    assert!(body.contains(r#"<option value="pages" selected>pages (not a conversion metric of this project)</option>"#), "{body}");
}

#[tokio::test]
async fn readers_see_the_funnel_and_other_tenants_flags_are_not_found() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = onboarding(&app).await;
    let viewer = app.member("reader@example.com", "viewer").await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/funnel?env=production&step=visit&step=signup");
    let (status, body) = html(&app, &viewer, &page).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        cell(&body, "signup", "control", "class=\"figure entities\">"),
        "30"
    );

    let b = tenant_b_flag(&app, "b-funnel", "secret of b").await;
    let owner = app.owner_session().await;
    let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/flags/{b}/funnel")).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("b-funnel"));

    let experiment = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (_, body) = html(&app, &owner, &experiment).await;
    let link = format!(r#"<a class="page-link" href="/ui/t/{tenant}/flags/{flag}/funnel?project="#);
    assert!(body.contains(&link), "{body}");
}
