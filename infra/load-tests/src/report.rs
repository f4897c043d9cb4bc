//! The report: one row per measurement (throughput, latency percentiles, errors, server memory, the
//! machine's load average when it ended), the targets with met or missed, printed as a table or JSON.

use crate::load::Sample;
use crate::server::Rss;
use serde::Serialize;
use std::collections::BTreeMap;

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Row {
    /// The scenario (`eval-single`, …).
    pub(crate) scenario: String,
    /// `flagent` or `baseline`.
    pub(crate) server: String,
    /// `closed 64 conn`, `open 5000/s`, …
    pub(crate) load: String,
    /// Requests measured.
    pub(crate) requests: u64,
    /// Requests per second.
    pub(crate) rps: f64,
    /// Latency percentiles and maximum, in milliseconds.
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// Failed requests by kind.
    pub(crate) errors: BTreeMap<String, u64>,
    /// The server's memory after the measurement.
    pub(crate) rss: Option<Rss>,
    /// The 1-minute load average when the measurement ended.
    pub(crate) load_avg: f64,
    /// Anything else worth saying.
    pub(crate) note: String,
}

impl Row {
    /// A row from a sample.
    pub(crate) fn of(scenario: &str, server: &str, load: String, sample: &Sample) -> Row {
        Row {
            scenario: scenario.to_owned(),
            server: server.to_owned(),
            load,
            requests: sample.requests,
            rps: sample.rate(),
            p50_ms: sample.ms(50.0),
            p95_ms: sample.ms(95.0),
            p99_ms: sample.ms(99.0),
            max_ms: sample.max_ms(),
            errors: sample.errors.clone(),
            rss: None,
            load_avg: load_average(),
            note: String::new(),
        }
    }

    /// The same row with the server's memory.
    pub(crate) fn with_rss(mut self, rss: Option<Rss>) -> Row {
        self.rss = rss;
        self
    }

    /// The same row with a note.
    pub(crate) fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
}

/// A target and whether it was met.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) target: String,
    pub(crate) measured: String,
    pub(crate) met: bool,
}

/// The whole run.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) machine: BTreeMap<String, String>,
    pub(crate) rows: Vec<Row>,
    pub(crate) checks: Vec<Check>,
}

impl Report {
    /// Adds a row and prints it at once on stderr, so a long run shows progress.
    pub(crate) fn push(&mut self, row: Row) {
        eprintln!("  {}", line(&row));
        self.rows.push(row);
    }

    /// Adds a target check.
    pub(crate) fn check(&mut self, target: &str, measured: String, met: bool) {
        self.checks.push(Check {
            target: target.to_owned(),
            measured,
            met,
        });
    }

    /// The report as a Markdown table.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.machine {
            out.push_str(&format!("{k}: {v}\n"));
        }
        out.push_str("\n| scenario | server | load | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | RSS MiB (peak) | load avg | note |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", line(row)));
        }
        if !self.checks.is_empty() {
            out.push_str("\n| target | measured | met |\n|---|---|---|\n");
            for c in &self.checks {
                let met = if c.met { "met" } else { "missed" };
                out.push_str(&format!("| {} | {} | {met} |\n", c.target, c.measured));
            }
        }
        out
    }
}

fn line(row: &Row) -> String {
    let errors = if row.errors.is_empty() {
        "0".to_owned()
    } else {
        let parts: Vec<String> = row
            .errors
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        parts.join(", ")
    };
    let rss = row.rss.map_or("-".to_owned(), |r| {
        format!("{:.1} ({:.1})", r.rss_mib, r.hwm_mib)
    });
    format!(
        "{} | {} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {:.2} | {}",
        row.scenario,
        row.server,
        row.load,
        row.requests,
        row.rps,
        row.p50_ms,
        row.p95_ms,
        row.p99_ms,
        row.max_ms,
        errors,
        rss,
        row.load_avg,
        row.note
    )
}

/// The 1-minute load average.
pub(crate) fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The machine: CPU model, cores, kernel.
pub(crate) fn machine() -> BTreeMap<String, String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|s| s.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    BTreeMap::from([
        ("cpu".to_owned(), model),
        ("cores".to_owned(), cores.to_string()),
        ("kernel".to_owned(), kernel.trim().to_owned()),
        (
            "load average at start".to_owned(),
            format!("{:.2}", load_average()),
        ),
    ])
}
