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

/// A flag whose first segment has the three benchmarked constraints and splits 50/50.
fn target_flag(id: i64) -> FlagConfig {
    let constraint = |n: i64, property: &str, operator: &str, value: &str| ConstraintConfig {
        id: id * 10 + n,
        property: property.to_owned(),
        operator: operator.to_owned(),
        value: value.to_owned(),
    };
    let distribution = |variant_id: i64| DistributionConfig {
        id: id * 10 + variant_id,
        variant_id,
        variant_key: String::new(),
        percent: 50,
    };
    let variant = |variant_id: i64, key: &str| VariantConfig {
        id: variant_id,
        key: key.to_owned(),
        attachment: json!({ "color": key, "limits": { "items": 10 } }),
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
        variants: vec![variant(1, "control"), variant(2, "treatment")],
        segments: vec![SegmentConfig {
            id,
            description: String::new(),
            rank: 0,
            rollout_percent: 100,
            constraints: vec![
                constraint(1, "country", "EQ", r#""CA""#),
                constraint(2, "plan", "IN", r#"["pro","team","enterprise"]"#),
                constraint(3, "app.version", "GTE", r#"semver:"2.1.0""#),
            ],
            distributions: vec![distribution(1), distribution(2)],
        }],
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

fn bench_evaluate(c: &mut Criterion) {
    let context = context();
    let one = Snapshot::build(1, vec![target_flag(1)]);
    let many = Snapshot::build(1, (1..=10_000).map(target_flag).collect());
    let probe = evaluate(&many, &request("flag-1", &context, false));
    assert!(probe.variant.is_some(), "the benchmarked flag must match");

    let mut group = c.benchmark_group("evaluate");
    group.bench_function("single/1-flag", |b| {
        b.iter(|| {
            black_box(evaluate(
                black_box(&one),
                &request(black_box("flag-1"), &context, false),
            ))
        })
    });
    group.bench_function("single/10000-flags", |b| {
        b.iter(|| {
            black_box(evaluate(
                black_box(&many),
                &request(black_box("flag-1"), &context, false),
            ))
        })
    });
    group.bench_function("single/10000-flags/debug", |b| {
        b.iter(|| {
            black_box(evaluate(
                black_box(&many),
                &request(black_box("flag-1"), &context, true),
            ))
        })
    });
    let keys: Vec<String> = (1..=100).map(|id| format!("flag-{}", id * 97)).collect();
    group.bench_function("batch-100/10000-flags", |b| {
        b.iter(|| {
            for key in &keys {
                black_box(evaluate(black_box(&many), &request(key, &context, false)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_evaluate);
criterion_main!(benches);
