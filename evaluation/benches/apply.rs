//! Applying one change to one environment's snapshot with 10 and with 10,000 environments loaded: the
//! cost must not grow with the number of environments (no copy of the whole cache per change). And one
//! evaluation through the `Evaluator` (cache lookup, engine, counting through the ports) beside the
//! engine alone on the same snapshot, with 10,000 environments loaded.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_evaluation::{
    EnvUpdate, EvalCache, EvalQuery, Evaluator, ReasonCounter, Served, UsageSink,
};
use flagent_types::{
    EnvironmentId, Grant, Principal, ProjectId, Scope, ScopeSet, TenantId, TenantScope,
};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ports that only count, so the figure is the evaluator's own cost.
#[derive(Default)]
struct Counting(AtomicU64);

impl UsageSink for Counting {
    fn record(&self, _: TenantId, _: EnvironmentId, evaluations: u64, served: &[Served]) {
        self.0
            .fetch_add(evaluations + served.len() as u64, Ordering::Relaxed);
    }
}

impl ReasonCounter for Counting {
    fn evaluated(&self, _: flagent_eval::Reason) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn flag(id: i64, enabled: bool) -> FlagConfig {
    serde_json::from_value(serde_json::json!({
        "id": id, "key": format!("f{id}"), "salt": format!("f{id}"), "enabled": enabled
    }))
    .expect("a minimal flag configuration")
}

fn apply(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("apply_one_change");
    for environments in [10_i64, 10_000] {
        let cache = EvalCache::new();
        runtime.block_on(async {
            for e in 0..environments {
                let w = cache.writer(TenantId(1), EnvironmentId(e)).await;
                w.replace(Snapshot::build(1, vec![flag(1, true), flag(2, true)]));
            }
        });
        let mut revision = 1;
        group.bench_with_input(
            BenchmarkId::from_parameter(environments),
            &environments,
            |b, _| {
                b.iter(|| {
                    revision += 1;
                    runtime.block_on(async {
                        let w = cache.writers(TenantId(1), [EnvironmentId(0)]).await;
                        w.apply(vec![EnvUpdate {
                            environment: EnvironmentId(0),
                            revision,
                            upserts: vec![flag(1, revision % 2 == 0)],
                            removed: vec![],
                        }])
                    })
                })
            },
        );
    }
    group.finish();
}

/// What every change cost before the cache was split per environment: a copy of the map of every
/// environment's snapshot (shown for comparison; the cache no longer does this).
fn whole_map_copy(c: &mut Criterion) {
    let mut group = c.benchmark_group("whole_map_copy");
    for environments in [10_i64, 10_000] {
        let snapshot = Arc::new(Snapshot::build(1, vec![flag(1, true), flag(2, true)]));
        let map: std::collections::HashMap<(TenantId, EnvironmentId), Arc<Snapshot>> = (0
            ..environments)
            .map(|e| ((TenantId(1), EnvironmentId(e)), snapshot.clone()))
            .collect();
        group.bench_with_input(
            BenchmarkId::from_parameter(environments),
            &environments,
            |b, _| b.iter(|| black_box(map.clone())),
        );
    }
    group.finish();
}

#[allow(clippy::disallowed_methods)]
fn scope() -> TenantScope {
    let principal = Principal::ApiKey {
        id: 1,
        name: "bench".into(),
        prefix: "flg_bench".into(),
    };
    let scopes = ScopeSet::of(&[Scope::Client]);
    TenantScope::assume_authenticated(
        TenantId(1),
        ProjectId(1),
        EnvironmentId(0),
        principal,
        Grant::Key {
            scopes,
            bound: None,
        },
    )
}

fn evaluate_one(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let cache = Arc::new(EvalCache::new());
    runtime.block_on(async {
        for e in 0..10_000 {
            let w = cache.writer(TenantId(1), EnvironmentId(e)).await;
            w.replace(Snapshot::build(1, vec![flag(1, true), flag(2, true)]));
        }
    });
    let ports = Arc::new(Counting::default());
    let evaluator = Evaluator::new(cache.clone(), ports.clone(), ports, 1000);
    let scope = scope();
    let mut group = c.benchmark_group("evaluate_one");
    group.bench_function("engine", |b| {
        let snapshot = evaluator.snapshot(&scope);
        b.iter(|| {
            let request = flagent_eval::Request {
                flag: flagent_eval::FlagRef::Key("f1"),
                entity_id: "user-1",
                context: None,
                debug: false,
            };
            black_box(flagent_eval::evaluate(&snapshot, &request).reason)
        })
    });
    group.bench_function("evaluator", |b| {
        b.iter(|| {
            let query = EvalQuery {
                entity_id: "user-1".to_owned(),
                flag_key: Some("f1".to_owned()),
                ..EvalQuery::default()
            };
            black_box(evaluator.evaluate(&scope, query).map(|d| d.reason))
        })
    });
    group.finish();
}

criterion_group!(benches, apply, whole_map_copy, evaluate_one);
criterion_main!(benches);
