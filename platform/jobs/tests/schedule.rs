//! The runner's schedule and shutdown, on tokio's paused clock: intervals, a job that finishes, a
//! failing job that keeps its schedule, and a shutdown that waits for the run in progress.

use flagent_jobs::{Job, Outcome, Pass, RunFuture, Runner, Schedule};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Counts its runs; `finish_after` runs end its work; `fail` makes every run fail.
struct Counting {
    name: &'static str,
    schedule: Schedule,
    runs: Arc<AtomicUsize>,
    finish_after: Option<usize>,
    fail: bool,
}

impl Counting {
    fn new(name: &'static str, schedule: Schedule) -> (Counting, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let job = Counting {
            name,
            schedule,
            runs: runs.clone(),
            finish_after: None,
            fail: false,
        };
        (job, runs)
    }
}

impl Job for Counting {
    fn name(&self) -> &'static str {
        self.name
    }
    fn schedule(&self) -> Schedule {
        self.schedule
    }
    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            let done = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            anyhow::ensure!(!self.fail, "this job always fails");
            Ok(match self.finish_after {
                Some(n) if done >= n => Outcome::Finished,
                _ => Outcome::Ran(1),
            })
        })
    }
}

/// Lets the runtime's tasks run until none can make progress (the paused clock does not move).
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_runs_once_per_interval_starting_one_interval_after_the_start() {
    let (job, runs) = Counting::new("counting", Schedule::every(Duration::from_secs(10)));
    let (eager, eager_runs) = Counting::new(
        "eager",
        Schedule::every(Duration::from_secs(10)).starting_now(),
    );
    let mut runner = Runner::new("node-a");
    runner.add(job);
    runner.add(eager);
    let running = runner.start();
    settle().await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "not before its first interval"
    );
    assert_eq!(
        eager_runs.load(Ordering::SeqCst),
        1,
        "starting_now runs at the start"
    );

    tokio::time::advance(Duration::from_secs(10)).await;
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(eager_runs.load(Ordering::SeqCst), 2);

    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(5)).await;
        settle().await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3, "at 10 s, 20 s and 30 s");
    running.shutdown().await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "not marked to run at shutdown"
    );
}

#[tokio::test(start_paused = true)]
async fn a_finished_job_is_not_run_again_and_a_failing_one_keeps_its_schedule() {
    let (mut finishing, finishing_runs) = Counting::new(
        "finishing",
        Schedule::every(Duration::from_secs(1)).starting_now(),
    );
    finishing.finish_after = Some(2);
    let (mut failing, failing_runs) = Counting::new(
        "failing",
        Schedule::every(Duration::from_secs(1)).starting_now(),
    );
    failing.fail = true;
    let mut runner = Runner::new("node-a");
    runner.add(finishing);
    runner.add(failing);
    let running = runner.start();
    for _ in 0..5 {
        settle().await;
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    settle().await;
    assert_eq!(finishing_runs.load(Ordering::SeqCst), 2);
    assert_eq!(failing_runs.load(Ordering::SeqCst), 6, "at 0 s … 5 s");
    running.shutdown().await;
}

/// Waits for a permit in each run, so the test decides when a run ends.
struct Gated {
    gate: Arc<Semaphore>,
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
}

impl Job for Gated {
    fn name(&self) -> &'static str {
        "gated"
    }
    fn schedule(&self) -> Schedule {
        Schedule::every(Duration::from_secs(10))
            .starting_now()
            .and_at_shutdown()
    }
    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            self.started.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await?.forget();
            self.finished.fetch_add(1, Ordering::SeqCst);
            Ok(Outcome::Ran(1))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_the_run_in_progress_finish_then_runs_the_job_once_more() {
    let gate = Arc::new(Semaphore::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let mut runner = Runner::new("node-a");
    runner.add(Gated {
        gate: gate.clone(),
        started: started.clone(),
        finished: finished.clone(),
    });
    let running = runner.start();
    settle().await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "the first run is waiting"
    );

    let shutdown = tokio::spawn(running.shutdown());
    settle().await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the run in progress"
    );
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "and does not cut it off"
    );

    gate.add_permits(1);
    settle().await;
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "the run at shutdown began"
    );
    assert!(!shutdown.is_finished());

    gate.add_permits(1);
    shutdown.await.expect("shutdown");
    assert_eq!(finished.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_one_node_job_without_a_lease_store_is_refused_not_run() {
    let (job, runs) = Counting::new(
        "exclusive",
        Schedule::every(Duration::from_secs(1)).on_one_node(Duration::from_secs(5)),
    );
    let runner = Runner::new("node-a");
    let pass = runner.run_once(&job).await;
    assert!(matches!(pass, Pass::Failed(_)), "{pass:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}
