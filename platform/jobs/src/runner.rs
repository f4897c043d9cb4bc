//! Runs the jobs: one task per job, a lease check before each run of a one-node job, logs and metrics
//! around every run, and a shutdown that waits for the runs in progress.

use crate::{Clock, Job, Outcome, SystemClock};
use flagent_storage::Db;
use flagent_telemetry::Metrics;
use flagent_types::SystemScope;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// What one attempt to run a job came to.
#[derive(Debug)]
pub enum Pass {
    /// The job ran.
    Ran(Outcome),
    /// Another node holds the job's lease; this node did not run it.
    Skipped,
    /// The run, or taking its lease, failed.
    Failed(anyhow::Error),
}

/// The jobs of one node, before they start.
pub struct Runner {
    shared: Arc<Shared>,
    jobs: Vec<Arc<dyn Job>>,
}

/// What every job's task reads.
struct Shared {
    /// This node's name in the lease table.
    node: String,
    clock: Arc<dyn Clock>,
    leases: Option<(Db, SystemScope)>,
    metrics: Option<Metrics>,
}

impl Runner {
    /// A runner for the node called `node` (unique among the nodes sharing a database), on the system
    /// clock, with no lease store and no metrics yet.
    pub fn new(node: impl Into<String>) -> Runner {
        Runner {
            shared: Arc::new(Shared {
                node: node.into(),
                clock: Arc::new(SystemClock),
                leases: None,
                metrics: None,
            }),
            jobs: Vec::new(),
        }
    }

    fn shared_mut(&mut self) -> &mut Shared {
        Arc::get_mut(&mut self.shared).expect("configured before it starts")
    }

    /// Reads lease times from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Runner {
        self.shared_mut().clock = clock;
        self
    }

    /// Keeps one-node jobs' leases in `db`'s `job_leases`.
    pub fn with_leases(mut self, db: Db, system: SystemScope) -> Runner {
        self.shared_mut().leases = Some((db, system));
        self
    }

    /// Counts runs in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Runner {
        self.shared_mut().metrics = Some(metrics);
        self
    }

    /// Adds `job`.
    pub fn add(&mut self, job: impl Job) {
        self.jobs.push(Arc::new(job));
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// Runs `job` once now, as its task would at a tick: taking its lease first if it has one.
    pub async fn run_once(&self, job: &dyn Job) -> Pass {
        self.shared.run_once(job).await
    }

    /// Starts one task per job.
    pub fn start(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let tasks = self
            .jobs
            .iter()
            .map(|job| {
                let span = tracing::info_span!("job", job = job.name());
                let task = drive(self.shared.clone(), job.clone(), stopped.clone());
                tokio::spawn(task.instrument(span))
            })
            .collect();
        Running {
            shared: self.shared,
            jobs: self.jobs,
            stop,
            tasks,
        }
    }
}

/// The started jobs. Dropping it stops them at their next tick; [`Running::shutdown`] also waits.
pub struct Running {
    shared: Arc<Shared>,
    jobs: Vec<Arc<dyn Job>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops every job: lets the runs in progress finish, runs the jobs marked to run at shutdown
    /// once more, and gives up this node's leases.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::warn!(%error, "a job's task ended abnormally");
            }
        }
        for job in &self.jobs {
            let schedule = job.schedule();
            if schedule.at_shutdown {
                let span = tracing::info_span!("job", job = job.name());
                let pass = self.shared.run_once(job.as_ref()).instrument(span).await;
                if let Pass::Failed(error) = pass {
                    tracing::warn!(
                        job = job.name(),
                        error = format!("{error:#}"),
                        "the run at shutdown failed"
                    );
                }
            }
            if schedule.lease.is_some() {
                self.shared.release(job.name()).await;
            }
        }
    }
}

impl Shared {
    async fn run_once(&self, job: &dyn Job) -> Pass {
        let Some(lease) = job.schedule().lease else {
            return self.run(job).await;
        };
        match self.take_lease(job.name(), lease).await {
            Ok(true) => self.run(job).await,
            Ok(false) => {
                self.count(job.name(), "skipped");
                Pass::Skipped
            }
            Err(error) => {
                self.count(job.name(), "failed");
                Pass::Failed(error.context("take the job's lease"))
            }
        }
    }

    async fn take_lease(&self, name: &str, lease: Duration) -> anyhow::Result<bool> {
        let Some((db, system)) = &self.leases else {
            anyhow::bail!("{name} runs on one node at a time, and this runner has no lease store");
        };
        let now = self.clock.now_millis();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        Ok(db
            .system(system)
            .take_lease(name, &self.node, now, until)
            .await?)
    }

    async fn release(&self, name: &str) {
        if let Some((db, system)) = &self.leases
            && let Err(error) = db.system(system).release_lease(name, &self.node).await
        {
            tracing::warn!(job = name, %error, "could not give up the job's lease; it runs out on its own");
        }
    }

    /// Runs `job` (its lease, if any, already held), timing and counting the run.
    async fn run(&self, job: &dyn Job) -> Pass {
        let started = Instant::now();
        let result = job.run().await;
        let elapsed = started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics
                .job_duration
                .with_label_values(&[job.name()])
                .observe(elapsed.as_secs_f64());
        }
        match result {
            Ok(outcome) => {
                self.count(job.name(), "ok");
                if let Outcome::Ran(items) = outcome {
                    tracing::debug!(items, elapsed_ms = elapsed.as_millis() as u64, "job ran");
                }
                Pass::Ran(outcome)
            }
            Err(error) => {
                self.count(job.name(), "failed");
                Pass::Failed(error)
            }
        }
    }

    fn count(&self, job: &str, outcome: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.job_runs.with_label_values(&[job, outcome]).inc();
        }
    }
}

/// One job's task: a run at each tick until the runner stops or the job finishes.
async fn drive(shared: Arc<Shared>, job: Arc<dyn Job>, mut stop: watch::Receiver<bool>) {
    let schedule = job.schedule();
    let first = tokio::time::Instant::now() + schedule.first;
    let mut ticks = tokio::time::interval_at(first, schedule.every.max(Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
            _ = ticks.tick() => {}
        }
        match shared.run_once(job.as_ref()).await {
            Pass::Ran(outcome) => {
                if failing {
                    failing = false;
                    tracing::info!("the job works again");
                }
                if outcome == Outcome::Finished {
                    tracing::info!("the job finished");
                    return;
                }
            }
            Pass::Skipped => tracing::trace!("another node holds the job's lease"),
            Pass::Failed(error) if !failing => {
                failing = true;
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the job failed; it runs again at its next tick"
                );
            }
            Pass::Failed(_) => {}
        }
    }
}
