//! The admin UI's crash pages over HTTP: crash reports sent through the API, then the crash groups
//! page (figures and times as the API answers them, newest first, the flag filter, paging); the group
//! page, the roles and the isolation are in `group.rs`.

mod group;

use crate::helpers::{TestApp, read, spawn_app};
use crate::ui::{html, tenant_a_key};
use reqwest::Method;
use serde_json::{Value, json};

/// Milliseconds since the Unix epoch, `minutes` ago.
fn minutes_ago(minutes: i64) -> i64 {
    chrono::Utc::now().timestamp_millis() - minutes * 60_000
}

/// A crash report of `error_type` in `Checkout.pay`, from `entity` on app `version`.
fn report(entity: &str, version: &str, error_type: &str, at: i64) -> Value {
    json!({
        "platform": "web", "appVersion": version, "errorType": error_type,
        "message": "Cannot read properties of undefined (reading 'total')",
        "entityID": entity, "timestamp": at,
        "frames": [
            {"function": "Checkout.pay", "file": "https://cdn.example.com/static/js/main.3f2a9c1b.js:12:17", "line": 12},
            {"function": "submit", "file": "https://cdn.example.com/static/js/main.3f2a9c1b.js", "line": 52},
        ],
    })
}

/// Sends `crashes` with `key` (an evaluation key) and asserts every one was accepted.
async fn post_crashes(app: &TestApp, key: &str, crashes: Vec<Value>) {
    let n = crashes.len();
    let req = app
        .request(Method::POST, "/api/v1/crashes", key)
        .json(&json!({ "crashes": crashes }));
    let (status, answer) = read(req.send().await.expect("request")).await;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (202, Some(n as u64)),
        "{answer}"
    );
}

/// Sends exposures of entities `{prefix}-0` … to `variant` of `flag`, an hour ago, with `key`.
async fn expose(app: &TestApp, key: &str, flag: &str, variant: &str, prefix: &str, count: usize) {
    let at = minutes_ago(60);
    let exposures: Vec<Value> = (0..count)
        .map(|i| json!({"flagKey": flag, "variantKey": variant, "entityID": format!("{prefix}-{i}"), "timestamp": at}))
        .collect();
    let req = app
        .request(Method::POST, "/api/v1/exposures", key)
        .json(&json!({ "exposures": exposures }));
    let (status, answer) = read(req.send().await.expect("request")).await;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (202, Some(count as u64)),
        "{answer}"
    );
}

/// Tenant A's crash groups in production, as the API lists them (the first page).
async fn api_groups(app: &TestApp, query: &str) -> Vec<Value> {
    let path = format!("/api/v1/crashes{query}");
    let (status, page) = app
        .call(&app.a.read, Some("production"), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["groups"].as_array().expect("groups").clone()
}

/// The part of `body` from `start` to the next `end`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {body}"));
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The text of the first element after `marker` in `fragment`.
fn text_after(fragment: &str, marker: &str) -> String {
    let start = fragment
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {fragment}"))
        + marker.len();
    fragment[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// An RFC 3339 time as the pages' `<time datetime>` writes it (whole seconds, UTC).
fn datetime(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The `href` after `marker`, as a path to request (`&#38;` read back as `&`).
fn link_after(body: &str, marker: &str) -> String {
    let before = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {body}"));
    let href = body[..before].rfind("href=\"").expect("a link") + 6;
    let end = body[href..].find('"').expect("the link's end");
    body[href..href + end].replace("&#38;", "&")
}

#[tokio::test]
async fn the_crashes_page_lists_the_groups_as_the_api_counts_them_newest_first() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let mut flagged = report("u1", "1.0", "TypeError", minutes_ago(90));
    flagged["flags"] = json!({"checkout": "treatment"});
    post_crashes(
        &app,
        &app.a.eval,
        vec![
            flagged,
            report("u2", "1.1", "TypeError", minutes_ago(30)),
            report("u1", "1.2", "TypeError", minutes_ago(20)),
            report("u3", "1.2", "TypeError", minutes_ago(10)),
            report("u4", "1.2", "RangeError", minutes_ago(5)),
        ],
    )
    .await;
    let owner = app.owner_session().await;
    let list = format!("/ui/t/{tenant}/crashes?env=production");
    let (status, body) = html(&app, &owner, &list).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("aria-current=\"page\">Crashes</a>"), "{body}");
    let groups = api_groups(&app, "").await;
    assert_eq!(groups.len(), 2, "{groups:?}");
    // Newest first: the RangeError crashed last.
    let at = |g: &Value| {
        body.find(&format!("<tr data-group=\"{}\">", g["id"]))
            .expect("a row")
    };
    assert_eq!(groups[0]["errorType"], "RangeError");
    assert!(at(&groups[0]) < at(&groups[1]));
    for group in &groups {
        let row = between(
            &body,
            &format!("<tr data-group=\"{}\">", group["id"]),
            "</tr>",
        );
        let error_type = group["errorType"].as_str().unwrap();
        assert!(row.contains(&format!("\">{error_type}</a>")), "{row}");
        assert_eq!(
            text_after(row, "class=\"figure occurrences\">"),
            group["occurrences"].to_string()
        );
        assert_eq!(
            text_after(row, "class=\"figure entities\">"),
            group["entitiesAffected"].to_string()
        );
        for (class, field) in [("first-seen", "firstSeen"), ("last-seen", "lastSeen")] {
            let cell = between(row, &format!("<td class=\"{class}\">"), "</td>");
            let expected = datetime(group[field].as_str().unwrap());
            assert!(
                cell.contains(&format!("<time datetime=\"{expected}\"")),
                "{cell}"
            );
        }
        assert!(row.contains("(reading &#39;total&#39;)"), "{row}");
        let versions: String = group["appVersions"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .map(|v| format!("<span class=\"tag\">{}</span>", v.as_str().unwrap()))
            .collect();
        assert!(
            row.contains(&format!("<td class=\"versions\">{versions}</td>")),
            "{row}"
        );
    }
    let pay = between(
        &body,
        &format!("<tr data-group=\"{}\">", groups[1]["id"]),
        "</tr>",
    );
    assert_eq!(text_after(pay, "class=\"figure occurrences\">"), "4");
    assert_eq!(text_after(pay, "class=\"figure entities\">"), "3");
    let mut versions: Vec<&str> = groups[1]["appVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, ["1.0", "1.1", "1.2"]);
    assert!(body.contains("<a class=\"flag-key error-type\" href=\"/ui/t/"));
    assert!(!body.contains("Older crash groups"));

    // Only the group with a crash under the flag; a flag with none shows none.
    let (_, filtered) = html(&app, &owner, &format!("{list}&flag=checkout")).await;
    assert!(filtered.contains(&format!("<tr data-group=\"{}\">", groups[1]["id"])));
    assert!(!filtered.contains(&format!("<tr data-group=\"{}\">", groups[0]["id"])));
    assert!(
        filtered.contains("<option value=\"checkout\" selected>checkout</option>"),
        "{filtered}"
    );
    let (_, none) = html(&app, &owner, &format!("{list}&flag=nothing")).await;
    assert!(none.contains("No crash groups under this flag in this environment."));
    let (_, development) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/crashes?env=development"),
    )
    .await;
    assert!(
        development.contains("No crash reports in this environment yet."),
        "{development}"
    );
    let (_, bad) = html(&app, &owner, &format!("{list}&cursor=later")).await;
    assert!(
        bad.contains("cursor must be the nextCursor of a previous page"),
        "{bad}"
    );
}

#[tokio::test]
async fn the_crashes_page_pages_through_the_groups_with_its_own_links() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    // 27 groups, one report each, E26 the newest.
    let crashes = (0..27)
        .map(|i| report("u", "1.0", &format!("E{i:02}"), minutes_ago(100 - i)))
        .collect();
    post_crashes(&app, &app.a.eval, crashes).await;
    let owner = app.owner_session().await;
    let (status, first) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/crashes?env=production"),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first.matches("<tr data-group=").count(), 25);
    assert!(
        first.contains(">E26</a>") && first.contains(">E02</a>") && !first.contains(">E01</a>")
    );
    assert!(!first.contains("Newest crash groups"));
    let older = link_after(&first, ">Older crash groups</a>");
    assert!(
        older.starts_with(&format!(
            "/ui/t/{tenant}/crashes?project=default&env=production&cursor="
        )),
        "{older}"
    );
    let (status, second) = html(&app, &owner, &older).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second.matches("<tr data-group=").count(), 2);
    let e01 = second.find(">E01</a>").expect("E01");
    assert!(e01 < second.find(">E00</a>").expect("E00"));
    assert!(!second.contains("Older crash groups"));
    assert_eq!(
        link_after(&second, ">Newest crash groups</a>"),
        format!("/ui/t/{tenant}/crashes?project=default&env=production")
    );
}
