//! Properties of the engine: raising a rollout never moves an entity to another variant, buckets are
//! uniform, and no context or stored configuration can make building or evaluating panic.

mod fixtures;

use fixtures::{flag, segment};
use flagent_eval::{
    Bucketing, ConstraintConfig, DistributionConfig, FlagConfig, FlagRef, Prerequisite, Request,
    SegmentConfig, Snapshot, TagMatch, VariantConfig, bucket, evaluate, validate_constraint,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

/// Evaluates a flag by key without debugging and returns the picked variant id.
fn variant_id(snapshot: &Snapshot, key: &str, entity_id: &str) -> Option<i64> {
    let request = Request {
        flag: FlagRef::Key(key),
        entity_id,
        context: None,
        debug: false,
    };
    evaluate(snapshot, &request)
        .variant
        .map(|variant| variant.id)
}

proptest! {
    #[test]
    fn raise_rollout_never_moves_entity_to_another_variant(
        percents in prop::collection::vec(0i64..=100, 1..6),
        salt in "[a-z0-9:-]{0,12}",
        entity_id in "\\PC{0,20}",
        rollouts in (0i64..=100, 0i64..=100),
        bucketing in select(vec![Bucketing::Murmur3, Bucketing::FlagrCrc32]),
    ) {
        let (r1, r2) = (rollouts.0.min(rollouts.1), rollouts.0.max(rollouts.1));
        let variants: Vec<(i64, &str)> = (1..=5).map(|id| (id, "v")).collect();
        let distributions: Vec<(i64, i64)> = percents.iter().enumerate().map(|(i, p)| (5 - i as i64, *p)).collect();
        let build = |id: i64, key: &str, rollout: i64| {
            let mut config = flag(id, key, &variants, vec![segment(id, 0, rollout, Vec::new(), &distributions)]);
            config.salt = salt.clone();
            config.bucketing = bucketing;
            config
        };
        let snapshot = Snapshot::build(1, vec![build(1, "low", r1), build(2, "high", r2)]);
        if let Some(low) = variant_id(&snapshot, "low", &entity_id) {
            prop_assert_eq!(variant_id(&snapshot, "high", &entity_id), Some(low));
        }
    }

    #[test]
    fn bucket_any_input_is_below_thousand(salt in "\\PC{0,16}", entity_id in "\\PC{0,32}") {
        prop_assert!(bucket(Bucketing::Murmur3, &salt, &entity_id) < 1000);
        prop_assert!(bucket(Bucketing::FlagrCrc32, &salt, &entity_id) < 1000);
    }

    #[test]
    fn build_and_evaluate_arbitrary_data_never_panics(
        flags in prop::collection::vec(flag_config(), 1..6),
        context in json_value(),
        entity_id in "\\PC{0,10}",
    ) {
        let snapshot = Snapshot::build(1, flags.clone());
        let updated = snapshot.updated(2, flags.iter().take(2).cloned().collect(), &[1, 2]);
        for snapshot in [&snapshot, &updated] {
            let tagged = snapshot.flag_ids_with_tags(&["f1".to_owned(), "f2".to_owned()], TagMatch::Any);
            prop_assert!(tagged.len() <= snapshot.flags().count());
            for key in KEYS {
                for debug in [false, true] {
                    let request = Request { flag: FlagRef::Key(key), entity_id: &entity_id, context: Some(&context), debug };
                    let evaluation = evaluate(snapshot, &request);
                    prop_assert_eq!(evaluation.debug_log.is_some(), debug);
                }
            }
        }
    }

    #[test]
    fn validate_arbitrary_constraint_never_panics(
        property in property_text(),
        operator in operator_text(),
        value in literal_text(),
    ) {
        let _ = validate_constraint(&property, &operator, &value);
    }
}

#[test]
fn bucket_ten_equal_variants_share_entities_uniformly() {
    let variants: Vec<(i64, &str)> = (1..=10).map(|id| (id, "v")).collect();
    let distributions: Vec<(i64, i64)> = (1..=10).map(|id| (id, 10)).collect();
    let config = flag(
        1,
        "uniform",
        &variants,
        vec![segment(1, 0, 100, Vec::new(), &distributions)],
    );
    let snapshot = Snapshot::build(1, vec![config]);
    let mut counts = [0u32; 10];
    for i in 0..100_000 {
        let id = variant_id(&snapshot, "uniform", &format!("user-{i}")).unwrap_or(0);
        if let Some(count) = usize::try_from(id - 1)
            .ok()
            .and_then(|at| counts.get_mut(at))
        {
            *count += 1;
        }
    }
    for (at, count) in counts.iter().enumerate() {
        let share = f64::from(*count) / 1000.0;
        assert!(
            (share - 10.0).abs() <= 1.5,
            "variant {} got {share}% of entities",
            at + 1
        );
    }
}

const KEYS: [&str; 5] = ["f1", "f2", "f3", "f4", "f5"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        select(vec![
            "CA",
            "1.2.3",
            "v2.0.0-rc.1",
            "2026-01-01T00:00:00Z",
            "beta",
            ""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((context_key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn context_key() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "a",
            "b",
            "state",
            "tags",
            "n",
            "user",
            "user.email",
            "items"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ]
}

fn property_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "a",
            "a.b",
            "state",
            "tags",
            "n",
            "user.email",
            "items[0]",
            "items[-1]",
            "a[-9223372036854775808]",
            ""
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

fn operator_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "EQ",
            "NEQ",
            "LT",
            "LTE",
            "GT",
            "GTE",
            "EREG",
            "NEREG",
            "IN",
            "NOTIN",
            "CONTAINS",
            "NOTCONTAINS",
            "STARTS_WITH",
            "ENDS_WITH",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ]
}

fn literal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "\"CA\"",
            "18",
            "-1e300",
            "true",
            "[\"CA\",\"NY\"]",
            "[1,2.5]",
            "[]",
            "{n}",
            "{a.b}",
            "{items[-1]}",
            "semver:\"1.2.3\"",
            "time:\"2026-01-01T00:00:00Z\"",
            "\"^a.*\"",
            "\"(\"",
            "CA",
            "null",
            "{\"a\":1}",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,16}",
        json_value().prop_map(|value| value.to_string()),
    ]
}

fn constraint_config() -> impl Strategy<Value = ConstraintConfig> {
    (
        any::<i64>(),
        property_text(),
        operator_text(),
        literal_text(),
    )
        .prop_map(|(id, property, operator, value)| ConstraintConfig {
            id,
            property,
            operator,
            value,
        })
}

fn segment_config() -> impl Strategy<Value = SegmentConfig> {
    let distribution =
        (0i64..6, prop_oneof![0i64..=100, any::<i64>()]).prop_map(|(variant_id, percent)| {
            DistributionConfig {
                id: 0,
                variant_id,
                variant_key: String::new(),
                percent,
            }
        });
    (
        any::<i64>(),
        prop_oneof![0i64..3, any::<i64>()],
        prop_oneof![0i64..=100, any::<i64>()],
        prop::collection::vec(constraint_config(), 0..4),
        prop::collection::vec(distribution, 0..5),
    )
        .prop_map(
            |(id, rank, rollout_percent, constraints, distributions)| SegmentConfig {
                id,
                description: String::new(),
                rank,
                rollout_percent,
                constraints,
                distributions,
            },
        )
}

fn prerequisite() -> impl Strategy<Value = Prerequisite> {
    let variant = prop::option::of(select(vec!["v1", "v2", "zz"]));
    (select(KEYS.to_vec()), variant).prop_map(|(key, variant)| Prerequisite {
        flag_key: key.to_owned(),
        variant_key: variant.map(str::to_owned),
    })
}

/// Variants with small ids, so that distributions sometimes name a variant the flag lacks.
fn variants() -> impl Strategy<Value = Vec<VariantConfig>> {
    prop::collection::vec(1i64..5, 0..4).prop_map(|ids| {
        ids.into_iter()
            .map(|id| VariantConfig {
                id,
                key: format!("v{id}"),
                attachment: Default::default(),
            })
            .collect()
    })
}

fn flag_config() -> impl Strategy<Value = FlagConfig> {
    (
        (1i64..6, select(KEYS.to_vec()), "\\PC{0,8}"),
        (
            select(vec![Bucketing::Murmur3, Bucketing::FlagrCrc32]),
            any::<bool>(),
        ),
        variants(),
        prop::collection::vec(segment_config(), 0..4),
        prop::collection::vec(prerequisite(), 0..3),
    )
        .prop_map(
            |((id, key, salt), (bucketing, enabled), variants, segments, depends_on)| FlagConfig {
                id,
                key: key.to_owned(),
                salt,
                bucketing,
                enabled,
                snapshot_id: 0,
                tags: vec![key.to_owned()],
                entity_type: None,
                variants,
                segments,
                depends_on,
                default_variant: None,
            },
        )
}
