//! Admin UI pages with many flags: each page's server time (loopback request to full answer, one
//! request at a time) with `flags` flags in the project, signed in as the first-start owner.

use crate::http::{Call, Conn};
use crate::load::Sample;
use crate::report::{Report, Row};
use crate::seed::{context, flag_ids, flag_key, import_flags, owner_token};
use crate::server::{MANAGEMENT_KEY, Server, scratch_dir};
use anyhow::{Context, Result, bail};
use hyper::header::COOKIE;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// Evaluations of the last flag before timing, so its experiments view has counts to draw.
const EVALUATIONS: usize = 2_000;

/// Answers timed per page, after one untimed warm-up request.
const SAMPLES: usize = 50;

/// The slowest a page may be, at p95, for the target to be met.
const TARGET: Duration = Duration::from_millis(200);

/// Seeds `flags` flags on a fresh server and times each UI page.
pub(crate) async fn pages(
    report: &mut Report,
    bin: &Path,
    workers: usize,
    flags: usize,
) -> Result<()> {
    let dir = scratch_dir("pages")?;
    let server = Server::flagent(bin, &dir, workers).await?;
    let mut conn = Conn::open(server.addr).await?;
    import_flags(&mut conn, MANAGEMENT_KEY, flags).await?;
    let token = owner_token(&mut conn).await?;
    let ids = flag_ids(&mut conn, MANAGEMENT_KEY).await?;
    let last = ids
        .get(&flag_key(flags - 1))
        .context("the last seeded flag")?;
    let entities: Vec<_> = (0..EVALUATIONS)
        .map(|n| json!({"entityID": format!("user-{n}"), "entityContext": context()}))
        .collect();
    let batch = json!({"entities": entities, "flagIDs": [last]});
    conn.ok(&Call::post("/api/v1/evaluation/batch", &batch)
        .bearer(MANAGEMENT_KEY)
        .env("production"))
        .await?;
    let debug = "/ui/t/default/debug?env=production&flag=&entity=user-1&context=%7B%22country%22%3A%22CA%22%7D".to_owned();
    let pages = [
        (
            "flags list",
            "/ui/t/default/flags?env=production".to_owned(),
        ),
        (
            "flags list, searched",
            "/ui/t/default/flags?env=production&q=0999".to_owned(),
        ),
        ("flag", format!("/ui/t/default/flags/{last}?env=production")),
        (
            "flag history",
            format!("/ui/t/default/flags/{last}/history?env=production"),
        ),
        (
            "experiments view, 30 days",
            format!("/ui/t/default/flags/{last}/experiment?env=production&range=30d"),
        ),
        ("Debug Console, every flag", debug),
        ("API keys", "/ui/t/default/keys".to_owned()),
        ("members", "/ui/t/default/members".to_owned()),
        ("roles", "/ui/t/default/roles".to_owned()),
        ("plan and usage", "/ui/t/default/usage".to_owned()),
        ("audit log", "/ui/t/default/audit".to_owned()),
    ];
    let mut slowest = 0.0_f64;
    for (name, path) in pages {
        let call = Call::get(&path).header(COOKIE, &format!("flagent_session={token}"));
        let (status, _) = conn.send(&call).await?;
        if status != 200 {
            bail!("GET {path} answered {status}");
        }
        let mut sample = Sample::new();
        let started = Instant::now();
        for _ in 0..SAMPLES {
            let sent = Instant::now();
            let (status, _) = conn.send(&call).await?;
            sample.record(sent.elapsed(), Ok(status.as_u16()));
        }
        sample.seconds = started.elapsed().as_secs_f64();
        slowest = slowest.max(sample.ms(95.0));
        report.push(
            Row::of(
                "ui-pages",
                "flagent",
                format!("{name}, {flags} flags"),
                &sample,
            )
            .with_rss(server.rss().ok())
            .note(format!("GET {path}, one at a time")),
        );
    }
    report.check(
        &format!(
            "every UI page under {} ms with {flags} flags",
            TARGET.as_millis()
        ),
        format!("slowest page p95 {slowest:.1} ms"),
        slowest < TARGET.as_secs_f64() * 1000.0,
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
