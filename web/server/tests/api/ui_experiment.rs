//! The admin UI's experiments view: the evaluations each variant served (through the evaluation API
//! and OFREP, written or not yet written) against the configured split, and another tenant's flag.

use crate::helpers::{TestApp, expect_ok, read, spawn_app};
use crate::ui::{experiment_flag, html, tenant_a_key, tenant_b_flag};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;

/// Evaluates `flag` for `entities` with tenant A's production evaluation key; returns the variants
/// served and how often.
async fn evaluate_many(
    app: &TestApp,
    flag: i64,
    entities: std::ops::Range<u32>,
) -> BTreeMap<String, u64> {
    let mut tally = BTreeMap::new();
    for n in entities {
        let (status, answer) = app
            .evaluate(json!({"flagID": flag, "entityID": format!("user-{n}")}))
            .await;
        assert_eq!(status, 200, "{answer}");
        let variant = answer["variantKey"].as_str().expect("a variant").to_owned();
        *tally.entry(variant).or_insert(0) += 1;
    }
    tally
}

/// A 50/50 experiment flag of tenant A, on in production; returns its id.
async fn experiment_on_in_production(app: &TestApp, key: &str) -> i64 {
    let flag = experiment_flag(app, key).await;
    app.enable_in("production", flag).await;
    flag
}

/// The served figure of `variant` in the page's split table.
fn served(body: &str, variant: &str) -> Option<String> {
    let marker = format!("{variant}</span></th><td class=\"figure\">");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split('<').next()?.to_owned())
}

#[tokio::test]
async fn the_experiments_view_shows_what_each_variant_served_against_the_configured_split() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = experiment_on_in_production(&app, "checkout-test").await;
    // Half written to the database, half still in memory: the page adds both.
    let mut tally = evaluate_many(&app, flag, 0..150).await;
    app.usage.flush().await.expect("flush");
    for (variant, n) in evaluate_many(&app, flag, 150..300).await {
        *tally.entry(variant).or_insert(0) += n;
    }
    // OFREP evaluations count too.
    for n in 300..350 {
        let (status, answer) = read(
            app.request(
                Method::POST,
                "/ofrep/v1/evaluate/flags/checkout-test",
                &app.a.eval,
            )
            .json(&json!({"context": {"targetingKey": format!("user-{n}")}}))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        *tally
            .entry(answer["variant"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(tally.values().sum::<u64>(), 350);
    assert_eq!(tally.len(), 2, "both variants served: {tally:?}");

    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("350 evaluations; 0 served no variant"),
        "{body}"
    );
    for (variant, n) in &tally {
        assert_eq!(
            served(&body, variant).as_deref(),
            Some(n.to_string().as_str()),
            "{variant}"
        );
    }
    // The configured split is predicted, drawn as guides, and checked.
    assert_eq!(
        body.matches("<td class=\"figure\">50.0%</td>").count(),
        2,
        "{body}"
    );
    assert_eq!(
        body.matches("<polyline class=\"series").count(),
        4,
        "two variants, two charts"
    );
    assert_eq!(body.matches("<line class=\"guide").count(), 2);
    assert!(
        body.contains("Consistent with the configured split"),
        "{body}"
    );

    // Development evaluated nothing; the other periods include the same evaluations.
    let (_, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/flags/{flag}/experiment?env=development"),
    )
    .await;
    assert!(body.contains("No evaluations of this flag"), "{body}");
    let (_, body) = html(&app, &owner, &format!("{page}&range=30d")).await;
    assert!(body.contains("350 evaluations"), "{body}");

    // A viewer may look; another tenant's flag is not found.
    let viewer = app.member("reader@example.com", "viewer").await;
    assert_eq!(html(&app, &viewer, &page).await.0, 200);
    let b_flag = tenant_b_flag(&app, "b-test", "secret of b").await;
    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/flags/{b_flag}/experiment"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("secret of b"));
}

#[tokio::test]
async fn a_split_far_from_its_configuration_is_flagged_as_a_sample_ratio_mismatch() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = experiment_on_in_production(&app, "skewed").await;
    // Served 50/50 first, then the split is changed to 90/10 in the same period: measured against
    // the configuration now in force, the period's split is far off.
    evaluate_many(&app, flag, 0..400).await;
    let segments = expect_ok(
        app.call(
            &app.a.admin,
            Some("production"),
            Method::GET,
            &format!("/api/v1/flags/{flag}/segments"),
            None,
        )
        .await,
    );
    let segment = &segments[0];
    let shares: Vec<_> = segment["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let percent = if d["variantKey"] == "control" { 90 } else { 10 };
            json!({"variantID": d["variantID"], "percent": percent})
        })
        .collect();
    let path = format!(
        "/api/v1/flags/{flag}/segments/{}/distributions",
        segment["id"]
    );
    expect_ok(
        app.call(
            &app.a.admin,
            Some("production"),
            Method::PUT,
            &path,
            Some(json!({"distributions": shares})),
        )
        .await,
    );
    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200);
    assert!(body.contains("Sample ratio mismatch"), "{body}");
}
