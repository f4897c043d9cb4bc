//! The vectors of `evaluation.md`, checked through `bucket` and through `evaluate` on a built snapshot.

mod fixtures;

use fixtures::{eval, flag, log_lines, segment};
use flagent_eval::{Bucketing, FlagConfig, Reason, Snapshot, bucket};

/// `(entity id, bucket, variant at r=100, variant at r=30)` for salt `new-checkout`, variants 1 and 2 at 50/50.
const FIFTY_FIFTY: [(&str, u32, i64, Option<i64>); 5] = [
    ("user-1", 631, 2, Some(2)),
    ("user-2", 789, 2, None),
    ("alice@example.com", 218, 1, None),
    ("device:abc", 462, 1, None),
    ("ü-ñ-中文", 746, 2, None),
];

/// A flag salted `new-checkout` with one unconstrained segment.
fn checkout(id: i64, key: &str, rollout: i64, distributions: &[(i64, i64)]) -> FlagConfig {
    let variants = [(1, "v1"), (2, "v2"), (3, "v3"), (7, "v7"), (9, "v9")];
    let mut config = flag(
        id,
        key,
        &variants,
        vec![segment(id, 0, rollout, Vec::new(), distributions)],
    );
    config.salt = "new-checkout".to_owned();
    config
}

fn snapshot() -> Snapshot {
    Snapshot::build(
        1,
        vec![
            checkout(1, "r100", 100, &[(1, 50), (2, 50)]),
            checkout(2, "r30", 30, &[(2, 50), (1, 50)]),
            checkout(3, "split-7-3-9", 100, &[(7, 20), (3, 30), (9, 50)]),
        ],
    )
}

/// The variant id an evaluation picked.
fn picked(snapshot: &Snapshot, key: &str, entity_id: &str) -> Option<i64> {
    eval(snapshot, key, entity_id, None)
        .variant
        .map(|variant| variant.id)
}

#[test]
fn bucket_murmur3_vectors_match_spec() {
    for (entity_id, expected, _, _) in FIFTY_FIFTY {
        assert_eq!(
            bucket(Bucketing::Murmur3, "new-checkout", entity_id),
            expected,
            "{entity_id}"
        );
    }
}

#[test]
fn evaluate_fifty_fifty_at_full_rollout_picks_spec_variant() {
    let snapshot = snapshot();
    for (entity_id, bucket, variant, _) in FIFTY_FIFTY {
        let evaluation = eval(&snapshot, "r100", entity_id, None);
        assert_eq!(
            evaluation.variant.map(|v| v.id),
            Some(variant),
            "{entity_id}"
        );
        assert_eq!(evaluation.reason, Reason::Split, "{entity_id}");
        assert_eq!(evaluation.segment_id, Some(1));
        let lines = log_lines(&evaluation).join("\n");
        assert!(
            lines.contains(&format!("bucket {bucket} ")),
            "{entity_id}: {lines}"
        );
    }
}

#[test]
fn evaluate_fifty_fifty_at_thirty_percent_rollout_picks_spec_variant() {
    let snapshot = snapshot();
    for (entity_id, _, _, variant) in FIFTY_FIFTY {
        let evaluation = eval(&snapshot, "r30", entity_id, None);
        assert_eq!(evaluation.variant.map(|v| v.id), variant, "{entity_id}");
        let expected = if variant.is_some() {
            Reason::Split
        } else {
            Reason::Default
        };
        assert_eq!(evaluation.reason, expected, "{entity_id}");
        assert_eq!(evaluation.segment_id, Some(2), "{entity_id}");
    }
}

#[test]
fn evaluate_twenty_thirty_fifty_split_picks_spec_variant() {
    let snapshot = snapshot();
    assert_eq!(picked(&snapshot, "split-7-3-9", "user-1"), Some(9));
    assert_eq!(
        picked(&snapshot, "split-7-3-9", "alice@example.com"),
        Some(3)
    );
    assert_eq!(picked(&snapshot, "split-7-3-9", "device:abc"), Some(7));
}

#[test]
fn bucket_flagr_crc32_vectors_match_spec() {
    assert_eq!(bucket(Bucketing::FlagrCrc32, "2", "127"), 807);
    assert_eq!(bucket(Bucketing::FlagrCrc32, "2", "123"), 94);
}

#[test]
fn evaluate_flagr_crc32_flag_uses_flagr_buckets() {
    let mut config = flag(
        2,
        "imported",
        &[(1, "low"), (2, "high")],
        vec![segment(5, 0, 100, Vec::new(), &[(1, 80), (2, 20)])],
    );
    config.bucketing = Bucketing::FlagrCrc32;
    config.salt = "2".to_owned();
    let snapshot = Snapshot::build(1, vec![config]);
    for (entity_id, bucket, variant) in [("127", 807, "high"), ("123", 94, "low")] {
        let evaluation = eval(&snapshot, "imported", entity_id, None);
        assert_eq!(
            evaluation.variant.map(|v| v.key.as_str()),
            Some(variant),
            "{entity_id}"
        );
        let lines = log_lines(&evaluation).join("\n");
        assert!(
            lines.contains(&format!("bucket {bucket} ")),
            "{entity_id}: {lines}"
        );
    }
}
