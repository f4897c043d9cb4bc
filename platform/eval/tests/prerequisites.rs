//! Prerequisites: dependencies evaluated from the same snapshot, failures, and stored cycles that must end
//! in `ERROR` without looping or overflowing the stack.

mod fixtures;

use fixtures::{constraint, eval, flag, log_lines, needs, segment, variant_key};
use flagent_eval::{FlagConfig, Prerequisite, Reason, Snapshot};
use serde_json::json;

const VARIANTS: [(i64, &str); 2] = [(1, "on"), (2, "off")];

/// A flag giving `on` to entities in CA and `off` to everyone else, with prerequisites.
fn gate(id: i64, key: &str, depends_on: Vec<Prerequisite>) -> FlagConfig {
    let segments = vec![
        segment(
            id * 10,
            0,
            100,
            vec![constraint(id, "state", "EQ", r#""CA""#)],
            &[(1, 100)],
        ),
        segment(id * 10 + 1, 1, 100, Vec::new(), &[(2, 100)]),
    ];
    let mut config = flag(id, key, &VARIANTS, segments);
    config.depends_on = depends_on;
    config
}

#[test]
fn evaluate_satisfied_prerequisites_evaluates_segments() {
    let snapshot = Snapshot::build(
        1,
        vec![
            gate(1, "base", Vec::new()),
            gate(
                2,
                "child",
                vec![needs("base", Some("on")), needs("base", None)],
            ),
        ],
    );
    let evaluation = eval(&snapshot, "child", "u", Some(&json!({"state": "CA"})));
    assert_eq!(
        (evaluation.reason, variant_key(&evaluation)),
        (Reason::TargetingMatch, Some("on"))
    );
}

#[test]
fn evaluate_prerequisite_with_other_variant_returns_prerequisite_failed() {
    let snapshot = Snapshot::build(
        1,
        vec![
            gate(1, "base", Vec::new()),
            gate(2, "child", vec![needs("base", Some("on"))]),
        ],
    );
    let evaluation = eval(&snapshot, "child", "u", Some(&json!({"state": "NY"})));
    assert_eq!(
        (evaluation.reason, evaluation.variant, evaluation.segment_id),
        (Reason::PrerequisiteFailed, None, None)
    );
    assert_eq!(
        log_lines(&evaluation),
        [r#"prerequisite "base" failed: it gave variant "off", not "on""#]
    );
}

#[test]
fn evaluate_missing_prerequisite_flag_returns_prerequisite_failed() {
    let snapshot = Snapshot::build(1, vec![gate(2, "child", vec![needs("gone", None)])]);
    let evaluation = eval(&snapshot, "child", "u", None);
    assert_eq!(evaluation.reason, Reason::PrerequisiteFailed);
    assert_eq!(
        log_lines(&evaluation),
        [r#"prerequisite "gone" failed: no flag has that key"#]
    );
}

#[test]
fn evaluate_prerequisite_without_variant_returns_prerequisite_failed() {
    let mut base = gate(1, "base", Vec::new());
    base.enabled = false;
    let snapshot = Snapshot::build(1, vec![base, gate(2, "child", vec![needs("base", None)])]);
    let evaluation = eval(&snapshot, "child", "u", None);
    assert_eq!(
        (evaluation.reason, evaluation.variant),
        (Reason::PrerequisiteFailed, None)
    );
    assert_eq!(
        log_lines(&evaluation),
        [r#"prerequisite "base" failed: it gave no variant"#]
    );
}

#[test]
fn evaluate_stored_cycle_returns_error() {
    let snapshot = Snapshot::build(
        1,
        vec![
            gate(1, "a", vec![needs("b", None)]),
            gate(2, "b", vec![needs("c", None)]),
            gate(3, "c", vec![needs("a", None)]),
            gate(4, "self", vec![needs("self", None)]),
        ],
    );
    for key in ["a", "b", "c", "self"] {
        let evaluation = eval(&snapshot, key, "u", None);
        assert_eq!(
            (evaluation.reason, evaluation.variant),
            (Reason::Error, None),
            "{key}"
        );
        let summary = log_lines(&evaluation).join("\n");
        assert!(
            summary.contains("prerequisites form a cycle through flag"),
            "{key}: {summary}"
        );
    }
}

#[test]
fn evaluate_chain_deeper_than_limit_returns_error_without_overflow() {
    let chain = |length: i64| -> Vec<FlagConfig> {
        (0..length)
            .map(|i| {
                let depends_on = if i + 1 < length {
                    vec![needs(&format!("f{}", i + 1), None)]
                } else {
                    Vec::new()
                };
                gate(i + 1, &format!("f{i}"), depends_on)
            })
            .collect()
    };
    let snapshot = Snapshot::build(1, chain(16));
    assert_eq!(
        eval(&snapshot, "f0", "u", None).reason,
        Reason::TargetingMatch
    );
    let snapshot = Snapshot::build(1, chain(10_000));
    let evaluation = eval(&snapshot, "f0", "u", None);
    assert_eq!(evaluation.reason, Reason::Error);
    assert!(
        log_lines(&evaluation)
            .join("\n")
            .contains("prerequisites nest too deep")
    );
}

#[test]
fn evaluate_wide_cyclic_graph_returns_error_quickly() {
    let keys: Vec<String> = (0..8).map(|i| format!("w{i}")).collect();
    let everyone: Vec<Prerequisite> = keys.iter().map(|key| needs(key, None)).collect();
    let flags = (0..8)
        .map(|i| gate(i + 1, &format!("w{i}"), everyone.clone()))
        .collect();
    let snapshot = Snapshot::build(1, flags);
    assert_eq!(eval(&snapshot, "w0", "u", None).reason, Reason::Error);
}

#[test]
fn evaluate_wide_acyclic_graph_stops_at_evaluation_budget() {
    // Each layer depends on every flag of the next layer: 4^12 paths, far beyond the budget.
    let layers = 12;
    let mut flags = Vec::new();
    for layer in 0..layers {
        for slot in 0..4 {
            let depends_on = if layer + 1 < layers {
                (0..4)
                    .map(|next| needs(&format!("l{}s{next}", layer + 1), None))
                    .collect()
            } else {
                Vec::new()
            };
            flags.push(gate(
                layer * 4 + slot + 1,
                &format!("l{layer}s{slot}"),
                depends_on,
            ));
        }
    }
    let snapshot = Snapshot::build(1, flags);
    let evaluation = eval(&snapshot, "l0s0", "u", None);
    assert_eq!(evaluation.reason, Reason::Error);
}
