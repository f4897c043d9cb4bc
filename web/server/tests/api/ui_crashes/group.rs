//! A crash group's page over HTTP: its frames, latest reports, and the crash rate per variant from
//! the flag's exposures (tenant A's only), drawn as bars and equal to the flag's `crash_rate` results;
//! the link from those results to the flag's crash groups; what each role is shown; and that neither
//! another tenant nor another environment sees a group.

use super::{
    api_groups, between, expose, link_after, minutes_ago, post_crashes, report, text_after,
};
use crate::helpers::{SegmentSpec, Session, TestApp, spawn_app};
use crate::ui::{html, tenant_a_key};
use reqwest::Method;
use serde_json::json;

/// Tenant A's flag `checkout` with 100 entities exposed to each variant in production, 3 control and
/// 12 treatment entities crashing once in one group (one of them with the unknown flag `theme` too);
/// tenant B's own `checkout` has 50 control exposures. Returns the flag's id and the group's.
async fn crashed_experiment(app: &TestApp) -> (i64, i64) {
    let everyone = || SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[50, 50],
    };
    let variants = ["control", "treatment"];
    let flag = app
        .build_flag(
            &app.a.admin,
            "production",
            "checkout",
            &variants,
            &[everyone()],
        )
        .await
        .id;
    app.build_flag(
        &app.b.admin,
        "production",
        "checkout",
        &variants,
        &[everyone()],
    )
    .await;
    expose(app, &app.a.eval, "checkout", "control", "c", 100).await;
    expose(app, &app.a.eval, "checkout", "treatment", "t", 100).await;
    expose(app, &app.b.eval, "checkout", "control", "b", 50).await;
    let crashes = (0..3)
        .map(|i| (format!("c-{i}"), "control"))
        .chain((0..12).map(|i| (format!("t-{i}"), "treatment")))
        .enumerate()
        .map(|(n, (entity, variant))| {
            let mut crash = report(&entity, "3.0", "TypeError", minutes_ago(30));
            crash["flags"] = if n == 0 {
                json!({"checkout": variant, "theme": "dark"})
            } else {
                json!({ "checkout": variant })
            };
            crash
        })
        .collect();
    post_crashes(app, &app.a.eval, crashes).await;
    app.settle().await;
    let group = api_groups(app, "").await[0]["id"]
        .as_i64()
        .expect("a group");
    (flag, group)
}

/// The row of `variant` in the rate table of `flag` on a group's page.
fn rate_row<'a>(body: &'a str, flag: &str, variant: &str) -> &'a str {
    let chart = between(
        body,
        &format!("<div class=\"rate-result\" data-flag=\"{flag}\">"),
        "</table>",
    );
    between(chart, &format!("<tr data-variant=\"{variant}\">"), "</tr>")
}

#[tokio::test]
async fn the_group_page_draws_each_variants_crash_rate_from_its_exposures() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let (flag, group) = crashed_experiment(&app).await;
    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/crashes/{group}?env=production");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<title>Crash: TypeError · "), "{body}");
    assert!(
        body.contains("<dd class=\"occurrences\">15</dd>")
            && body.contains("<dd class=\"entities\">15</dd>")
    );
    assert!(body.contains("<code class=\"function\">Checkout.pay</code> <span class=\"muted\">in</span> <code class=\"file\">js/main.js</code>"), "{body}");
    assert_eq!(
        between(&body, "<table class=\"flags recent-crashes\"", "</table>")
            .matches("<tr><td>")
            .count(),
        15
    );

    // Tenant A's exposures only, and the same rates as the flag's crash_rate results.
    let (_, results) = app
        .call(
            &app.a.admin,
            Some("production"),
            Method::GET,
            &format!("/api/v1/flags/{flag}/results"),
            None,
        )
        .await;
    let crash_rate = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "crash_rate")
        .expect("the crash rate");
    for (variant, crashes, rate, value, width) in [
        ("control", "3", "0.0300", 0.03, "50.4"),
        ("treatment", "12", "0.120", 0.12, "201.6"),
    ] {
        let row = rate_row(&body, "checkout", variant);
        assert_eq!(text_after(row, "class=\"figure crashes\">"), crashes);
        assert_eq!(text_after(row, "class=\"figure exposed\">"), "100", "{row}");
        assert_eq!(text_after(row, "class=\"figure rate\">"), rate);
        let measured = crash_rate["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["variant"] == variant)
            .expect("the variant's results");
        assert_eq!(measured["exposed"], 100);
        assert!(
            (measured["value"].as_f64().unwrap() - value).abs() < 1e-12,
            "{measured}"
        );
        // On an axis to 0.2, 336 units long.
        let bar = between(&body, &format!("data-variant=\"{variant}\" x="), "</rect>");
        assert!(bar.contains(&format!("width=\"{width}\"")), "{bar}");
        assert!(
            bar.contains(&format!(
                "<title>{variant}: {crashes} crashes among 100 exposed entities, {rate} per entity"
            )),
            "{bar}"
        );
    }
    assert!(body.contains(&format!("<a class=\"flag-key\" href=\"/ui/t/{tenant}/flags/{flag}/experiment?project=default&#38;env=production\">checkout</a>")));
    // `theme` names no flag of the project: its crash, without exposures or a bar.
    assert!(body.contains("<span class=\"flag-key\">theme</span> <span class=\"muted small\">no flag of this project</span>"));
    assert_eq!(
        text_after(rate_row(&body, "theme", "dark"), "class=\"figure rate\">"),
        "no exposures"
    );
    assert!(!body.contains("data-variant=\"dark\" x="));
    // The page changes nothing: the sign-out form is its only one.
    assert_eq!(body.matches("data-api=").count(), 1);

    // The flag's results link to its crash groups, which list this one.
    let experiment = format!("/ui/t/{tenant}/flags/{flag}/experiment?env=production");
    let (_, results_page) = html(&app, &owner, &experiment).await;
    let crashes = link_after(&results_page, ">Crash groups under checkout</a>");
    assert_eq!(
        crashes,
        format!("/ui/t/{tenant}/crashes?project=default&env=production&flag=checkout")
    );
    let (_, listed) = html(&app, &owner, &crashes).await;
    assert!(
        listed.contains(&format!("<tr data-group=\"{group}\">")),
        "{listed}"
    );
}

#[tokio::test]
async fn readers_see_the_crash_pages_and_others_are_refused_them() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let (_, group) = crashed_experiment(&app).await;
    let list = format!("/ui/t/{tenant}/crashes?env=production");
    let detail = format!("/ui/t/{tenant}/crashes/{group}?env=production");

    // A viewer reads both, with the sidebar's link and no form but signing out.
    let viewer = app.member("reader@example.com", "viewer").await;
    for path in [&list, &detail] {
        let (status, body) = html(&app, &viewer, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains("aria-current=\"page\">Crashes</a>") && body.contains("TypeError"));
        assert_eq!(body.matches("data-api=").count(), 1, "{body}");
    }

    // A role without flags:read is refused both and not offered the link.
    app.create_role("key-keeper", "Key keeper", &["keys:manage"])
        .await;
    let keeper = app.member("keeper@example.com", "key-keeper").await;
    for path in [&list, &detail] {
        let (status, body) = html(&app, &keeper, path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            !body.contains("TypeError") && !body.contains("checkout"),
            "{body}"
        );
    }
    let (_, keys) = html(&app, &keeper, &format!("/ui/t/{tenant}/keys")).await;
    assert!(
        keys.contains(">API keys</a>") && !keys.contains(">Crashes</a>"),
        "{keys}"
    );

    // Another environment does not have the group.
    let owner = app.owner_session().await;
    let elsewhere = format!("/ui/t/{tenant}/crashes/{group}?env=development");
    let (status, body) = html(&app, &owner, &elsewhere).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("Checkout.pay"));

    // Tenant B's member reads neither A's pages nor A's group through B's own.
    let b_member: Session = app
        .member_of(&app.b.admin, "b-viewer@example.com", "viewer")
        .await;
    for path in [
        list.clone(),
        detail.clone(),
        format!("/ui/t/tenant-b/crashes/{group}?env=production"),
    ] {
        let (status, body) = html(&app, &b_member, &path).await;
        assert!(status == 403 || status == 404, "{path}: {status} {body}");
        assert!(
            !body.contains("Checkout.pay") && !body.contains("reading &#39;total&#39;"),
            "{body}"
        );
    }
    let (status, b_list) = html(&app, &b_member, "/ui/t/tenant-b/crashes?env=production").await;
    assert_eq!(status, 200, "{b_list}");
    assert!(
        b_list.contains("No crash reports in this environment yet."),
        "{b_list}"
    );
}
