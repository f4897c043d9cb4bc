//! Telemetry: the tracing subscriber (installed once), the request root span, and Prometheus metrics.
//!
//! Invariant: errors are logged once, by the root span when the response carries one; handlers and
//! services never log and then return an error.

mod metrics;
mod span;

pub use metrics::Metrics;
pub use span::{RootSpan, route_pattern};

use std::sync::Once;
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

static INIT: Once = Once::new();

/// Installs the global subscriber (filter from `RUST_LOG`, default `info,sqlx=warn,sea_orm=warn`).
/// Later calls do nothing.
pub fn init(format: Format) {
    INIT.call_once(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn")
        });
        let registry = tracing_subscriber::registry().with(filter);
        let _ = match format {
            Format::Json => registry
                .with(fmt::layer().json().with_current_span(false))
                .try_init(),
            Format::Pretty => registry.with(fmt::layer().compact()).try_init(),
        };
    });
}
