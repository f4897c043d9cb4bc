//! Constraint matching, data-driven (regexes, array membership, `CONTAINS`, prefixes and suffixes):
//! every case is `check("property OPERATOR value", context, expected)`.

mod fixtures;

use fixtures::{MATCH, check};
use serde_json::json;

#[test]
fn check_regex_operators_match_unanchored() {
    check(
        r#"email EREG "@example\\.com$""#,
        json!({"email": "ann@example.com"}),
        MATCH,
    );
    check(
        r#"email EREG "@example\\.com$""#,
        json!({"email": "ann@example.org"}),
        r#"is "ann@example.org""#,
    );
    check(
        r#"email EREG "example""#,
        json!({"email": "ann@example.org"}),
        MATCH,
    );
    check(
        r#"email NEREG "^admin""#,
        json!({"email": "ann@example.org"}),
        MATCH,
    );
    check(
        r#"email NEREG "^admin""#,
        json!({"email": "admin@example.org"}),
        "did not match",
    );
    check(
        r#"email EREG "x""#,
        json!({"email": 5}),
        "is 5, not a string",
    );
}

#[test]
fn check_membership_operators_test_array_literals() {
    check(r#"state IN ["CA","NY"]"#, json!({"state": "NY"}), MATCH);
    check(
        r#"state IN ["CA","NY"]"#,
        json!({"state": "TX"}),
        r#"is "TX""#,
    );
    check(r#"state NOTIN ["CA","NY"]"#, json!({"state": "TX"}), MATCH);
    check(
        r#"state NOTIN ["CA","NY"]"#,
        json!({"state": "CA"}),
        "is \"CA\"",
    );
    check("age IN [18, 21]", json!({"age": 21.0}), MATCH);
    check("age NOTIN [18, 21]", json!({"age": 19}), MATCH);
    check(
        r#"state IN ["CA"]"#,
        json!({"state": 5}),
        "is 5, not a string",
    );
    check("age IN [18]", json!({"age": "18"}), "not a number");
}

#[test]
fn check_contains_operators_test_arrays_and_substrings() {
    check(
        r#"tags CONTAINS "beta""#,
        json!({"tags": ["alpha", "beta"]}),
        MATCH,
    );
    check(
        r#"tags CONTAINS "beta""#,
        json!({"tags": ["alpha"]}),
        r#"is ["alpha"]"#,
    );
    check(
        r#"tags NOTCONTAINS "beta""#,
        json!({"tags": ["alpha"]}),
        MATCH,
    );
    check("ids CONTAINS 3", json!({"ids": [1, 2, 3.0]}), MATCH);
    check("ids CONTAINS 3", json!({"ids": ["3"]}), "is [\"3\"]");
    check(
        "flags CONTAINS true",
        json!({"flags": [false, true]}),
        MATCH,
    );
    check(r#"name CONTAINS "ann""#, json!({"name": "joanna"}), MATCH);
    check(
        r#"name NOTCONTAINS "bob""#,
        json!({"name": "joanna"}),
        MATCH,
    );
    check("name CONTAINS 3", json!({"name": "a3"}), "not an array");
    check(
        r#"tags CONTAINS "a""#,
        json!({"tags": {"a": 1}}),
        "not an array",
    );
}

#[test]
fn check_affix_operators_compare_strings() {
    check(
        r#"url STARTS_WITH "https://""#,
        json!({"url": "https://x"}),
        MATCH,
    );
    check(
        r#"url STARTS_WITH "https://""#,
        json!({"url": "http://x"}),
        r#"is "http://x""#,
    );
    check(r#"file ENDS_WITH ".pdf""#, json!({"file": "a.pdf"}), MATCH);
    check(
        r#"file ENDS_WITH ".pdf""#,
        json!({"file": "a.png"}),
        "is \"a.png\"",
    );
    check(
        r#"file ENDS_WITH ".pdf""#,
        json!({"file": 1}),
        "not a string",
    );
}
