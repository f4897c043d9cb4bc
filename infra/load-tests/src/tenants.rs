//! Tenants at scale: many tenants, each with its own flags, loaded in one server; its memory after
//! seeding and again after a restart, when the evaluation cache is loaded from the database at start.

use crate::http::{Call, Conn};
use crate::load::Sample;
use crate::report::{Report, Row};
use crate::seed::{context, create_tenant, flag_key, import_flags, owner_token};
use crate::server::{Server, scratch_dir};
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Tenants seeded at once (SQLite writes one at a time; this overlaps the HTTP work).
const PARALLEL: usize = 4;

/// Creates `tenants` tenants with `flags` flags each on a fresh server and reports its memory.
pub(crate) async fn scale(
    report: &mut Report,
    bin: &Path,
    workers: usize,
    tenants: usize,
    flags: usize,
) -> Result<()> {
    let dir = scratch_dir("tenants")?;
    let server = Server::flagent(bin, &dir, workers).await?;
    let empty = server.rss()?;
    let started = Instant::now();
    let token = owner_token(&mut Conn::open(server.addr).await?).await?;
    let mut keys = Vec::with_capacity(tenants);
    for chunk in (0..tenants).collect::<Vec<_>>().chunks(PARALLEL) {
        let mut tasks = Vec::new();
        for &t in chunk {
            let (addr, token) = (server.addr, token.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(addr).await?;
                let key = create_tenant(&mut conn, &token, &format!("load-{t}"), "pro").await?;
                import_flags(&mut conn, &key, flags).await?;
                anyhow::Ok(key)
            }));
        }
        for task in tasks {
            keys.push(task.await??);
        }
        if keys.len() % 100 == 0 {
            eprintln!(
                "  {} tenants seeded in {:.0} s",
                keys.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let seeded_in = started.elapsed().as_secs_f64();
    check_evaluations(&server, &keys, flags).await?;
    let label = format!("{tenants} tenants x {flags} flags");
    let note = format!(
        "after seeding through the API in {seeded_in:.0} s (empty server: {:.1} MiB)",
        empty.rss_mib
    );
    report.push(
        Row::of("tenants-scale", "flagent", label.clone(), &Sample::new())
            .with_rss(server.rss().ok())
            .note(note),
    );
    server.stop();

    let restarted = Instant::now();
    let server = Server::flagent(bin, &dir, workers).await?;
    let start_secs = restarted.elapsed().as_secs_f64();
    check_evaluations(&server, &keys, flags).await?;
    let note =
        format!("after a restart: cache and keys loaded from the database in {start_secs:.1} s");
    report.push(
        Row::of("tenants-scale", "flagent", label, &Sample::new())
            .with_rss(server.rss().ok())
            .note(note),
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Evaluates the last flag of every 50th tenant with its own key.
async fn check_evaluations(server: &Server, keys: &[String], flags: usize) -> Result<()> {
    let mut conn = Conn::open(server.addr).await?;
    for key in keys.iter().step_by(50) {
        let body =
            json!({"entityID": "u1", "entityContext": context(), "flagKey": flag_key(flags - 1)});
        let call = Call::post("/api/v1/evaluation", &body)
            .bearer(key)
            .env("production");
        let answer = conn
            .ok(&call)
            .await
            .context("evaluate in a seeded tenant")?;
        if answer["variantKey"].as_str().unwrap_or_default().is_empty() {
            bail!("a seeded tenant's flag picks no variant: {answer}");
        }
    }
    Ok(())
}
