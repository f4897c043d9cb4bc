//! Applying one change to one environment's snapshot with 10 and with 10,000 environments loaded: the
//! cost must not grow with the number of environments (no copy of the whole cache per change).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_evaluation::{EnvUpdate, EvalCache};
use flagent_types::{EnvironmentId, TenantId};

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

criterion_group!(benches, apply);
criterion_main!(benches);
