//! API tests: the audit log (events for every change, filters and cursor, export, and a hash chain whose
//! verification names the first edited, deleted or truncated event).

use crate::helpers::{TestApp, code, read, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Tenant A (the bootstrapped tenant) is the first tenant of every fresh test database.
const TENANT_A: i64 = 1;

async fn audit(app: &TestApp, query: &str) -> Value {
    let (status, page) = app
        .admin(Method::GET, &format!("/api/v1/audit{query}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    page
}

fn actions(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn verify(app: &TestApp, key: &str) -> Value {
    let (status, report) = read(
        app.request(Method::GET, "/api/v1/audit/verify", key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    report
}

/// Creates a flag and changes it six more times; returns its id.
async fn seven_changes(app: &TestApp) -> i64 {
    let id = app.create_flag("audited").await["id"].as_i64().unwrap();
    let steps = [
        (
            Method::PUT,
            format!("/api/v1/flags/{id}"),
            json!({"description": "second wording"}),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/variants"),
            json!({"key": "on"}),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/segments"),
            json!({"description": "all", "rolloutPercent": 100}),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/tags"),
            json!({"value": "checkout"}),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}/enabled"),
            json!({"enabled": true}),
        ),
        (Method::DELETE, format!("/api/v1/flags/{id}"), json!({})),
    ];
    for (method, path, body) in steps {
        let (status, reply) = app.admin(method, &path, Some(body)).await;
        assert_eq!(status, 200, "{path}: {reply}");
    }
    id
}

#[tokio::test]
async fn every_flag_change_appends_an_event_with_actor_origin_and_before_after() {
    let app = spawn_app().await;
    let id = seven_changes(&app).await;
    let page = audit(&app, "").await;
    assert_eq!(
        actions(&page),
        [
            "flag.delete",
            "flag.enable",
            "tag.add",
            "segment.create",
            "variant.create",
            "flag.update",
            "flag.create"
        ]
    );
    let events = page["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [7, 6, 5, 4, 3, 2, 1]);
    let update = &events[5];
    assert_eq!(update["resourceType"], "flag");
    assert_eq!(update["resourceId"], id.to_string());
    assert_eq!(update["environment"], "development");
    assert_eq!(update["before"]["description"], "audited flag");
    assert_eq!(update["after"]["description"], "second wording");
    assert_eq!(update["actorType"], "api_key");
    assert!(
        update["actor"]
            .as_str()
            .unwrap()
            .starts_with("key:bootstrap management key"),
        "{update}"
    );
    assert_eq!(update["ip"], "127.0.0.1");
    assert_eq!(
        events[6]["before"],
        Value::Null,
        "a creation has nothing before it"
    );
    assert_eq!(events[0]["after"]["archived"], true);
}

#[tokio::test]
async fn refused_change_appends_no_event() {
    let app = spawn_app().await;
    let id = app.create_flag("refused").await["id"].as_i64().unwrap();
    let (status, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/flags/{id}/segments"),
            Some(json!({"rolloutPercent": 101})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(actions(&audit(&app, "").await), ["flag.create"]);
}

#[tokio::test]
async fn audit_filters_and_cursor_walk_the_log() {
    let app = spawn_app().await;
    let id = seven_changes(&app).await;
    let other = app.create_flag("other").await["id"].as_i64().unwrap();
    assert_eq!(
        actions(&audit(&app, "?action=flag.").await),
        [
            "flag.create",
            "flag.delete",
            "flag.enable",
            "flag.update",
            "flag.create"
        ]
    );
    assert_eq!(
        actions(&audit(&app, &format!("?resource=flag:{other}")).await),
        ["flag.create"]
    );
    assert_eq!(
        audit(&app, &format!("?resource=flag:{id}")).await["events"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(audit(&app, "?actor=nobody").await["events"], json!([]));
    assert_eq!(
        audit(&app, "?to=2000-01-01T00:00:00Z").await["events"],
        json!([])
    );
    assert_eq!(
        audit(&app, "?from=2000-01-01T00:00:00Z").await["events"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = audit(&app, &query).await;
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match page["nextCursor"].as_i64() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [8, 7, 6, 5, 4, 3, 2, 1]);
    let (status, body) = app
        .admin(Method::GET, "/api/v1/audit?from=yesterday", None)
        .await;
    assert_eq!((status, code(&body)), (400, "validation_failed"));
}

#[tokio::test]
async fn verify_intact_chain_reports_every_event_checked() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let report = verify(&app, &app.a.admin).await;
    assert_eq!(
        report,
        json!({"intact": true, "checked": 7, "headSeq": 7, "firstBroken": null})
    );
}

#[tokio::test]
async fn verify_after_editing_a_row_names_that_event() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let sql = format!(
        "UPDATE audit_events SET actor = 'mallory' WHERE tenant_id = {TENANT_A} AND seq = 3"
    );
    assert_eq!(
        flagent_storage::admin::execute(&app.db_url, &sql)
            .await
            .unwrap(),
        1
    );
    let report = verify(&app, &app.a.admin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["firstBroken"]["seq"], 3);
    assert!(
        report["firstBroken"]["reason"]
            .as_str()
            .unwrap()
            .contains("contents"),
        "{report}"
    );
    assert_eq!(report["checked"], 2);
}

#[tokio::test]
async fn verify_after_deleting_a_row_names_the_missing_event() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let sql = format!("DELETE FROM audit_events WHERE tenant_id = {TENANT_A} AND seq = 4");
    assert_eq!(
        flagent_storage::admin::execute(&app.db_url, &sql)
            .await
            .unwrap(),
        1
    );
    let report = verify(&app, &app.a.admin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["firstBroken"]["seq"], 4);
    assert_eq!(report["firstBroken"]["id"], Value::Null);
}

#[tokio::test]
async fn verify_after_deleting_the_newest_rows_reports_the_truncation() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let sql = format!("DELETE FROM audit_events WHERE tenant_id = {TENANT_A} AND seq >= 6");
    assert_eq!(
        flagent_storage::admin::execute(&app.db_url, &sql)
            .await
            .unwrap(),
        2
    );
    let report = verify(&app, &app.a.admin).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["firstBroken"]["seq"], 6);
    assert_eq!(report["checked"], 5);
}

#[tokio::test]
async fn export_gives_every_event_as_json_lines_or_csv() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let reply = app
        .request(Method::GET, "/api/v1/audit/export", &app.a.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["content-type"], "application/jsonl");
    let text = reply.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seqs: Vec<i64> = lines.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7]);
    let reply = app
        .request(Method::GET, "/api/v1/audit/export?format=csv", &app.a.admin)
        .send()
        .await
        .unwrap();
    assert!(
        reply.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = reply.text().await.unwrap();
    assert!(csv.starts_with("seq,occurred_at,actor,"));
    assert!(csv.contains(",flag.update,flag,"), "{csv}");
    assert!(
        csv.contains("\"{\"\""),
        "JSON fields are quoted with doubled quotes: {csv}"
    );
    let (status, body) = app
        .admin(Method::GET, "/api/v1/audit/export?format=xml", None)
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_query"));
}

#[tokio::test]
async fn import_appends_one_event_per_changed_flag() {
    let app = spawn_app().await;
    let doc = json!({"flags": [
        {"key": "imp-a", "description": "a", "variants": [{"key": "on"}]},
        {"key": "imp-b", "description": "b"}
    ]});
    let (status, report) = app
        .admin(Method::POST, "/api/v1/import", Some(doc.clone()))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        actions(&audit(&app, "").await),
        ["flag.import", "flag.import"]
    );
    let (status, _) = app.admin(Method::POST, "/api/v1/import", Some(doc)).await;
    assert_eq!(status, 200);
    assert_eq!(
        audit(&app, "").await["events"].as_array().unwrap().len(),
        2,
        "unchanged flags add no event"
    );
}

#[tokio::test]
async fn audit_is_per_tenant_and_needs_an_admin_key() {
    let app = spawn_app().await;
    seven_changes(&app).await;
    let (status, page) = read(
        app.request(Method::GET, "/api/v1/audit", &app.b.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        page["events"],
        json!([]),
        "tenant B sees none of tenant A's events"
    );
    let report = verify(&app, &app.b.admin).await;
    assert_eq!(
        report,
        json!({"intact": true, "checked": 0, "headSeq": 0, "firstBroken": null})
    );
    for key in [&app.a.read, &app.a.eval] {
        for path in [
            "/api/v1/audit",
            "/api/v1/audit/verify",
            "/api/v1/audit/export",
        ] {
            let (status, body) =
                read(app.request(Method::GET, path, key).send().await.unwrap()).await;
            assert_eq!((status, code(&body)), (403, "forbidden"), "{path}");
        }
    }
}

#[tokio::test]
async fn concurrent_changes_keep_one_unbroken_chain() {
    let app = spawn_app().await;
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (client, address, key) = (app.client.clone(), app.address.clone(), app.a.admin.clone());
        writes.spawn(async move {
            let body =
                json!({"key": format!("parallel-{i}"), "description": "written in parallel"});
            let reply = client
                .post(format!("{address}/api/v1/flags"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            reply.status().as_u16()
        });
    }
    while let Some(status) = writes.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let report = verify(&app, &app.a.admin).await;
    assert_eq!(
        report,
        json!({"intact": true, "checked": 16, "headSeq": 16, "firstBroken": null})
    );
}
