//! A measured comparison, not run by default: one pass of revision polling over 10,000 environments
//! with nothing changed, full (every live row read) against incremental (the marks revised in the last
//! window read). Run with
//! `cargo test --release -p flagent-flags --test sync_bench -- --ignored --nocapture`.

use flagent_flags::{EvalCache, FULL_PASS_EVERY, Flags};
use flagent_storage::entities::environment;
use flagent_testkit::{TwoTenants, system};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many environments the database holds during the measure.
const ENVIRONMENTS: usize = 10_000;

/// Full passes measured (each after `FULL_PASS_EVERY - 1` incremental ones).
const ROUNDS: u64 = 3;

async fn insert_environments(fixture: &TwoTenants) {
    let tx = fixture.db.scoped(&fixture.a.owner()).begin().await.unwrap();
    for n in 0..ENVIRONMENTS - 4 {
        tx.insert_row(environment::New {
            project_id: fixture.a.project.0,
            key: format!("env-{n}"),
            name: format!("Environment {n}"),
            sort_order: n as i64 + 2,
            color: "#000000".to_owned(),
            revision: 0,
            created_at: 0,
            archived_at: None,
            revised_at: 0,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

fn mean(times: &[Duration]) -> Duration {
    times.iter().sum::<Duration>() / times.len() as u32
}

#[tokio::test]
#[ignore = "a measure, run by hand"]
async fn a_pass_over_ten_thousand_unchanged_environments() {
    let fixture = TwoTenants::new().await;
    insert_environments(&fixture).await;
    let flags = Flags::new(fixture.db.clone(), Arc::new(EvalCache::new()));
    let scope = system("revision polling measure");
    let first = flags.sync(&scope).await.unwrap();
    assert_eq!(first.len(), ENVIRONMENTS);
    let (mut full, mut incremental) = (Vec::new(), Vec::new());
    for pass in 1..=ROUNDS * FULL_PASS_EVERY {
        let started = Instant::now();
        let loaded = flags.sync(&scope).await.unwrap();
        let took = started.elapsed();
        assert!(loaded.is_empty(), "nothing changed");
        if pass.is_multiple_of(FULL_PASS_EVERY) {
            full.push(took);
        } else {
            incremental.push(took);
        }
    }
    let (full, incremental) = (mean(&full), mean(&incremental));
    println!(
        "{ENVIRONMENTS} environments on {}: full pass {full:?}, incremental pass {incremental:?}, ratio {:.0}",
        flagent_testkit::backend_name(),
        full.as_secs_f64() / incremental.as_secs_f64()
    );
}
