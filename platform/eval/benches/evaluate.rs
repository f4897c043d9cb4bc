//! Criterion benchmark of `flagent_eval::evaluate`: one flag with three matching constraints
//! (`EQ` on a string, `IN` on an array, `GTE` on a semantic version) with 1 and with 10,000 flags loaded,
//! with the debug log off and on, and a batch of 100 flags for one entity.
//!
//! Run with `cargo bench -p flagent-eval --bench evaluate`; the figures are recorded in `docs/benchmarks.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use flagent_eval::{
    ConstraintConfig, DistributionConfig, FlagConfig, FlagRef, Request, SegmentConfig, Snapshot,
    VariantConfig, evaluate,
};
use serde_json::{Value, json};
use std::hint::black_box;

/// The three benchmarked constraints.
fn constraints(flag_id: i64) -> Vec<ConstraintConfig> {
    [
        ("country", "EQ", r#""CA""#),
        ("plan", "IN", r#"["pro","team","enterprise"]"#),
        ("app.version", "GTE", r#"semver:"2.1.0""#),
    ]
    .into_iter()
    .zip(1..)
    .map(|((property, operator, value), n)| ConstraintConfig {
        id: flag_id * 10 + n,
        property: property.to_owned(),
        operator: operator.to_owned(),
        value: value.to_owned(),
    })
    .collect()
}

/// A flag whose one segment has the three benchmarked constraints and splits 50/50.
fn target_flag(id: i64) -> FlagConfig {
    let distributions = (1..=2)
        .map(|variant_id| DistributionConfig {
            id: id * 10 + variant_id,
            variant_id,
            variant_key: String::new(),
            percent: 50,
        })
        .collect();
    let variants = [(1, "control"), (2, "treatment")]
        .into_iter()
        .map(|(variant_id, key)| VariantConfig {
            id: variant_id,
            key: key.to_owned(),
            attachment: json!({ "color": key, "limits": { "items": 10 } }).into(),
        })
        .collect();
    let segment = SegmentConfig {
        id,
        description: String::new(),
        rank: 0,
        rollout_percent: 100,
        constraints: constraints(id),
        distributions,
    };
    FlagConfig {
        id,
        key: format!("flag-{id}"),
        salt: format!("flag-{id}"),
        bucketing: Default::default(),
        enabled: true,
        snapshot_id: id,
        tags: vec!["bench".to_owned()],
        entity_type: None,
        variants,
        segments: vec![segment],
        depends_on: Vec::new(),
        default_variant: None,
    }
}

fn context() -> Value {
    json!({
        "country": "CA",
        "plan": "pro",
        "app": { "version": "2.3.1", "platform": "ios" },
        "email": "ann@example.com",
    })
}

fn request<'a>(key: &'a str, context: &'a Value, debug: bool) -> Request<'a> {
    Request {
        flag: FlagRef::Key(key),
        entity_id: "user-42",
        context: Some(context),
        debug,
    }
}

/// One flag evaluated alone, with 10,000 flags loaded, and with the debug log on.
fn bench_single(c: &mut Criterion) {
    let context = context();
    let one = Snapshot::build(1, vec![target_flag(1)]);
    let many = Snapshot::build(1, (1..=10_000).map(target_flag).collect());
    let probe = evaluate(&many, &request("flag-1", &context, false));
    assert!(probe.variant.is_some(), "the benchmarked flag must match");
    let mut group = c.benchmark_group("evaluate");
    for (name, snapshot, debug) in [
        ("single/1-flag", &one, false),
        ("single/10000-flags", &many, false),
        ("single/1-flag/debug", &one, true),
        ("single/10000-flags/debug", &many, true),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(evaluate(
                    black_box(snapshot),
                    &request(black_box("flag-1"), &context, debug),
                ))
            })
        });
    }
    group.finish();
}

/// 100 different flags for one entity, out of 10,000 loaded.
fn bench_batch(c: &mut Criterion) {
    let context = context();
    let many = Snapshot::build(1, (1..=10_000).map(target_flag).collect());
    let keys: Vec<String> = (1..=100).map(|id| format!("flag-{}", id * 97)).collect();
    let mut group = c.benchmark_group("evaluate");
    group.bench_function("batch-100/10000-flags", |b| {
        b.iter(|| {
            for key in &keys {
                black_box(evaluate(black_box(&many), &request(key, &context, false)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_single, bench_batch);
criterion_main!(benches);
