//! Constraint matching, data-driven (comparisons, missing values, paths, stored invalid constraints):
//! every case is `check("property OPERATOR value", context, expected)`.

mod fixtures;

use fixtures::{MATCH, check};
use serde_json::{Value, json};

#[test]
fn check_eq_and_neq_compare_same_typed_values() {
    check(r#"state EQ "CA""#, json!({"state": "CA"}), MATCH);
    check(
        r#"state EQ "CA""#,
        json!({"state": "NY"}),
        r#"constraint 7 (state EQ "CA") did not match: property "state" is "NY""#,
    );
    check("age EQ 18", json!({"age": 18.0}), MATCH);
    check("ratio EQ 0.3", json!({"ratio": 0.1 + 0.2}), MATCH);
    check(
        "big EQ 1000000",
        json!({"big": 1_000_000.01}),
        r#"property "big" is 1000000.01"#,
    );
    check("beta EQ true", json!({"beta": true}), MATCH);
    check(
        "beta EQ true",
        json!({"beta": false}),
        r#"property "beta" is false"#,
    );
    check(
        "version EQ semver:\"1.2.3\"",
        json!({"version": "v1.2.3"}),
        MATCH,
    );
    check(
        "at EQ time:\"2026-01-01T00:00:00Z\"",
        json!({"at": "2026-01-01T01:00:00+01:00"}),
        MATCH,
    );
    check(r#"state NEQ "CA""#, json!({"state": "NY"}), MATCH);
    check(
        r#"state NEQ "CA""#,
        json!({"state": "CA"}),
        r#"property "state" is "CA""#,
    );
    check("age NEQ 18", json!({"age": 21}), MATCH);
}

#[test]
fn check_mismatched_types_never_match_even_when_negated() {
    check(
        "age EQ 18",
        json!({"age": "18"}),
        r#"property "age" is "18", not a number"#,
    );
    check(
        r#"state NEQ "CA""#,
        json!({"state": 5}),
        r#"property "state" is 5, not a string"#,
    );
    check("beta EQ true", json!({"beta": "true"}), "not true or false");
    check(
        r#"state NEQ "CA""#,
        json!({"state": ["CA"]}),
        "not a string",
    );
    check(
        r#"state EQ "CA""#,
        json!({"state": {"code": "CA"}}),
        "not a string",
    );
}

#[test]
fn check_missing_null_and_empty_properties_never_match() {
    check(
        r#"state EQ "CA""#,
        json!({}),
        r#"property "state" is missing"#,
    );
    check(
        r#"state NEQ "CA""#,
        json!({}),
        r#"property "state" is missing"#,
    );
    check(
        r#"state NOTIN ["CA"]"#,
        json!({"state": null}),
        r#"property "state" is null"#,
    );
    check(
        r#"tags NOTCONTAINS "beta""#,
        json!({"tags": []}),
        r#"property "tags" is an empty array"#,
    );
    check(
        r#"tags CONTAINS "beta""#,
        json!({"tags": []}),
        "is an empty array",
    );
    check(
        r#"state NEQ "CA""#,
        json!(["not", "an", "object"]),
        "is missing",
    );
    check(r#"state NEQ "CA""#, Value::Null, "is missing");
}

#[test]
fn check_order_operators_compare_numbers() {
    check("age LT 18", json!({"age": 17}), MATCH);
    check("age LT 18", json!({"age": 18}), r#"property "age" is 18"#);
    check("age LTE 18", json!({"age": 18}), MATCH);
    check("age GT 18", json!({"age": 18.5}), MATCH);
    check("age GT 18", json!({"age": 18}), "is 18");
    check("age GTE 18", json!({"age": 18}), MATCH);
    check("age GTE -1.5", json!({"age": -1.5}), MATCH);
    check(
        "age LT 18",
        json!({"age": "17"}),
        r#"is "17", not a number"#,
    );
}

#[test]
fn check_semver_literals_compare_by_precedence() {
    check(r#"app GTE semver:"1.2.3""#, json!({"app": "1.10.0"}), MATCH);
    check(
        r#"app GTE semver:"1.2.3""#,
        json!({"app": "1.2.2"}),
        r#"property "app" is "1.2.2""#,
    );
    check(
        r#"app LT semver:"1.2.3""#,
        json!({"app": "1.2.3-beta.1"}),
        MATCH,
    );
    check(r#"app GT semver:"1.2.3""#, json!({"app": "v2.0.0"}), MATCH);
    check(
        r#"app LTE semver:"1.2.3""#,
        json!({"app": "1.2.3+build.7"}),
        MATCH,
    );
    check(
        r#"app GT semver:"1.2.3""#,
        json!({"app": "latest"}),
        "not a semantic version",
    );
    check(
        r#"app GT semver:"1.2.3""#,
        json!({"app": 2}),
        "not a semantic version",
    );
}

#[test]
fn check_time_literals_compare_instants() {
    check(
        r#"at LT time:"2026-01-01T00:00:00Z""#,
        json!({"at": "2025-12-31T23:59:59Z"}),
        MATCH,
    );
    check(
        r#"at LT time:"2026-01-01T00:00:00Z""#,
        json!({"at": "2026-01-01T00:30:00+01:00"}),
        MATCH,
    );
    check(
        r#"at GTE time:"2026-01-01T00:00:00Z""#,
        json!({"at": "2025-06-01T00:00:00Z"}),
        "is \"2025-06-01T00:00:00Z\"",
    );
    check(
        r#"at GT time:"2026-01-01T00:00:00Z""#,
        json!({"at": "tomorrow"}),
        "not an RFC 3339 timestamp",
    );
}

#[test]
fn check_references_compare_two_context_values() {
    check("age LT {limit}", json!({"age": 18, "limit": 21}), MATCH);
    check(
        "age GTE {rules.min}",
        json!({"age": 18, "rules": {"min": 21}}),
        "is 18",
    );
    check(
        "email EQ {user.email}",
        json!({"email": "a@x", "user": {"email": "a@x"}}),
        MATCH,
    );
    check(
        "email NEQ {user.email}",
        json!({"email": "a@x", "user": {"email": "b@x"}}),
        MATCH,
    );
    check(
        "url STARTS_WITH {base}",
        json!({"url": "https://x/a", "base": "https://x"}),
        MATCH,
    );
}

#[test]
fn check_unusable_references_never_match() {
    check(
        "age LT {limit}",
        json!({"age": 18}),
        "reference {limit} is missing",
    );
    check(
        "age LT {limit}",
        json!({"age": 18, "limit": null}),
        "reference {limit} is null",
    );
    check(
        "age LT {limit}",
        json!({"age": 18, "limit": "x"}),
        r#"reference {limit} is "x", not a number"#,
    );
    check(
        "email EQ {other}",
        json!({"email": "a@x", "other": 1}),
        "reference {other} is 1, not a string",
    );
}

#[test]
fn check_property_paths_resolve_nested_indexed_and_flat_keys() {
    check(
        r#"user.address.country EQ "CA""#,
        json!({"user": {"address": {"country": "CA"}}}),
        MATCH,
    );
    check(
        r#"user.address.country EQ "CA""#,
        json!({"user": {"address": "CA"}}),
        "is missing",
    );
    check(r#"items[0] EQ "a""#, json!({"items": ["a", "z"]}), MATCH);
    check(r#"items[-1] EQ "z""#, json!({"items": ["a", "z"]}), MATCH);
    check(
        r#"items[5] EQ "a""#,
        json!({"items": ["a"]}),
        r#"property "items[5]" is missing"#,
    );
    check(
        r#"orders[0].lines[-1].sku EQ "x""#,
        json!({"orders": [{"lines": [{"sku": "y"}, {"sku": "x"}]}]}),
        MATCH,
    );
    let both = json!({"user.email": "flat@x", "user": {"email": "nested@x"}});
    check(r#"user.email EQ "flat@x""#, both.clone(), MATCH);
    check(r#"user.email EQ "nested@x""#, both, r#"is "flat@x""#);
    check(
        r#"user.email EQ "nested@x""#,
        json!({"user": {"email": "nested@x"}}),
        MATCH,
    );
}

#[test]
fn check_stored_invalid_constraints_never_match() {
    check(
        "state EQ CA",
        json!({"state": "CA"}),
        r#"invalid constraint 7 (state EQ CA): value: value CA is not a valid literal; string values must be quoted: "CA""#,
    );
    check(
        r#"state eq "CA""#,
        json!({"state": "CA"}),
        "invalid constraint 7 (state eq \"CA\"): operator: unknown operator",
    );
    check(
        r#"email EREG "(""#,
        json!({"email": "("}),
        "not a valid regular expression",
    );
    check("state IN []", json!({"state": "CA"}), "invalid constraint");
    check(
        r#"a..b EQ "x""#,
        json!({"a..b": "x"}),
        "invalid constraint 7 (a..b EQ \"x\"): property:",
    );
}
