//! The request-response scenarios: the baseline endpoint, single and batch evaluation, OFREP single and
//! bulk, and evaluation under a steady stream of management writes (`mixed`).

use crate::http::{Call, Conn};
use crate::load::{self, Load, Sample};
use crate::report::{Report, Row};
use crate::seed::{context, flag_key};
use crate::server::{EVALUATION_KEY, MANAGEMENT_KEY, Server};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Distinct entities the load cycles through.
const ENTITIES: usize = 1024;

/// What the request-response scenarios share.
pub(crate) struct Bench {
    /// Closed-loop load (connections, warm-up, duration).
    pub(crate) load: Load,
    /// Connections of the open-loop runs.
    pub(crate) open_connections: usize,
    /// Flags seeded in the default tenant.
    pub(crate) flags: usize,
}

fn eval_body(i: usize) -> Value {
    json!({"entityID": format!("user-{i}"), "entityContext": context(), "flagKey": flag_key(0)})
}

fn ofrep_body(i: usize) -> Value {
    let mut ctx = context();
    ctx["targetingKey"] = json!(format!("user-{i}"));
    json!({ "context": ctx })
}

/// The requests of scenario `name`.
pub(crate) fn calls(name: &str, flags: usize) -> Result<Arc<Vec<Call>>> {
    let keys: Vec<String> = (0..flags).map(flag_key).collect();
    let one = |i: usize| -> Result<Call> {
        let call = match name {
            "baseline" => return Ok(Call::post("/eval", &eval_body(i)).bearer(EVALUATION_KEY)),
            "info" => return Ok(Call::get("/api/v1/info")),
            "eval-single" | "mixed" => Call::post("/api/v1/evaluation", &eval_body(i)),
            "eval-batch" => {
                let entity = json!({"entityID": format!("user-{i}"), "entityContext": context()});
                let body = json!({"entities": [entity], "flagKeys": keys});
                Call::post("/api/v1/evaluation/batch", &body)
            }
            "ofrep-single" => Call::post(
                &format!("/ofrep/v1/evaluate/flags/{}", flag_key(0)),
                &ofrep_body(i),
            ),
            "ofrep-bulk" => Call::post("/ofrep/v1/evaluate/flags", &ofrep_body(i)),
            other => bail!("no scenario {other}"),
        };
        Ok(call.bearer(EVALUATION_KEY))
    };
    Ok(Arc::new((0..ENTITIES).map(one).collect::<Result<_>>()?))
}

/// Checks that one request of `name` gets a sensible answer before loading it.
pub(crate) async fn sanity(server: &Server, name: &str, flags: usize) -> Result<()> {
    let call = calls(name, flags)?[0].clone();
    let mut conn = Conn::open(server.addr).await?;
    let answer = conn
        .ok(&call)
        .await
        .with_context(|| format!("{name}: first request"))?;
    let text = answer.to_string();
    if !matches!(name, "baseline" | "info")
        && !text.contains("treatment")
        && !text.contains("control")
    {
        bail!("{name}: the answer picks no variant: {text:.300}");
    }
    Ok(())
}

impl Bench {
    /// Closed-loop maximum throughput of scenario `name` on `server`; returns requests per second.
    pub(crate) async fn closed(
        &self,
        report: &mut Report,
        server: &Server,
        name: &str,
        who: &str,
    ) -> Result<f64> {
        sanity(server, name, self.flags).await?;
        let sample = load::closed(server.addr, calls(name, self.flags)?, self.load).await?;
        let label = format!("closed, {} conn", self.load.connections);
        let mut row = Row::of(name, who, label, &sample).with_rss(server.rss().ok());
        if name == "eval-batch" || name == "ofrep-bulk" {
            row = row.note(format!("{} flags per request", self.flags));
        } else if name == "info" {
            row = row.note("GET /api/v1/info: the middleware and routing alone, for comparison");
        }
        report.push(row);
        Ok(sample.rate())
    }

    /// Open-loop run of scenario `name` at `rate` requests per second.
    pub(crate) async fn open(&self, server: &Server, name: &str, rate: f64) -> Result<Sample> {
        let load = Load {
            connections: self.open_connections,
            ..self.load
        };
        load::open(server.addr, calls(name, self.flags)?, load, rate).await
    }

    /// Evaluation at `rate` per second while `write_rate` flags per second are toggled.
    pub(crate) async fn mixed(
        &self,
        report: &mut Report,
        server: &Server,
        rate: f64,
        write_rate: f64,
    ) -> Result<()> {
        let mut conn = Conn::open(server.addr).await?;
        let ids = crate::seed::flag_ids(&mut conn, MANAGEMENT_KEY).await?;
        let toggled: Vec<i64> = ids.values().copied().skip(1).collect();
        if toggled.is_empty() {
            bail!("mixed needs at least two flags");
        }
        let span = self.load.warmup + self.load.duration;
        let writer = tokio::spawn(writes(conn, toggled, write_rate, span, self.load.warmup));
        let reads = self.open(server, "mixed", rate).await?;
        let writes = writer.await??;
        let label = format!("open, {rate:.0}/s, {} conn", self.open_connections);
        report.push(
            Row::of("mixed", "flagent", label, &reads)
                .note(format!("evaluations, during {write_rate}/s flag toggles")),
        );
        let label = format!("{write_rate}/s, 1 conn");
        let row = Row::of("mixed", "flagent", label, &writes).with_rss(server.rss().ok());
        report.push(row.note("flag toggles (PUT /flags/{id}/enabled), during the evaluations"));
        Ok(())
    }
}

/// Toggles the flags `ids` in production, `rate` per second for `span`; measures after `warmup`.
async fn writes(
    mut conn: Conn,
    ids: Vec<i64>,
    rate: f64,
    span: Duration,
    warmup: Duration,
) -> Result<Sample> {
    let mut sample = Sample::new();
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    for n in 0.. {
        tick.tick().await;
        if start.elapsed() >= span {
            break;
        }
        let id = ids[n % ids.len()];
        let enabled = (n / ids.len()) % 2 == 1;
        let call = Call::new(hyper::Method::PUT, &format!("/api/v1/flags/{id}/enabled"))
            .json(&json!({ "enabled": enabled }))
            .bearer(MANAGEMENT_KEY)
            .env("production");
        let sent = Instant::now();
        let outcome = conn.send(&call).await.map(|(s, _)| s.as_u16());
        if sent - start >= warmup {
            sample.record(sent.elapsed(), outcome.map_err(|_| ()));
        }
    }
    sample.seconds = (span - warmup).as_secs_f64();
    Ok(sample)
}
