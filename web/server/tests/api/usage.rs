//! Usage metering and reporting: evaluations counted per request in memory and added to
//! `usage_counters` by a flush (kept when the database fails, adding up across servers), `GET /usage`,
//! the monthly evaluations limit that is reported but never refuses an evaluation, and the audit
//! retention window.

use crate::helpers::{TestApp, expect_error, expect_ok, spawn_app};
use crate::plans::set_free_limit;
use flagent_storage::{Db, NewAuditEvent};
use flagent_tenants::usage::{Period, Usage};
use flagent_types::{SystemScope, TenantId};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

fn system() -> SystemScope {
    #[allow(clippy::disallowed_methods)]
    SystemScope::assume_system("test fixtures")
}

/// The evaluations of `tenant` this month as stored in `usage_counters`.
async fn stored(app: &TestApp, tenant: TenantId) -> u64 {
    app.db
        .scoped_for_system(&system(), tenant)
        .evaluations_in(&Period::now().to_string())
        .await
        .expect("read the usage counter")
}

/// `GET /api/v1/usage` with `key`.
async fn usage_of(app: &TestApp, key: &str) -> Value {
    expect_ok(
        app.call(key, None, Method::GET, "/api/v1/usage", None)
            .await,
    )
}

/// `n` single evaluations with `key`, each answered 200.
async fn evaluate_times(app: &TestApp, key: &str, n: usize) {
    for i in 0..n {
        let body = json!({"flagKey": "checkout", "entityID": format!("user-{i}")});
        expect_ok(app.evaluate_with(key, body).await);
    }
}

#[tokio::test]
async fn evaluations_are_counted_per_request_and_written_by_flush() {
    let app = spawn_app().await;
    app.create_flag("checkout").await;
    let a = app.a.id;
    evaluate_times(&app, &app.a.eval, 3).await;
    let single = json!({"flagKey": "checkout", "entityID": "user-9"}).to_string();
    let get = app.request(Method::GET, "/api/v1/evaluation", &app.a.eval);
    assert_eq!(
        get.query(&[("json", single)])
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let batch = json!({"entities": [{"entityID": "u1"}, {"entityID": "u2"}],
        "flagKeys": ["checkout", "missing"]});
    let reply = app
        .call(
            &app.a.eval,
            None,
            Method::POST,
            "/api/v1/evaluation/batch",
            Some(batch),
        )
        .await;
    assert_eq!(
        expect_ok(reply)["evaluationResults"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let refused = app.evaluate(json!({"entityID": "no flag named"})).await;
    assert_eq!(refused.0, 400, "{}", refused.1);
    assert_eq!(stored(&app, a).await, 0, "nothing is written per request");
    assert_eq!(app.usage.unflushed(a, Period::now()), 8);
    assert_eq!(usage_of(&app, &app.a.read).await["usage"]["evaluations"], 8);
    assert_eq!(app.usage.flush().await.expect("flush"), 1, "one counter");
    assert_eq!(stored(&app, a).await, 8);
    assert_eq!(app.usage.unflushed(a, Period::now()), 0);
    assert_eq!(usage_of(&app, &app.a.read).await["usage"]["evaluations"], 8);
    evaluate_times(&app, &app.a.eval, 2).await;
    assert_eq!(app.usage.flush().await.expect("flush"), 1);
    assert_eq!(stored(&app, a).await, 10, "added to the same counter");
    assert_eq!(app.usage.flush().await.expect("flush"), 0, "nothing new");
    assert_eq!(stored(&app, app.b.id).await, 0, "per tenant");
}

#[tokio::test]
async fn usage_route_reports_plan_limits_usage_and_exceeded_limits() {
    let app = spawn_app().await;
    set_free_limit(&app, "monthly_evaluations", "5").await;
    let free = app.tenant_on_plan("acme", "free").await;
    for key in ["checkout", "search"] {
        let body = Some(json!({"key": key, "description": key}));
        expect_ok(
            app.call(&free.admin, None, Method::POST, "/api/v1/flags", body)
                .await,
        );
    }
    // The tenant moves to a plan with fewer flags than it has: nothing is removed.
    set_free_limit(&app, "flags", "1").await;
    evaluate_times(&app, &free.eval, 6).await;
    app.usage.flush().await.expect("flush");
    evaluate_times(&app, &free.eval, 1).await;
    let report = usage_of(&app, &free.read).await;
    let expected = json!({
        "plan": {"key": "free", "name": "Free"},
        "period": Period::now().to_string(),
        "limits": {"seats": 5, "projects": 2, "environments": 3, "flags": 1,
            "monthlyEvaluations": 5, "auditRetentionDays": 30, "eventRetentionDays": 30,
            "sso": false},
        "usage": {"seats": 0, "projects": 1, "environments": 2, "flags": 2, "evaluations": 7},
        "exceeded": ["flags", "monthlyEvaluations"],
    });
    assert_eq!(report, expected);
    let unlimited = usage_of(&app, &app.a.read).await;
    assert_eq!(unlimited["plan"]["key"], "self-hosted");
    for limit in [
        "seats",
        "projects",
        "environments",
        "flags",
        "monthlyEvaluations",
    ] {
        assert_eq!(unlimited["limits"][limit], Value::Null, "{unlimited}");
    }
    assert_eq!(unlimited["exceeded"], json!([]));
    let reply = app
        .call(&free.eval, None, Method::GET, "/api/v1/usage", None)
        .await;
    expect_error(&reply, 403, "forbidden");
}

#[tokio::test]
async fn flush_that_fails_keeps_the_counts_for_the_next_flush() {
    let app = spawn_app().await;
    app.create_flag("checkout").await;
    let a = app.a.id;
    evaluate_times(&app, &app.a.eval, 3).await;
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    let away = rename("usage_counters", "usage_counters_away");
    flagent_storage::admin::execute(&app.db_url, &away)
        .await
        .unwrap();
    assert!(app.usage.flush().await.is_err(), "the table is gone");
    assert_eq!(app.usage.unflushed(a, Period::now()), 3, "kept");
    evaluate_times(&app, &app.a.eval, 2).await;
    assert_eq!(
        app.usage.unflushed(a, Period::now()),
        5,
        "kept and added to"
    );
    let back = rename("usage_counters_away", "usage_counters");
    flagent_storage::admin::execute(&app.db_url, &back)
        .await
        .unwrap();
    assert_eq!(app.usage.flush().await.expect("flush"), 1);
    assert_eq!(stored(&app, a).await, 5, "every evaluation, once");
    assert_eq!(app.usage.unflushed(a, Period::now()), 0);
}

#[tokio::test]
async fn evaluations_while_database_is_down_are_counted_and_kept() {
    let app = spawn_app().await;
    app.create_flag("checkout").await;
    app.db.close().await.expect("close the pool");
    evaluate_times(&app, &app.a.eval, 4).await;
    assert!(app.usage.flush().await.is_err());
    assert_eq!(app.usage.unflushed(app.a.id, Period::now()), 4);
}

#[tokio::test]
async fn concurrent_flushes_from_several_servers_add_up() {
    let app = spawn_app().await;
    let connections = if app.db_url.starts_with("sqlite") {
        1
    } else {
        2
    };
    let mut servers = Vec::new();
    for _ in 0..4 {
        let db = Db::connect(&app.db_url, connections)
            .await
            .expect("connect");
        servers.push(Arc::new(Usage::new(db, system())));
    }
    let (a, b) = (app.a.id, app.b.id);
    for _ in 0..3 {
        let mut flushes = tokio::task::JoinSet::new();
        for (i, server) in servers.iter().enumerate() {
            server.record(a, 10 * (i as u64 + 1));
            server.record(b, 1);
            let server = server.clone();
            flushes.spawn(async move { server.flush().await });
        }
        for flushed in flushes.join_all().await {
            assert_eq!(flushed.expect("flush"), 2, "one counter per tenant");
        }
    }
    assert_eq!(stored(&app, a).await, 3 * (10 + 20 + 30 + 40));
    assert_eq!(stored(&app, b).await, 3 * 4);
}

#[tokio::test]
async fn audit_retention_hides_older_events_but_verify_still_checks_them() {
    let app = spawn_app().await;
    let free = app.tenant_on_plan("acme", "free").await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let forty_days_ago = now.unwrap().as_millis() as i64 - 40 * 86_400_000;
    let tx = app
        .db
        .scoped_for_system(&system(), free.id)
        .begin()
        .await
        .unwrap();
    let old = NewAuditEvent {
        occurred_at: forty_days_ago,
        actor: "key:old".into(),
        actor_type: "api_key".into(),
        action: "flag.update".into(),
        resource_type: "flag".into(),
        resource_id: "1".into(),
        before: "null".into(),
        after: "null".into(),
        ..NewAuditEvent::default()
    };
    tx.append_audit(old).await.unwrap();
    tx.commit().await.unwrap();
    let body = Some(json!({"key": "checkout", "description": "checkout"}));
    expect_ok(
        app.call(&free.admin, None, Method::POST, "/api/v1/flags", body)
            .await,
    );
    let get = |path: &'static str| app.call(&free.admin, None, Method::GET, path, None);
    let actions = |page: &Value| -> Vec<String> {
        let events = page["events"].as_array().unwrap();
        events
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        actions(&expect_ok(get("/api/v1/audit").await)),
        ["flag.create"]
    );
    let from_long_ago = expect_ok(get("/api/v1/audit?from=2000-01-01T00:00:00Z").await);
    assert_eq!(actions(&from_long_ago), ["flag.create"], "the window wins");
    for (format, lines) in [("jsonl", 1), ("csv", 2)] {
        let path = format!("/api/v1/audit/export?format={format}");
        let reply = app
            .request(Method::GET, &path, &free.admin)
            .send()
            .await
            .unwrap();
        let text = reply.text().await.unwrap();
        assert_eq!(text.lines().count(), lines, "{format}: {text}");
        assert!(!text.contains("key:old"), "{text}");
    }
    let verify = expect_ok(get("/api/v1/audit/verify").await);
    assert_eq!(
        (verify["intact"].clone(), verify["checked"].clone()),
        (json!(true), json!(2))
    );
    let sql = format!(
        "UPDATE tenants SET plan = 'enterprise' WHERE id = {}",
        free.id
    );
    flagent_storage::admin::execute(&app.db_url, &sql)
        .await
        .unwrap();
    let all = expect_ok(get("/api/v1/audit").await);
    assert_eq!(
        actions(&all),
        ["flag.create", "flag.update"],
        "nothing was deleted"
    );
}
