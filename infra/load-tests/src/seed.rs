//! Seeding a server through its HTTP API: flags by import (`POST /api/v1/import`), the owner's session
//! (`POST /api/v1/auth/login`) and tenants created by an operator (`POST /api/v1/admin/tenants`).
//!
//! Every seeded flag is the engine benchmark's flag: one segment whose three constraints (`country EQ
//! "CA"`, `plan IN [...]`, `app.version GTE semver:"2.1.0"`) match the load's entities, split 50/50.

use crate::http::{Call, Conn};
use crate::server::OWNER;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The key of seeded flag `n`.
pub(crate) fn flag_key(n: usize) -> String {
    format!("flag-{n:04}")
}

/// The entity context every load request sends (it matches the seeded segment).
pub(crate) fn context() -> Value {
    json!({"country": "CA", "plan": "pro", "app": {"version": "2.3.1"}})
}

/// One seeded flag.
fn flag_doc(n: usize) -> Value {
    json!({
        "key": flag_key(n),
        "description": format!("load test flag {n}"),
        "enabled": true,
        "variants": [
            {"key": "control", "attachment": {"color": "grey", "limits": {"items": 10}}},
            {"key": "treatment", "attachment": {"color": "green", "limits": {"items": 20}}}
        ],
        "segments": [{
            "description": "Canadian paying users on recent apps",
            "rolloutPercent": 100,
            "constraints": [
                {"property": "country", "operator": "EQ", "value": "\"CA\""},
                {"property": "plan", "operator": "IN", "value": "[\"pro\",\"team\",\"enterprise\"]"},
                {"property": "app.version", "operator": "GTE", "value": "semver:\"2.1.0\""}
            ],
            "distributions": [
                {"variantKey": "control", "percent": 50},
                {"variantKey": "treatment", "percent": 50}
            ]
        }]
    })
}

/// Imports `count` flags into `key`'s project, enabled in production.
pub(crate) async fn import_flags(conn: &mut Conn, key: &str, count: usize) -> Result<()> {
    let doc = json!({"flags": (0..count).map(flag_doc).collect::<Vec<_>>()});
    let call = Call::post("/api/v1/import", &doc)
        .bearer(key)
        .env("production");
    conn.ok(&call).await.context("import the flags")?;
    Ok(())
}

/// The ids of the flags `key` sees, by key.
pub(crate) async fn flag_ids(conn: &mut Conn, key: &str) -> Result<BTreeMap<String, i64>> {
    let flags = conn.ok(&Call::get("/api/v1/flags").bearer(key)).await?;
    Ok(flags
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["key"].as_str()?.to_owned(), f["id"].as_i64()?)))
        .collect())
}

/// A session token of the first-start owner, an operator of the server.
pub(crate) async fn owner_token(conn: &mut Conn) -> Result<String> {
    let body = json!({"email": OWNER.0, "password": OWNER.1});
    let session = conn
        .ok(&Call::post("/api/v1/auth/login", &body))
        .await
        .context("sign in as the owner")?;
    session["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token in the login answer")
}

/// Creates tenant `key` on `plan` as the operator; returns its management key.
pub(crate) async fn create_tenant(
    conn: &mut Conn,
    token: &str,
    key: &str,
    plan: &str,
) -> Result<String> {
    let body = json!({"key": key, "name": format!("Load {key}"), "plan": plan});
    let created = conn
        .ok(&Call::post("/api/v1/admin/tenants", &body).bearer(token))
        .await
        .with_context(|| format!("create tenant {key}"))?;
    created["managementKey"]
        .as_str()
        .map(str::to_owned)
        .context("no managementKey in the answer")
}
