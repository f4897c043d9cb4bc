//! Save-time validation of constraints: what `validate_constraint` accepts, and what it rejects with which
//! field and which hint.

use flagent_eval::{ConstraintError, validate_constraint};

/// Asserts that `"property OPERATOR value"` validates, or fails on `field` with `hint` in its message.
#[track_caller]
fn check(stored: &str, expect: Result<(), (&str, &str)>) {
    let mut parts = stored.splitn(3, ' ');
    let (property, operator, value) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let got = validate_constraint(property, operator, value);
    match (expect, got) {
        (Ok(()), Ok(())) => {}
        (
            Err((field, hint)),
            Err(ConstraintError {
                field: got_field,
                message,
            }),
        ) => {
            assert_eq!(got_field, field, "{stored}: {message}");
            assert!(
                message.contains(hint),
                "{stored}: expected {hint:?} in {message:?}"
            );
            let first = message.chars().next().unwrap_or(' ');
            assert!(
                !first.is_uppercase() && !message.ends_with('.'),
                "{stored}: wording of {message:?}"
            );
        }
        (expect, got) => panic!("{stored}: expected {expect:?}, got {got:?}"),
    }
}

#[test]
fn validate_every_operator_with_allowed_literals_accepts() {
    for ok in [
        r#"state EQ "CA""#,
        "age EQ 18",
        "beta EQ true",
        "age EQ {limit}",
        r#"app EQ semver:"1.2.3""#,
        r#"at EQ time:"2026-01-01T00:00:00Z""#,
        r#"state NEQ "CA""#,
        "age LT 18",
        "age LTE -2.5",
        r#"app GT semver:"1.2.3-beta.1""#,
        r#"at GTE time:"2026-01-01T00:00:00+01:00""#,
        "age LT {rules.max}",
        r#"email EREG "^a.*@example\\.com$""#,
        r#"email NEREG "admin""#,
        r#"state IN ["CA","NY"]"#,
        "age NOTIN [1, 2.5]",
        r#"tags CONTAINS "beta""#,
        "ids NOTCONTAINS 3",
        "flags CONTAINS false",
        r#"url STARTS_WITH "https://""#,
        "url ENDS_WITH {suffix}",
        r#"items[-1] EQ "z""#,
        r#"user.address.country EQ  "CA" "#,
        r#"orders[0].lines[2].sku EQ "x""#,
    ] {
        check(ok, Ok(()));
    }
}

#[test]
fn validate_bare_word_rejects_with_quoting_hint() {
    check(
        "state EQ CA",
        Err(("value", r#"string values must be quoted: "CA""#)),
    );
    check(
        "state EQ New York",
        Err(("value", r#"string values must be quoted: "New York""#)),
    );
    check(
        "state EQ 'CA'",
        Err(("value", r#"string values must be quoted: "CA""#)),
    );
    check(
        "state IN [CA, NY]",
        Err(("value", r#"string values must be quoted: ["CA","NY"]"#)),
    );
    check("app GT 1.2.3", Err(("value", r#"semver:"1.2.3""#)));
}

#[test]
fn validate_bad_property_rejects_property() {
    check(r#" EQ "CA""#, Err(("property", "property is empty")));
    check(
        r#"a..b EQ "CA""#,
        Err(("property", "e.g. user.address.country or items[-1]")),
    );
    check(r#"items[x] EQ "CA""#, Err(("property", "not a valid path")));
}

#[test]
fn validate_unknown_operator_rejects_operator() {
    check(
        r#"state eq "CA""#,
        Err(("operator", r#"unknown operator "eq"; use one of EQ, NEQ"#)),
    );
    check(
        r#"state LIKE "CA""#,
        Err(("operator", "STARTS_WITH, ENDS_WITH")),
    );
}

#[test]
fn validate_literal_not_allowed_for_operator_rejects_value() {
    check(r#"state EQ ["CA"]"#, Err(("value", "use IN for a list")));
    check(
        r#"state LT "CA""#,
        Err(("value", "operator LT needs a number")),
    );
    check(
        "email EREG 5",
        Err(("value", "a quoted regular expression")),
    );
    check(
        r#"state IN "CA""#,
        Err(("value", r#"e.g. ["CA","NY"] or [1,2]"#)),
    );
    check("state IN []", Err(("value", "non-empty JSON array")));
    check(
        r#"tags CONTAINS ["a"]"#,
        Err(("value", "operator CONTAINS needs")),
    );
    check(
        "url STARTS_WITH 5",
        Err(("value", "a quoted string or {other.property}")),
    );
    check(
        r#"app EQ {"a":1}"#,
        Err(("value", "write {other.property}")),
    );
}

#[test]
fn validate_malformed_literals_rejects_value_with_example() {
    check(r#"state EQ """#, Ok(()));
    check("state EQ", Err(("value", "value is empty")));
    check("state EQ null", Err(("value", "null is not a valid value")));
    check(
        r#"state IN ["CA", 1]"#,
        Err(("value", "only strings or only numbers")),
    );
    check(
        r#"state IN [true]"#,
        Err(("value", "only strings or only numbers")),
    );
    check(
        r#"app GT semver:"1.2""#,
        Err(("value", r#"write semver:"1.2.3""#)),
    );
    check(
        "app GT semver:1.2.3",
        Err(("value", "needs a quoted version")),
    );
    check(
        r#"at GT time:"2026-01-01""#,
        Err(("value", r#"time:"2026-01-01T00:00:00Z""#)),
    );
    check(
        "age LT {a..b}",
        Err(("value", "reference {a..b} is not valid")),
    );
    check(
        r#"state EQ "CA"#,
        Err(("value", "not a valid quoted string")),
    );
}

#[test]
fn validate_invalid_regex_rejects_with_regex_error() {
    check(
        r#"email EREG "(""#,
        Err((
            "value",
            r#""(" is not a valid regular expression: unclosed group"#,
        )),
    );
    check(
        r#"email NEREG "a{2""#,
        Err(("value", "not a valid regular expression")),
    );
}
