//! The admin UI's flag history page: versions, the comparison of two, restore controls by role, and
//! another tenant's flag.

use crate::helpers::{TestApp, expect_ok, spawn_app};
use crate::ui::{html, tenant_a_key, tenant_b_flag};
use reqwest::Method;
use serde_json::json;

/// The flag's snapshots in development, newest first: (snapshot id, flag version).
async fn snapshot_ids(app: &TestApp, flag: i64) -> Vec<(i64, i64)> {
    let path = format!("/api/v1/flags/{flag}/snapshots");
    let list = expect_ok(
        app.call(&app.a.admin, Some("development"), Method::GET, &path, None)
            .await,
    );
    list.as_array()
        .expect("snapshots")
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().expect("id"),
                s["flag"]["version"].as_i64().expect("version"),
            )
        })
        .collect()
}

fn rows(body: &str) -> usize {
    body.matches(r#"name="to" value=""#).count()
}

#[tokio::test]
async fn the_history_page_lists_versions_compares_two_and_offers_restore_to_writers() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = app.create_flag("history").await["id"].as_i64().unwrap();
    let segment = app.new_segment("development", flag, 25).await;
    let path = format!("/api/v1/flags/{flag}");
    expect_ok(
        app.admin_put(
            &format!("{path}/segments/{segment}"),
            json!({"rolloutPercent": 75}),
        )
        .await,
    );
    expect_ok(
        app.admin_put(&path, json!({"description": "<b>bold</b> move"}))
            .await,
    );
    let ids = snapshot_ids(&app, flag).await;
    assert_eq!(ids.len(), 4, "create, segment, rollout, description");

    let owner = app.owner_session().await;
    let page = format!("/ui/t/{tenant}/flags/{flag}/history?env=development");
    let (status, body) = html(&app, &owner, &page).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rows(&body), 4);
    // By default the newest two are compared: only the description changed.
    let heading = format!("v{} → v{}", ids[1].1, ids[0].1);
    assert!(body.contains(&heading), "{heading}: {body}");
    assert!(body.contains(r#"<code>description</code>"#), "{body}");
    assert!(
        body.contains("&#60;b&#62;bold&#60;/b&#62; move") && !body.contains("<b>bold</b>"),
        "escaped"
    );
    assert_eq!(body.matches(r#"class="line added""#).count(), 1, "{body}");
    assert_eq!(body.matches(r#"class="line removed""#).count(), 1, "{body}");
    // Every version but the current one can be restored, after a question.
    assert_eq!(
        body.matches("/restore\" data-method=\"POST\"").count(),
        3,
        "{body}"
    );
    assert!(body.contains("data-confirm=\"Restore version"), "{body}");

    // Any two versions: the rollout change is between the second and the third.
    let (from, to) = (ids[2].0, ids[1].0);
    let (status, body) = html(&app, &owner, &format!("{page}&from={from}&to={to}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("&#34;rolloutPercent&#34;: 75"), "{body}");
    assert!(body.contains("&#34;rolloutPercent&#34;: 25"), "{body}");
    assert!(!body.contains("&#34;id&#34;"), "ids are left out: {body}");
    // The same version twice: nothing differs.
    let (_, body) = html(&app, &owner, &format!("{page}&from={from}&to={from}")).await;
    assert!(body.contains("configure the flag the same way"), "{body}");

    // A viewer sees the history but no restore control.
    let viewer = app.member("reader@example.com", "viewer").await;
    let (status, body) = html(&app, &viewer, &page).await;
    assert_eq!(status, 200);
    assert_eq!(rows(&body), 4);
    assert!(!body.contains("/restore"), "a viewer cannot restore");
}

#[tokio::test]
async fn the_history_page_refuses_other_tenants_flags_and_foreign_versions() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let owner = app.owner_session().await;
    let mine = app.create_flag("mine").await["id"].as_i64().unwrap();
    let other = app.create_flag("other").await["id"].as_i64().unwrap();
    let b_id = tenant_b_flag(&app, "b-only", "secret of b").await;
    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/flags/{b_id}/history"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("b-only") && !body.contains("secret of b"));

    // A version of another flag, named in the query, is not shown as this flag's.
    let foreign = snapshot_ids(&app, other).await[0].0;
    let path = format!("/ui/t/{tenant}/flags/{mine}/history?env=development&from={foreign}");
    let (status, body) = html(&app, &owner, &path).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("other flag"), "{body}");
}
