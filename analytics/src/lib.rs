//! Measurement: what entities were served (exposures), what they did (events) and what crashed, and
//! the experiment results computed from them.
//!
//! Applications and SDKs send events and exposures (`ingest`) and crash reports (`crashes`, grouped by
//! fingerprint, each also a `$crash` event), server-side evaluations report their
//! exposures through the evaluation domain's `ExposureSink` (`recorder`), the rollup job turns new rows
//! into each exposed entity's metric values and daily sums (`rollup`), and results read only those sums
//! (`results`), with the statistics of `flagent-stats`.
//!
//! Architecture Invariant: an ingestion request is answered only after its rows are committed; raw
//! entity ids are never stored (`entity.rs`); results never scan raw events.

pub mod crashes;
mod entity;
mod error;
pub mod event_settings;
pub mod experiments;
pub mod funnel;
pub mod ingest;
mod metric_rules;
pub mod metrics;
mod recorder;
pub mod results;
pub mod retention;
pub mod rollup;
pub mod time;

pub use crashes::{CrashFilter, CrashGroup, CrashGroupDetail, CrashGroupPage, CrashReport};
pub use entity::hash_entity;
pub use error::AnalyticsError;
pub use event_settings::EventSettings;
pub use experiments::{Experiment, ExperimentChange, Role};
pub use funnel::{Funnel, FunnelQuery};
pub use ingest::{Ingested, Refusal};
pub use metrics::{Direction, Metric, MetricChange, MetricKind, NewMetric};
pub use recorder::Recorder;
pub use results::{Results, Status};
pub use retention::{Expired, RetentionLimits};
pub use rollup::Pass;

use flagent_evaluation::EvalCache;
use flagent_jobs::Clock;
use flagent_storage::Db;
use flagent_types::SystemScope;
use std::sync::Arc;

/// How the measurement layer is sized.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticsSettings {
    /// Bytes the ingest queue may hold before requests are refused with 429.
    pub queue_bytes: usize,
    /// Rows one group commit writes at most.
    pub batch_rows: usize,
    /// How long new rows wait before the rollup reads them (see `rollup`).
    pub rollup_horizon_ms: i64,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        AnalyticsSettings {
            queue_bytes: 64 << 20,
            batch_rows: 20_000,
            rollup_horizon_ms: rollup::HORIZON_MS,
        }
    }
}

/// The measurement service of one node.
pub struct Analytics {
    db: Db,
    cache: Arc<EvalCache>,
    clock: Arc<dyn Clock>,
    salts: entity::Salts,
    catalog: ingest::catalog::Catalog,
    queue: ingest::queue::Queue,
    horizon: rollup::Horizon,
    /// Held for a whole rollup pass.
    rolling: tokio::sync::Mutex<()>,
    recorder: Arc<Recorder>,
}

impl Analytics {
    /// The service over `db`, resolving flag keys in `cache`, reading time from `clock`; starts the
    /// ingest writer (call inside a tokio runtime).
    pub fn start(
        db: Db,
        cache: Arc<EvalCache>,
        clock: Arc<dyn Clock>,
        settings: AnalyticsSettings,
    ) -> Analytics {
        let queue =
            ingest::queue::Queue::start(db.clone(), settings.queue_bytes, settings.batch_rows);
        Analytics {
            db,
            cache,
            recorder: Arc::new(Recorder::new(clock.clone())),
            horizon: rollup::Horizon::new(settings.rollup_horizon_ms),
            rolling: tokio::sync::Mutex::new(()),
            clock,
            salts: entity::Salts::default(),
            catalog: ingest::catalog::Catalog::default(),
            queue,
        }
    }

    /// Where server-side evaluations report their exposures.
    pub fn exposure_sink(&self) -> Arc<dyn flagent_evaluation::ExposureSink> {
        self.recorder.clone()
    }

    /// Writes the server-side exposures recorded since the last flush (the `exposure-flush` job);
    /// returns how many were new.
    pub async fn flush_exposures(&self, system: &SystemScope) -> Result<u64, AnalyticsError> {
        Ok(self.recorder.flush(&self.db, &self.salts, system).await?)
    }

    /// Server-side exposures dropped because the recorder was full, since start.
    pub fn dropped_exposures(&self) -> u64 {
        self.recorder.dropped()
    }

    /// Now, by the service's clock (epoch ms).
    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Bytes free in the ingest queue.
    pub fn queue_room(&self) -> usize {
        self.queue.room()
    }
}
