//! The evaluation algorithm: flag lookup, disabled flags, segment order, the first-match rule, reasons and
//! the debug log.

mod fixtures;

use fixtures::{constraint, eval, flag, log_lines, segment, variant_key};
use flagent_eval::{
    DebugLog, FlagRef, Reason, Request, SegmentConfig, SegmentDebugLog, Snapshot, evaluate,
};
use serde_json::json;

const VARIANTS: [(i64, &str); 3] = [(1, "one"), (2, "two"), (3, "three")];

#[test]
fn evaluate_unknown_flag_returns_flag_not_found() {
    let snapshot = Snapshot::build(1, vec![flag(1, "known", &VARIANTS, Vec::new())]);
    let evaluation = eval(&snapshot, "unknown", "u", None);
    assert!(evaluation.flag.is_none());
    assert_eq!(evaluation.reason, Reason::FlagNotFound);
    assert_eq!((evaluation.segment_id, evaluation.variant), (None, None));
    assert_eq!(log_lines(&evaluation), ["flag not found"]);
    let by_id = Request {
        flag: FlagRef::Id(2),
        entity_id: "u",
        context: None,
        debug: false,
    };
    let evaluation = evaluate(&snapshot, &by_id);
    assert_eq!(
        (evaluation.reason, evaluation.debug_log),
        (Reason::FlagNotFound, None)
    );
}

#[test]
fn evaluate_disabled_flag_returns_disabled_without_visiting_segments() {
    let mut config = flag(
        1,
        "off",
        &VARIANTS,
        vec![segment(1, 0, 100, Vec::new(), &[(1, 100)])],
    );
    config.enabled = false;
    let snapshot = Snapshot::build(1, vec![config]);
    let evaluation = eval(&snapshot, "off", "u", None);
    assert_eq!(evaluation.reason, Reason::Disabled);
    assert_eq!((evaluation.segment_id, evaluation.variant), (None, None));
    assert_eq!(log_lines(&evaluation), ["flag disabled"]);
}

#[test]
fn evaluate_segments_visits_by_rank_then_id() {
    let segments = vec![
        segment(3, 2, 100, Vec::new(), &[(1, 100)]),
        segment(9, 1, 100, Vec::new(), &[(2, 100)]),
        segment(5, 1, 100, Vec::new(), &[(3, 100)]),
    ];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let evaluation = eval(&snapshot, "f", "u", None);
    assert_eq!(
        (evaluation.segment_id, variant_key(&evaluation)),
        (Some(5), Some("three"))
    );
    assert_eq!(evaluation.reason, Reason::TargetingMatch);
}

/// A segment giving `variant` to entities whose `state` is `state`.
fn state_segment(id: i64, rank: i64, state: &str, variant: i64) -> SegmentConfig {
    let value = format!("{state:?}");
    segment(
        id,
        rank,
        100,
        vec![constraint(id * 10 + 1, "state", "EQ", &value)],
        &[(variant, 100)],
    )
}

#[test]
fn evaluate_first_unmatched_segment_falls_through_to_next() {
    let segments = vec![state_segment(1, 0, "CA", 1), state_segment(2, 1, "NY", 2)];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let evaluation = eval(&snapshot, "f", "u", Some(&json!({"state": "NY"})));
    assert_eq!(
        (evaluation.segment_id, variant_key(&evaluation)),
        (Some(2), Some("two"))
    );
}

#[test]
fn evaluate_with_debug_logs_each_visited_segment() {
    let segments = vec![
        state_segment(1, 0, "CA", 1),
        state_segment(2, 1, "NY", 2),
        state_segment(3, 2, "NY", 3),
    ];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let lines = log_lines(&eval(&snapshot, "f", "u", Some(&json!({"state": "NY"}))));
    let [summary, first, second] = lines.as_slice() else {
        panic!("expected a summary and two segment lines: {lines:?}");
    };
    assert_eq!(summary, r#"matched segment 2: variant 2 ("two")"#);
    assert_eq!(
        first,
        r#"segment 1: constraint 11 (state EQ "CA") did not match: property "state" is "NY""#
    );
    assert!(
        second.starts_with("segment 2: matched: bucket "),
        "{second}"
    );
    assert!(
        second
            .ends_with(r#"window [0, 1000) of variant 2 ("two"); rollout 100%: the entity is in"#),
        "{second}"
    );
}

#[test]
fn evaluate_matched_segment_excluded_by_rollout_stops_without_variant() {
    let segments = vec![
        segment(
            1,
            0,
            0,
            vec![constraint(11, "state", "EQ", r#""CA""#)],
            &[(1, 100)],
        ),
        segment(2, 1, 100, Vec::new(), &[(2, 100)]),
    ];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let evaluation = eval(&snapshot, "f", "u", Some(&json!({"state": "CA"})));
    assert_eq!((evaluation.segment_id, evaluation.variant), (Some(1), None));
    assert_eq!(evaluation.reason, Reason::Default);
    let lines = log_lines(&evaluation);
    assert_eq!(
        lines.len(),
        2,
        "only the matched segment is visited: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("rollout 0%: the entity is out")),
        "{lines:?}"
    );
}

#[test]
fn evaluate_no_matching_segment_returns_default() {
    let segments = vec![segment(
        1,
        0,
        100,
        vec![constraint(11, "state", "EQ", r#""CA""#)],
        &[(1, 100)],
    )];
    let snapshot = Snapshot::build(1, vec![flag(1, "f", &VARIANTS, segments)]);
    let evaluation = eval(&snapshot, "f", "u", None);
    assert_eq!(
        (evaluation.reason, evaluation.segment_id, evaluation.variant),
        (Reason::Default, None, None)
    );
    assert_eq!(
        log_lines(&evaluation).first().map(String::as_str),
        Some("no segment matched")
    );
}

#[test]
fn evaluate_split_segment_returns_split_and_whole_segment_targeting_match() {
    let segments_split = vec![segment(1, 0, 100, Vec::new(), &[(1, 50), (2, 50)])];
    let segments_whole = vec![segment(2, 0, 100, Vec::new(), &[(1, 0), (2, 100)])];
    let snapshot = Snapshot::build(
        1,
        vec![
            flag(1, "split", &VARIANTS, segments_split),
            flag(2, "whole", &VARIANTS, segments_whole),
        ],
    );
    assert_eq!(eval(&snapshot, "split", "u", None).reason, Reason::Split);
    let whole = eval(&snapshot, "whole", "u", None);
    assert_eq!(
        (whole.reason, variant_key(&whole)),
        (Reason::TargetingMatch, Some("two"))
    );
}

#[test]
fn evaluate_without_debug_returns_borrowed_variant_and_no_log() {
    let segments = vec![segment(1, 0, 100, Vec::new(), &[(2, 100)])];
    let snapshot = Snapshot::build(1, vec![flag(7, "f", &VARIANTS, segments)]);
    let request = Request {
        flag: FlagRef::Id(7),
        entity_id: "u",
        context: None,
        debug: false,
    };
    let evaluation = evaluate(&snapshot, &request);
    assert!(evaluation.debug_log.is_none());
    let stored = snapshot
        .flag_by_id(7)
        .and_then(|f| f.config().variants.get(1));
    assert!(matches!((evaluation.variant, stored), (Some(a), Some(b)) if std::ptr::eq(a, b)));
    assert_eq!(
        evaluation.variant.map(|v| v.attachment.to_value()),
        Some(json!({"variant": "two"}))
    );
    assert_eq!(
        evaluation.flag.map(|f| (f.id(), f.key(), f.snapshot_id())),
        Some((7, "f", 70))
    );
}

#[test]
fn serialize_reason_uses_wire_names() {
    for (reason, name) in [
        (Reason::TargetingMatch, "TARGETING_MATCH"),
        (Reason::Split, "SPLIT"),
        (Reason::Default, "DEFAULT"),
        (Reason::Disabled, "DISABLED"),
        (Reason::PrerequisiteFailed, "PREREQUISITE_FAILED"),
        (Reason::FlagNotFound, "FLAG_NOT_FOUND"),
        (Reason::Error, "ERROR"),
    ] {
        assert_eq!(
            (reason.as_str(), reason.to_string()),
            (name, name.to_owned())
        );
        assert_eq!(serde_json::to_value(reason).ok(), Some(json!(name)));
    }
}

#[test]
fn serialize_debug_log_uses_flagr_shape() {
    let log = DebugLog {
        msg: "m".to_owned(),
        segment_debug_logs: vec![SegmentDebugLog {
            segment_id: 4,
            msg: "s".to_owned(),
        }],
    };
    let expected = json!({"msg": "m", "segmentDebugLogs": [{"segmentID": 4, "msg": "s"}]});
    assert_eq!(serde_json::to_value(&log).ok(), Some(expected));
}
