//! `flagent-load`: load tests of a Flagent server, with a minimal actix-web JSON endpoint measured the
//! same way in the same run as the baseline.
//!
//! `flagent-load all` starts the release `flagent` binary (next to this one, or `--server-bin`) on a fresh
//! SQLite database, seeds it through the HTTP API and runs every scenario; `flagent-load <scenario>`
//! runs one. The tool builds nothing: build both binaries first (`docs/benchmarks.md`).

mod baseline;
mod http;
mod ingest;
mod load;
mod pages;
mod report;
mod results;
mod run;
mod scenarios;
mod seed;
mod server;
mod signin;
mod sse;
mod tenants;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "flagent-load",
    about = "Load tests of a Flagent server against a baseline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    options: Options,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Every scenario below, with the targets checked.
    All,
    /// The baseline endpoint alone: maximum throughput and latency at half of it.
    Baseline,
    /// POST /api/v1/evaluation: maximum throughput and latency at half of it.
    EvalSingle,
    /// POST /api/v1/evaluation/batch (one entity, every seeded flag).
    EvalBatch,
    /// POST /ofrep/v1/evaluate/flags/{key}.
    OfrepSingle,
    /// POST /ofrep/v1/evaluate/flags (every seeded flag).
    OfrepBulk,
    /// Thousands of idle GET /api/v1/stream connections, then one flag change.
    SseFanout,
    /// Evaluation at a constant rate while flags are toggled.
    Mixed,
    /// Evaluation at a constant rate (`--rate`, default 2,000/s) alone and during sign-ins.
    SigninBurst,
    /// Many tenants with many flags in one server: memory.
    TenantsScale,
    /// Each admin UI page's server time with many flags in the project (`--ui-flags`).
    UiPages,
    /// POST /api/v1/events in batches (`--batch`) at full speed, with evaluation at `--rate`
    /// (default 2,000/s) alone and during it.
    Ingest,
    /// More events than the ingest queue holds (`--queue-bytes`): 429s and the server's memory.
    IngestOverload,
    /// A flag's results over `--events` events of `--entities` entities (3 variants, 5 metrics),
    /// seeded through the API and rolled up by the server.
    ResultsScale,
    /// Serves the baseline endpoint (started by the tool itself).
    #[command(hide = true)]
    BaselineServer {
        #[arg(long)]
        port: u16,
    },
}

#[derive(clap::Args, Clone)]
pub(crate) struct Options {
    /// The flagent binary (default: `flagent` next to this program).
    #[arg(long, global = true)]
    pub(crate) server_bin: Option<PathBuf>,
    /// Measured seconds per run.
    #[arg(long, global = true, default_value_t = 10)]
    pub(crate) duration: u64,
    /// Warm-up seconds before each run (not measured).
    #[arg(long, global = true, default_value_t = 3)]
    pub(crate) warmup: u64,
    /// Connections of the closed-loop (maximum throughput) runs.
    #[arg(long, global = true, default_value_t = 64)]
    pub(crate) connections: usize,
    /// Connections of the open-loop (constant rate) runs.
    #[arg(long, global = true, default_value_t = 64)]
    pub(crate) open_connections: usize,
    /// Open-loop rate, requests per second (default: half of the closed-loop maximum).
    #[arg(long, global = true)]
    pub(crate) rate: Option<f64>,
    /// Server worker threads, the same for Flagent and the baseline (0: one per core).
    #[arg(long, global = true, default_value_t = 0)]
    pub(crate) workers: usize,
    /// Threads of the load generator's runtime (0: one per core).
    #[arg(long, global = true, default_value_t = 0)]
    pub(crate) client_threads: usize,
    /// Flags seeded in the default tenant.
    #[arg(long, global = true, default_value_t = 100)]
    pub(crate) flags: usize,
    /// Open streams of `sse-fanout`.
    #[arg(long, global = true, default_value_t = 10_000)]
    pub(crate) streams: usize,
    /// Flag toggles per second of `mixed`.
    #[arg(long, global = true, default_value_t = 20.0)]
    pub(crate) write_rate: f64,
    /// Sign-ins per second of `signin-burst`.
    #[arg(long, global = true, default_value_t = 20.0)]
    pub(crate) signin_rate: f64,
    /// Tenants of `tenants-scale`.
    #[arg(long, global = true, default_value_t = 1000)]
    pub(crate) tenants: usize,
    /// Flags per tenant of `tenants-scale`.
    #[arg(long, global = true, default_value_t = 100)]
    pub(crate) flags_per_tenant: usize,
    /// Flags in the project of `ui-pages`.
    #[arg(long, global = true, default_value_t = 1000)]
    pub(crate) ui_flags: usize,
    /// The empty database Flagent runs on (`postgres://…/<fresh db>`; default: a fresh SQLite file).
    #[arg(long, global = true)]
    pub(crate) database_url: Option<String>,
    /// Connections posting events in `ingest` and `ingest-overload`.
    #[arg(long, global = true, default_value_t = 16)]
    pub(crate) ingest_connections: usize,
    /// Events per request of `ingest` and `ingest-overload`.
    #[arg(long, global = true, default_value_t = 100)]
    pub(crate) batch: usize,
    /// The ingest queue's size in bytes in `ingest-overload` (`analytics.queue_bytes`).
    #[arg(long, global = true, default_value_t = 262_144)]
    pub(crate) queue_bytes: usize,
    /// Events of `results-scale`.
    #[arg(long, global = true, default_value_t = 1_000_000)]
    pub(crate) events: usize,
    /// Entities of `results-scale`.
    #[arg(long, global = true, default_value_t = 100_000)]
    pub(crate) entities: usize,
    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let workers = match cli.options.workers {
        0 => cores(),
        n => n,
    };
    if let Command::BaselineServer { port } = cli.command {
        return baseline::serve(port, workers);
    }
    // Thousands of streams need as many descriptors, here and in the server (which inherits the limit).
    rlimit::increase_nofile_limit(u64::MAX).context("raise the open-files limit")?;
    let threads = match cli.options.client_threads {
        0 => cores(),
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let json = cli.options.json;
    let report = runtime.block_on(run::run(cli.command, cli.options, workers))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.table());
    }
    Ok(())
}
