//! One-node jobs against the real database (the backend `DATABASE_URL` names): two runners sharing it
//! never run the job at the same time; the lease passes on when its holder stops renewing it or shuts
//! down; runs and skips are counted in the metrics.

use flagent_jobs::{Clock, Job, ManualClock, Outcome, Pass, RunFuture, Runner, Schedule};
use flagent_telemetry::Metrics;
use flagent_testkit::{TwoTenants, system};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

/// Counts its runs per node.
#[derive(Clone)]
struct Exclusive {
    runs: Arc<AtomicUsize>,
}

impl Job for Exclusive {
    fn name(&self) -> &'static str {
        "exclusive-test"
    }
    fn schedule(&self) -> Schedule {
        Schedule::every(Duration::from_secs(2)).on_one_node(LEASE)
    }
    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Ok(Outcome::Ran(1))
        })
    }
}

struct Node {
    runner: Runner,
    job: Exclusive,
}

fn node(name: &str, fixture: &TwoTenants, clock: &Arc<ManualClock>, metrics: &Metrics) -> Node {
    let mut runner = Runner::new(name)
        .with_clock(clock.clone())
        .with_leases(fixture.db.clone(), system("job leases test"))
        .with_metrics(metrics.clone());
    let job = Exclusive {
        runs: Arc::new(AtomicUsize::new(0)),
    };
    runner.add(job.clone());
    Node { runner, job }
}

impl Node {
    async fn tick(&self) -> Pass {
        self.runner.run_once(&self.job).await
    }
    fn runs(&self) -> usize {
        self.job.runs.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn two_nodes_never_hold_a_one_node_job_at_once_and_the_lease_passes_on_expiry() {
    let fixture = TwoTenants::new().await;
    let clock = Arc::new(ManualClock::at(1_000_000));
    let metrics = Metrics::new().unwrap();
    let (a, b) = (
        node("node-a", &fixture, &clock, &metrics),
        node("node-b", &fixture, &clock, &metrics),
    );

    assert!(matches!(a.tick().await, Pass::Ran(Outcome::Ran(1))));
    assert!(matches!(b.tick().await, Pass::Skipped));
    // The holder renews at each tick, so the other node never gets in while it keeps running.
    for _ in 0..20 {
        clock.advance(Duration::from_secs(2));
        assert!(matches!(a.tick().await, Pass::Ran(_)));
        assert!(matches!(b.tick().await, Pass::Skipped));
    }
    assert_eq!((a.runs(), b.runs()), (21, 0));

    // Node A stops (a crash: no release). Until its last lease runs out, B still waits.
    clock.advance(LEASE);
    assert!(
        matches!(b.tick().await, Pass::Skipped),
        "the lease lasts its full length"
    );
    clock.advance(Duration::from_millis(1));
    assert!(matches!(b.tick().await, Pass::Ran(_)), "then B takes it");
    assert!(
        matches!(a.tick().await, Pass::Skipped),
        "and A, back, waits"
    );
    assert_eq!((a.runs(), b.runs()), (21, 1));

    let holder = fixture
        .db
        .system(&system("job leases test"))
        .lease_holder("exclusive-test", clock.now_millis())
        .await
        .unwrap();
    assert_eq!(holder.as_deref(), Some("node-b"));

    let counted = |node: &str| {
        metrics
            .job_runs
            .with_label_values(&["exclusive-test", node])
            .get()
    };
    assert_eq!(counted("ok"), 22);
    assert_eq!(counted("skipped"), 23);
}

#[tokio::test]
async fn racing_nodes_run_a_free_job_exactly_once() {
    let fixture = TwoTenants::new().await;
    let clock = Arc::new(ManualClock::at(5_000_000));
    let metrics = Metrics::new().unwrap();
    let nodes: Vec<Node> = (0..4)
        .map(|i| node(&format!("node-{i}"), &fixture, &clock, &metrics))
        .collect();
    // All four race for a job nobody has taken yet (its row does not exist).
    let passes = futures_join(&nodes).await;
    let ran = passes.iter().filter(|p| matches!(p, Pass::Ran(_))).count();
    assert_eq!(ran, 1, "{passes:?}");
    assert_eq!(nodes.iter().map(Node::runs).sum::<usize>(), 1);
}

async fn futures_join(nodes: &[Node]) -> Vec<Pass> {
    let (a, b, c, d) = tokio::join!(
        nodes[0].tick(),
        nodes[1].tick(),
        nodes[2].tick(),
        nodes[3].tick()
    );
    vec![a, b, c, d]
}

#[tokio::test]
async fn a_node_shutting_down_gives_its_lease_up_at_once() {
    let fixture = TwoTenants::new().await;
    let clock = Arc::new(ManualClock::at(9_000_000));
    let metrics = Metrics::new().unwrap();
    let a = node("node-a", &fixture, &clock, &metrics);
    let b = node("node-b", &fixture, &clock, &metrics);
    assert!(matches!(a.tick().await, Pass::Ran(_)));
    assert!(matches!(b.tick().await, Pass::Skipped));

    a.runner.start().shutdown().await;
    assert!(
        matches!(b.tick().await, Pass::Ran(_)),
        "no wait for the lease to run out"
    );
}
