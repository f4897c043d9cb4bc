//! Constraint compilation and save-time validation: turning a stored `(property, operator, value)` into a
//! [`Constraint`] ready to match, or into a [`ConstraintError`] naming the field at fault.
//!
//! Invariant: [`validate_constraint`] and [`Constraint::compile`] share one code path, so whatever the API
//! accepts compiles in a snapshot; a constraint that fails to compile there (stored bad data) is kept as
//! [`Test::Invalid`] and never matches.

use crate::literal::Literal;
use crate::model::ConstraintConfig;
use crate::path::Path;
use regex::Regex;

/// A constraint the API must not accept, with the request field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConstraintError {
    /// `"property"`, `"operator"` or `"value"`.
    pub field: &'static str,
    /// What is wrong and how to write it correctly (lower case, no trailing period).
    pub message: String,
}

impl ConstraintError {
    fn new(field: &'static str, message: String) -> Self {
        ConstraintError { field, message }
    }
}

/// The operators of `evaluation.md`, written exactly in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Ereg,
    Nereg,
    In,
    NotIn,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

const OPERATORS: &str = "EQ, NEQ, LT, LTE, GT, GTE, EREG, NEREG, IN, NOTIN, CONTAINS, NOTCONTAINS, STARTS_WITH, ENDS_WITH";

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "EQ" => Op::Eq,
            "NEQ" => Op::Neq,
            "LT" => Op::Lt,
            "LTE" => Op::Lte,
            "GT" => Op::Gt,
            "GTE" => Op::Gte,
            "EREG" => Op::Ereg,
            "NEREG" => Op::Nereg,
            "IN" => Op::In,
            "NOTIN" => Op::NotIn,
            "CONTAINS" => Op::Contains,
            "NOTCONTAINS" => Op::NotContains,
            "STARTS_WITH" => Op::StartsWith,
            "ENDS_WITH" => Op::EndsWith,
            _ => return None,
        })
    }

    /// Whether the operator accepts this kind of literal.
    fn accepts(self, literal: &Literal) -> bool {
        use Literal as L;
        match self {
            Op::Eq | Op::Neq => matches!(
                literal,
                L::Str(_) | L::Num(_) | L::Bool(_) | L::Ref(_) | L::Semver(_) | L::Time(_)
            ),
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
                matches!(literal, L::Num(_) | L::Semver(_) | L::Time(_) | L::Ref(_))
            }
            Op::Ereg | Op::Nereg => matches!(literal, L::Str(_)),
            Op::In | Op::NotIn => match literal {
                L::Strs(items) => !items.is_empty(),
                L::Nums(items) => !items.is_empty(),
                _ => false,
            },
            Op::Contains | Op::NotContains => matches!(literal, L::Str(_) | L::Num(_) | L::Bool(_)),
            Op::StartsWith | Op::EndsWith => matches!(literal, L::Str(_) | L::Ref(_)),
        }
    }

    /// What the operator accepts, with examples.
    fn needs(self) -> &'static str {
        match self {
            Op::Eq | Op::Neq => {
                "a quoted string such as \"CA\", a number, true/false, {other.property}, semver:\"1.2.3\" or time:\"2026-01-01T00:00:00Z\" (use IN for a list)"
            }
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
                "a number such as 18, semver:\"1.2.3\", time:\"2026-01-01T00:00:00Z\" or {other.property}"
            }
            Op::Ereg | Op::Nereg => "a quoted regular expression, e.g. \"^beta-\"",
            Op::In | Op::NotIn => {
                "a non-empty JSON array of strings or of numbers, e.g. [\"CA\",\"NY\"] or [1,2]"
            }
            Op::Contains | Op::NotContains => {
                "a quoted string, a number or true/false, e.g. \"beta\""
            }
            Op::StartsWith | Op::EndsWith => {
                "a quoted string or {other.property}, e.g. \"https://\""
            }
        }
    }
}

/// What a compiled constraint tests.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// A valid operator with a literal it accepts (string sets sorted for binary search).
    Literal(Op, Literal),
    /// `EREG` (`negate == false`) or `NEREG`.
    Regex { negate: bool, regex: Regex },
    /// Stored data that does not compile: never matches.
    Invalid(String),
}

/// A compiled constraint.
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    pub(crate) id: i64,
    /// `property OPERATOR value` as stored, for debug logs.
    pub(crate) text: String,
    /// `None` only when the constraint is invalid.
    pub(crate) property: Option<Path>,
    pub(crate) test: Test,
}

impl Constraint {
    /// Compiles a stored constraint; bad data yields a constraint that never matches.
    pub(crate) fn compile(config: &ConstraintConfig) -> Constraint {
        let text = format!("{} {} {}", config.property, config.operator, config.value);
        match compile_parts(&config.property, &config.operator, &config.value) {
            Ok((property, test)) => Constraint {
                id: config.id,
                text,
                property: Some(property),
                test,
            },
            Err(error) => Constraint {
                id: config.id,
                text,
                property: None,
                test: Test::Invalid(format!("{}: {}", error.field, error.message)),
            },
        }
    }
}

/// Checks a constraint before it is saved: the property is a path, the operator is known and the value is
/// a literal that operator accepts (a regex must compile).
pub fn validate_constraint(
    property: &str,
    operator: &str,
    value: &str,
) -> Result<(), ConstraintError> {
    compile_parts(property, operator, value).map(|_| ())
}

/// The shared compile path of [`validate_constraint`] and [`Constraint::compile`].
fn compile_parts(
    property: &str,
    operator: &str,
    value: &str,
) -> Result<(Path, Test), ConstraintError> {
    let path = parse_property(property)?;
    let op = Op::parse(operator).ok_or_else(|| {
        ConstraintError::new(
            "operator",
            format!("unknown operator {operator:?}; use one of {OPERATORS} (upper case)"),
        )
    })?;
    let literal =
        Literal::parse(value).map_err(|message| ConstraintError::new("value", message))?;
    if !op.accepts(&literal) {
        return Err(ConstraintError::new(
            "value",
            format!(
                "operator {operator} needs {}, not {}",
                op.needs(),
                value.trim()
            ),
        ));
    }
    let test = match (op, literal) {
        (Op::Ereg | Op::Nereg, Literal::Str(pattern)) => Test::Regex {
            negate: op == Op::Nereg,
            regex: compile_regex(&pattern)?,
        },
        (op, Literal::Strs(mut items)) => {
            items.sort_unstable();
            Test::Literal(op, Literal::Strs(items))
        }
        (op, literal) => Test::Literal(op, literal),
    };
    Ok((path, test))
}

/// Parses the property path, with a message showing valid forms.
fn parse_property(property: &str) -> Result<Path, ConstraintError> {
    if property.trim().is_empty() {
        return Err(ConstraintError::new(
            "property",
            "property is empty; name a context property such as country, user.email or items[0]"
                .to_owned(),
        ));
    }
    Path::parse(property).map_err(|_| {
        ConstraintError::new(
            "property",
            format!(
                "property {property:?} is not a valid path; separate keys with dots and put indexes in brackets, e.g. user.address.country or items[-1]"
            ),
        )
    })
}

/// Compiles a regex, reporting the regex crate's reason on one line.
fn compile_regex(pattern: &str) -> Result<Regex, ConstraintError> {
    Regex::new(pattern).map_err(|error| {
        let reason = match &error {
            regex::Error::Syntax(text) => text
                .lines()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or(text)
                .to_owned(),
            other => other.to_string(),
        };
        ConstraintError::new(
            "value",
            format!(
                "{} is not a valid regular expression: {reason}; escape special characters with a backslash, e.g. \"^v1\\\\.2\"",
                serde_json::Value::String(pattern.to_owned())
            ),
        )
    })
}
