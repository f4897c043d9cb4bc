//! The `signin-burst` scenario: open-loop evaluation at a fixed rate, measured once alone and once while
//! the owner signs in at a steady rate, on the same server in the same run, so the two p99s compare
//! evaluation with and without argon2 work on the machine.
//!
//! Invariant: each sign-in is its own task on its own connection, sent when it is due, so a slow sign-in
//! never delays the next one and the sign-in load stays at its rate.

use crate::http::{Call, Conn};
use crate::load::Sample;
use crate::report::{Report, Row};
use crate::scenarios::Bench;
use crate::server::{OWNER, Server};
use anyhow::{Result, bail};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Evaluation at `rate` per second alone, then during `signin_rate` sign-ins per second; reports both
/// evaluation rows, the sign-ins, and the ratio of the two evaluation p99s.
pub(crate) async fn burst(
    report: &mut Report,
    bench: &Bench,
    server: &Server,
    rate: f64,
    signin_rate: f64,
) -> Result<()> {
    let first = sign_in(server.addr).await?;
    if first != 200 {
        bail!("signin-burst: the owner's sign-in answered HTTP {first}");
    }
    let label = format!("open, {rate:.0}/s, {} conn", bench.open_connections);
    let quiet = bench.open(server, "eval-single", rate).await?;
    let span = bench.load.warmup + bench.load.duration;
    let signins = tokio::spawn(sign_ins(server.addr, signin_rate, span, bench.load.warmup));
    let busy = bench.open(server, "eval-single", rate).await?;
    let signins = signins.await??;
    let quiet_row = Row::of("signin-burst", "flagent", label.clone(), &quiet);
    let busy_row = Row::of("signin-burst", "flagent", label, &busy);
    let ratio = busy_row.p99_ms / quiet_row.p99_ms.max(0.001);
    report.push(quiet_row.note("evaluations, no sign-ins"));
    report.push(busy_row.note(format!("evaluations, during {signin_rate}/s sign-ins")));
    let row = Row::of(
        "signin-burst",
        "flagent",
        format!("{signin_rate}/s"),
        &signins,
    );
    report.push(
        row.with_rss(server.rss().ok()).note(
            "sign-ins (POST /api/v1/auth/login, argon2 verification), during the evaluations",
        ),
    );
    report.check(
        "evaluation p99 during sign-ins within 1.5x of the p99 without",
        format!("{ratio:.2}x"),
        ratio <= 1.5,
    );
    Ok(())
}

/// One sign-in of the owner; its status.
async fn sign_in(addr: SocketAddr) -> Result<u16> {
    let call = Call::post(
        "/api/v1/auth/login",
        &json!({"email": OWNER.0, "password": OWNER.1}),
    );
    let (status, _) = Conn::open(addr).await?.send(&call).await?;
    Ok(status.as_u16())
}

/// Signs in `rate` times per second for `span`; measures those sent after `warmup`.
async fn sign_ins(addr: SocketAddr, rate: f64, span: Duration, warmup: Duration) -> Result<Sample> {
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut tasks = JoinSet::new();
    loop {
        tick.tick().await;
        let due = Instant::now();
        if due - start >= span {
            break;
        }
        tasks.spawn(async move {
            let outcome = sign_in(addr).await.map_err(|_| ());
            (due - start >= warmup).then(|| (due.elapsed(), outcome))
        });
    }
    let mut sample = Sample::new();
    while let Some(done) = tasks.join_next().await {
        if let Some((latency, outcome)) = done? {
            sample.record(latency, outcome);
        }
    }
    sample.seconds = (span - warmup).as_secs_f64();
    Ok(sample)
}
