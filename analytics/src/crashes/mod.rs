//! Crash reports: `POST /api/v1/crashes` (any key of an environment) reads reports item by item
//! (`report.rs`), fingerprints them (`fingerprint.rs`) and commits them through the ingest queue with
//! their groups, per-variant counts and one `$crash` event each, which the rollup turns into the
//! built-in `crash_rate` metric; `GET /api/v1/crashes…` lists an environment's groups (`views.rs`),
//! and the admin UI shows a group's crashes per exposed entity of each flag variant (`rates.rs`).
//!
//! Invariant: like events, a request malformed as a whole changes nothing, the accepted reports are
//! committed (in one transaction with their events) before the answer, and entity ids are hashed
//! before anything is queued.

pub mod fingerprint;
mod rates;
mod report;
mod views;

pub use fingerprint::{Fingerprint, Frame};
pub use rates::{CrashRates, FlagCrashRates, MAX_RATE_FLAGS, VariantCrashRate};
pub use report::{
    MAX_CRASHES, MAX_ERROR_TYPE_BYTES, MAX_FLAGS, MAX_FRAME_TEXT_BYTES, MAX_FRAMES,
    MAX_MESSAGE_BYTES, MAX_PLATFORM_BYTES,
};
pub use views::{
    CrashFilter, CrashGroup, CrashGroupDetail, CrashGroupPage, CrashReport, CrashVariant,
    DEFAULT_GROUPS, MAX_GROUPS, RECENT_CRASHES,
};

use crate::entity::{Door, hash_entity};
use crate::ingest::Ingested;
use crate::ingest::queue::Rows;
use crate::ingest::validate::items_up_to;
use crate::metrics::BUILT_IN_CRASH_EVENT;
use crate::{Analytics, AnalyticsError};
use flagent_storage::NewCrash;
use flagent_storage::entities::event;
use flagent_types::{TenantScope, perm};
use report::Report;
use serde_json::Value;

impl Analytics {
    /// Checks and commits a batch of crash reports (at most 100) in the caller's environment; each
    /// accepted report joins (or starts) the group of its fingerprint.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn ingest_crashes(
        &self,
        scope: &TenantScope,
        body: &Value,
    ) -> Result<Ingested, AnalyticsError> {
        scope.require::<perm::Client>()?;
        let items = items_up_to(body, "crashes", MAX_CRASHES)?;
        let salt = self.salts.of(&self.db, Door::Scope(scope)).await?;
        let now = self.clock.now_millis();
        let environment = scope.environment_id().0;
        let mut rows = Rows::default();
        let mut rejected = Vec::new();
        for (index, value) in items.iter().enumerate() {
            match report::read(index, value, now) {
                Ok(report) => {
                    let crash = recorded(environment, &salt, report, now)?;
                    rows.events.push(crash_event(&crash));
                    rows.crashes.push(crash);
                }
                Err(refusal) => rejected.push(refusal),
            }
        }
        let accepted = rows.crashes.len();
        self.commit(scope, rows).await?;
        Ok(Ingested { accepted, rejected })
    }
}

/// The stored form of `report`, received at `now` in `environment`.
fn recorded(
    environment: i64,
    salt: &str,
    report: Report<'_>,
    now: i64,
) -> Result<NewCrash, AnalyticsError> {
    let pairs: Vec<(&str, &str)> = report.frames.iter().map(|f| (f.function, f.file)).collect();
    let print = fingerprint::fingerprint(report.error_type, &pairs);
    Ok(NewCrash {
        environment_id: environment,
        fingerprint: print.hash,
        platform: report.platform.to_owned(),
        error_type: report.error_type.trim().to_owned(),
        message: report.message,
        top_frames: json(&print.frames)?,
        app_version: report.app_version.to_owned(),
        frames: json(&report.frames)?,
        flags: report
            .flags
            .iter()
            .map(|(flag, variant)| ((*flag).to_owned(), (*variant).to_owned()))
            .collect(),
        entity: hash_entity(salt, report.entity),
        occurred_at: report.timestamp,
        received_at: now,
    })
}

/// `value` as JSON text.
fn json(value: &impl serde::Serialize) -> Result<String, AnalyticsError> {
    serde_json::to_string(value).map_err(|err| AnalyticsError::Unexpected(err.into()))
}

/// The `$crash` event a report counts as, for the built-in crash rate.
fn crash_event(crash: &NewCrash) -> event::Model {
    event::Model {
        id: 0,
        tenant_id: 0,
        environment_id: crash.environment_id,
        event_key: BUILT_IN_CRASH_EVENT.to_owned(),
        entity: crash.entity,
        occurred_at: crash.occurred_at,
        value: None,
        properties: None,
        received_at: crash.received_at,
    }
}
