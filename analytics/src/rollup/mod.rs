//! The rollup (the `analytics-rollup` job): turns new exposures and events into each exposed entity's
//! metric values (`metric_entities`) and the daily sums results read (`exposure_daily`,
//! `metric_daily`), in one system transaction per pass that also moves the two cursors.
//!
//! Each (exposure, event) pair is counted exactly once: a pass first adds its new exposures with the
//! events already rolled up (those up to the old event cursor), then its new events with every
//! exposure up to the new exposure cursor.
//! Invariant: a pass reads only rows below its horizon (the newest ids seen at least the horizon's
//! length ago, [`HORIZON_MS`] by default), so a row whose transaction committed after a later id's
//! is not passed over.

mod fold;
mod pass;
pub(crate) mod values;

/// Ids per `IN (…)` list.
const RULE_CHUNK: usize = 1_000;

use crate::{Analytics, AnalyticsError};
use flagent_types::SystemScope;
use std::collections::VecDeque;
use std::sync::Mutex;

/// How long ids must have existed before a pass reads up to them, by default: far longer than an
/// ingest transaction stays open.
pub const HORIZON_MS: i64 = 10_000;

/// What one pass rolled up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// New exposures added.
    pub exposures: usize,
    /// New events added.
    pub events: usize,
    /// Another pass moved the cursors first, so this one wrote nothing; the next pass goes on from
    /// where that one left them.
    pub raced: bool,
}

/// The newest ids this node saw, and when: where the horizon stands.
pub(crate) struct Horizon {
    length: i64,
    state: Mutex<Marks>,
}

#[derive(Default)]
struct Marks {
    /// (when, newest ids then), oldest first.
    seen: VecDeque<(i64, (i64, i64))>,
    /// The newest ids seen at least the horizon ago.
    safe: (i64, i64),
}

impl Horizon {
    /// A horizon `length` milliseconds long.
    pub(crate) fn new(length: i64) -> Horizon {
        Horizon {
            length: length.max(0),
            state: Mutex::default(),
        }
    }

    /// Notes that `newest` were the newest ids at `now`; returns the newest ids seen at least the
    /// horizon's length before `now` ((0, 0) before any).
    pub(crate) fn safe(&self, now: i64, newest: (i64, i64)) -> (i64, i64) {
        let mut marks = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if marks.seen.back().is_none_or(|&(_, ids)| ids != newest) {
            marks.seen.push_back((now, newest));
        }
        while let Some(&(at, ids)) = marks.seen.front() {
            if at > now - self.length {
                break;
            }
            marks.safe = ids;
            marks.seen.pop_front();
        }
        marks.safe
    }
}

impl Analytics {
    /// Rolls up at most `limit` new exposures and `limit` new events below the horizon; run it until
    /// it returns an empty [`Pass`] to catch up. Passes of one node run one at a time (the job's lease
    /// keeps other nodes out; the cursors' compare-and-set catches anything else).
    #[tracing::instrument(skip_all)]
    pub async fn rollup(&self, system: &SystemScope, limit: u64) -> Result<Pass, AnalyticsError> {
        let _rolling = self.rolling.lock().await;
        pass::run(self, system, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_trails_the_newest_ids_by_its_length() {
        let horizon = Horizon::new(HORIZON_MS);
        assert_eq!(horizon.safe(0, (5, 7)), (0, 0));
        assert_eq!(horizon.safe(HORIZON_MS - 1, (6, 9)), (0, 0));
        assert_eq!(horizon.safe(HORIZON_MS, (8, 9)), (5, 7));
        // Still (5, 7) until (6, 9) is old enough.
        assert_eq!(horizon.safe(HORIZON_MS + 1, (8, 9)), (5, 7));
        assert_eq!(horizon.safe(2 * HORIZON_MS - 1, (8, 9)), (6, 9));
        assert_eq!(horizon.safe(3 * HORIZON_MS, (8, 9)), (8, 9));
    }

    #[test]
    fn a_horizon_of_zero_reads_up_to_the_newest_ids() {
        let horizon = Horizon::new(0);
        assert_eq!(horizon.safe(5, (3, 4)), (3, 4));
        assert_eq!(horizon.safe(5, (6, 4)), (6, 4));
    }
}
