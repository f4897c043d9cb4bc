//! Corrupt stored data never panics: percents that do not sum to 100, out-of-range percents and rollouts,
//! distributions naming missing variants, and duplicate ids or keys.

mod fixtures;

use fixtures::{eval, flag, log_lines, segment, variant_key};
use flagent_eval::{Bucketing, Reason, Snapshot, bucket};

const VARIANTS: [(i64, &str); 2] = [(1, "one"), (2, "two")];

/// Entity ids with their buckets for salt `f`.
fn entities() -> impl Iterator<Item = (String, u32)> {
    (0..400).map(|i| {
        let id = format!("user-{i}");
        let b = bucket(Bucketing::Murmur3, "f", &id);
        (id, b)
    })
}

#[test]
fn evaluate_percents_below_hundred_gives_no_variant_past_last_window() {
    let snapshot = Snapshot::build(
        1,
        vec![flag(
            1,
            "f",
            &VARIANTS,
            vec![segment(1, 0, 100, Vec::new(), &[(1, 30), (2, 20)])],
        )],
    );
    for (entity, b) in entities() {
        let evaluation = eval(&snapshot, "f", &entity, None);
        let expected = match b {
            0..300 => Some("one"),
            300..500 => Some("two"),
            _ => None,
        };
        assert_eq!(variant_key(&evaluation), expected, "{entity} bucket {b}");
        if expected.is_none() {
            assert_eq!(
                (evaluation.reason, evaluation.segment_id),
                (Reason::Default, Some(1))
            );
            assert!(
                log_lines(&evaluation)
                    .join("\n")
                    .contains("past the last window (the distributions cover [0, 500))")
            );
        }
    }
}

#[test]
fn evaluate_out_of_range_percents_are_clamped() {
    let whole = vec![segment(1, 0, 100, Vec::new(), &[(1, -40), (2, 250)])];
    let half = vec![segment(2, 0, 50, Vec::new(), &[(2, 250)])];
    let snapshot = Snapshot::build(
        1,
        vec![
            flag(1, "f", &VARIANTS, whole),
            flag(2, "half", &VARIANTS, half),
        ],
    );
    for (entity, _) in entities() {
        let evaluation = eval(&snapshot, "f", &entity, None);
        assert_eq!(
            (variant_key(&evaluation), evaluation.reason),
            (Some("two"), Reason::TargetingMatch),
            "{entity}"
        );
        let b = bucket(Bucketing::Murmur3, "half", &entity);
        // The window is [0, 1000), not [0, 2500): rollout 50% keeps 100 * b <= 999 * 50.
        let expected = (b <= 499).then_some("two");
        assert_eq!(
            variant_key(&eval(&snapshot, "half", &entity, None)),
            expected,
            "{entity} bucket {b}"
        );
    }
}

#[test]
fn evaluate_out_of_range_rollouts_are_clamped() {
    let snapshot = Snapshot::build(
        1,
        vec![
            flag(
                1,
                "low",
                &VARIANTS,
                vec![segment(1, 0, -5, Vec::new(), &[(1, 100)])],
            ),
            flag(
                2,
                "high",
                &VARIANTS,
                vec![segment(2, 0, 150, Vec::new(), &[(1, 50), (2, 50)])],
            ),
        ],
    );
    for (entity, _) in entities() {
        assert_eq!(
            eval(&snapshot, "low", &entity, None).variant,
            None,
            "{entity}"
        );
        assert!(
            eval(&snapshot, "high", &entity, None).variant.is_some(),
            "{entity}"
        );
    }
}

#[test]
fn evaluate_distribution_naming_missing_variant_returns_error() {
    let segments = vec![segment(1, 0, 100, Vec::new(), &[(1, 50), (99, 50)])];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let mut dangling = 0;
    for (entity, b) in entities() {
        let evaluation = eval(&snapshot, "f", &entity, None);
        if b < 500 {
            assert_eq!(variant_key(&evaluation), Some("one"), "{entity}");
            continue;
        }
        dangling += 1;
        assert_eq!(
            (evaluation.reason, evaluation.variant, evaluation.segment_id),
            (Reason::Error, None, Some(1))
        );
        let lines = log_lines(&evaluation).join("\n");
        assert!(
            lines.contains("names variant 99, which the flag does not have"),
            "{lines}"
        );
        assert!(
            lines.contains("of variant 99, which the flag does not have"),
            "{lines}"
        );
    }
    assert!(dangling > 0);
}

#[test]
fn evaluate_segment_without_distributions_gives_no_variant() {
    let snapshot = Snapshot::build(
        1,
        vec![flag(
            1,
            "f",
            &VARIANTS,
            vec![segment(1, 0, 100, Vec::new(), &[])],
        )],
    );
    let evaluation = eval(&snapshot, "f", "u", None);
    assert_eq!(
        (evaluation.reason, evaluation.variant, evaluation.segment_id),
        (Reason::Default, None, Some(1))
    );
    assert!(
        log_lines(&evaluation)
            .join("\n")
            .contains("the segment has no distributions")
    );
}

#[test]
fn build_duplicate_ids_and_keys_keeps_last_config_and_lowest_id_key() {
    let first = flag(
        5,
        "dup",
        &VARIANTS,
        vec![segment(1, 0, 100, Vec::new(), &[(1, 100)])],
    );
    let second = flag(
        5,
        "dup",
        &VARIANTS,
        vec![segment(1, 0, 100, Vec::new(), &[(2, 100)])],
    );
    let other = flag(9, "dup", &VARIANTS, Vec::new());
    let snapshot = Snapshot::build(1, vec![other, first, second]);
    assert_eq!(snapshot.len(), 2);
    assert_eq!(snapshot.flag_by_key("dup").map(|f| f.id()), Some(5));
    assert_eq!(variant_key(&eval(&snapshot, "dup", "u", None)), Some("two"));
    let removed = snapshot.updated(2, Vec::new(), &[5]);
    assert_eq!(removed.flag_by_key("dup").map(|f| f.id()), Some(9));
    let lower = removed.updated(3, vec![flag(2, "dup", &VARIANTS, Vec::new())], &[]);
    assert_eq!(lower.flag_by_key("dup").map(|f| f.id()), Some(2));
    let higher = removed.updated(3, vec![flag(12, "dup", &VARIANTS, Vec::new())], &[]);
    assert_eq!(higher.flag_by_key("dup").map(|f| f.id()), Some(9));
}
