//! The job runner: every piece of background work (flushing counters, relaying mail, rebuilding the
//! role policy, keeping the local copy, and the webhook deliveries, releases, retention and billing
//! reconciliation to come) is a [`Job`] with a name and a [`Schedule`], run by one [`Runner`] per node.
//!
//! - A job that must run on one node at a time ([`Schedule::on_one_node`]) runs only while its node
//!   holds the job's lease in the database (`job_leases`), taken or renewed before each run with one
//!   conditional `UPDATE`; a node that stops renewing loses it when the lease runs out, and a node
//!   that shuts down gives it up at once.
//! - Every run is logged in a `job` span and counted in `flagent_job_runs_total{job,outcome}` and
//!   `flagent_job_duration_seconds{job}`; a failing job warns once, and says when it works again.
//! - [`Running::shutdown`] lets each job finish the run it is in (never cutting one off between
//!   taking work and recording it), then runs the jobs marked [`Schedule::and_at_shutdown`] once more.
//!
//! Time comes from a [`Clock`] (leases, so tests move it by hand) and tokio's timer (intervals, so
//! tests pause and advance it); nothing here sleeps on the wall clock.

mod clock;
mod runner;

pub use clock::{Clock, ManualClock, SystemClock};
pub use runner::{Pass, Runner, Running};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run handled this many items (messages, counters, keys…); 0 when there was nothing to do.
    Ran(usize),
    /// The job's work is over for this process (a recovery that succeeded): it is not run again.
    Finished,
}

/// The future of one run.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send + 'a>>;

/// A piece of background work.
pub trait Job: Send + Sync + 'static {
    /// Its name, in logs, metrics and the lease table: lower case with dashes (`mail-relay`).
    fn name(&self) -> &'static str;
    /// When it runs.
    fn schedule(&self) -> Schedule;
    /// One run. An error is logged and counted; the job runs again at its next tick.
    fn run(&self) -> RunFuture<'_>;
}

/// When a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Time between the starts of two runs (a run longer than this delays the next one).
    pub every: Duration,
    /// Time from the runner's start to the first run.
    pub first: Duration,
    /// Set when the job runs on one node at a time: how long a lease lasts without renewal.
    pub lease: Option<Duration>,
    /// Whether the job runs once more when the runner shuts down.
    pub at_shutdown: bool,
}

impl Schedule {
    /// Every `every`, the first time one interval after the start, on every node.
    pub fn every(every: Duration) -> Schedule {
        Schedule {
            every,
            first: every,
            lease: None,
            at_shutdown: false,
        }
    }

    /// The first run at the runner's start.
    pub fn starting_now(self) -> Schedule {
        Schedule {
            first: Duration::ZERO,
            ..self
        }
    }

    /// On one node at a time, holding a lease of `lease` (longer than a run may take, and than the
    /// interval, so the holder renews it before it runs out).
    pub fn on_one_node(self, lease: Duration) -> Schedule {
        Schedule {
            lease: Some(lease),
            ..self
        }
    }

    /// Once more at shutdown, after the last scheduled run.
    pub fn and_at_shutdown(self) -> Schedule {
        Schedule {
            at_shutdown: true,
            ..self
        }
    }
}

/// A shared job (the composition root keeps a handle to call it directly too).
impl<J: Job> Job for std::sync::Arc<J> {
    fn name(&self) -> &'static str {
        J::name(self)
    }

    fn schedule(&self) -> Schedule {
        J::schedule(self)
    }

    fn run(&self) -> RunFuture<'_> {
        J::run(self)
    }
}
