//! `flagent-load`: load tests of a Flagent server, with a minimal actix-web JSON endpoint measured the
//! same way in the same run as the baseline.
//!
//! `flagent-load all` starts the release `flagent` binary (next to this one, or `--server-bin`) on a fresh
//! SQLite database, seeds it through the HTTP API and runs every scenario; `flagent-load <scenario>`
//! runs one. The tool builds nothing: build both binaries first (`docs/benchmarks.md`).

mod baseline;
mod http;
mod load;
mod pages;
mod report;
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
