//! Matching a compiled [`Constraint`] against a request context, and wording why it did not match.
//!
//! Invariant: matching allocates nothing (except that parsing a context version with long pre-release or
//! build identifiers may); a [`Miss`] borrows the values it mentions and is turned into text only when the
//! caller asked for a debug log.
//! A missing property, `null`, a type mismatch or an empty array never matches, for negated operators too.
//! Numbers compare as `f64` with a relative tolerance of 1e-9 for every operator, so `LTE` and `GTE` hold
//! for numbers `EQ` considers equal; versions compare by semantic-version precedence (build metadata ignored).
//! Deliberate Flagr compatibility: `CONTAINS`/`NOTCONTAINS` with a string context and a string literal test
//! for a substring.

use crate::constraint::{Constraint, Op, Test};
use crate::literal::Literal;
use crate::path::Path;
use chrono::{DateTime, FixedOffset};
use semver::Version;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Why a constraint did not match.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Miss<'a> {
    /// The constraint did not compile.
    Invalid,
    /// The property is absent.
    Missing,
    /// The property is `null`.
    Null,
    /// The property is `[]`.
    EmptyArray,
    /// The property has a type the operator cannot compare.
    WrongType {
        found: &'a Value,
        expected: &'static str,
    },
    /// The comparison ran and came out false.
    Compared { found: &'a Value },
    /// The referenced property is absent (`other == None`), null or of the wrong type.
    Reference {
        path: &'a Path,
        other: Option<&'a Value>,
        expected: &'static str,
    },
}

/// Relative tolerance for number equality.
const EPSILON: f64 = 1e-9;

/// Whether two numbers are equal within [`EPSILON`] relative to the larger magnitude.
fn approx_eq(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= EPSILON * a.abs().max(b.abs())
}

/// Orders numbers, treating approximately equal ones as equal.
fn cmp_f64(a: f64, b: f64) -> Ordering {
    if approx_eq(a, b) {
        Ordering::Equal
    } else if a < b {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

impl Constraint {
    /// Whether the context satisfies the constraint; `Err` says why not.
    pub(crate) fn check<'a>(
        &'a self,
        context: Option<&'a Map<String, Value>>,
    ) -> Result<(), Miss<'a>> {
        let Some(property) = &self.property else {
            return Err(Miss::Invalid);
        };
        let found = property.resolve(context).ok_or(Miss::Missing)?;
        match found {
            Value::Null => return Err(Miss::Null),
            Value::Array(items) if items.is_empty() => return Err(Miss::EmptyArray),
            _ => {}
        }
        let hit = match &self.test {
            Test::Invalid(_) => return Err(Miss::Invalid),
            Test::Regex { negate, regex } => regex.is_match(text(found)?) != *negate,
            Test::Literal(op, literal) => literal_test(*op, literal, found, context)?,
        };
        if hit {
            Ok(())
        } else {
            Err(Miss::Compared { found })
        }
    }

    /// The debug-log line for a miss.
    pub(crate) fn describe(&self, miss: &Miss<'_>) -> String {
        let (id, text) = (self.id, &self.text);
        if let Test::Invalid(reason) = &self.test {
            return format!("invalid constraint {id} ({text}): {reason}");
        }
        let property = self.property.as_ref().map_or("", Path::as_str);
        let head = format!("constraint {id} ({text}) did not match");
        match miss {
            Miss::Invalid => format!("invalid constraint {id} ({text})"),
            Miss::Missing => format!("{head}: property {property:?} is missing"),
            Miss::Null => format!("{head}: property {property:?} is null"),
            Miss::EmptyArray => format!("{head}: property {property:?} is an empty array"),
            Miss::WrongType { found, expected } => {
                format!(
                    "{head}: property {property:?} is {}, not {expected}",
                    shown(found)
                )
            }
            Miss::Compared { found } => {
                format!("{head}: property {property:?} is {}", shown(found))
            }
            Miss::Reference {
                path,
                other,
                expected,
            } => {
                let reference = path.as_str();
                match other {
                    None => format!("{head}: reference {{{reference}}} is missing"),
                    Some(Value::Null) => format!("{head}: reference {{{reference}}} is null"),
                    Some(value) => format!(
                        "{head}: reference {{{reference}}} is {}, not {expected}",
                        shown(value)
                    ),
                }
            }
        }
    }
}

/// A value as JSON, cut to a readable length.
fn shown(value: &Value) -> String {
    const LIMIT: usize = 80;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

/// Applies an operator with a literal.
fn literal_test<'a>(
    op: Op,
    literal: &'a Literal,
    found: &'a Value,
    context: Option<&'a Map<String, Value>>,
) -> Result<bool, Miss<'a>> {
    match op {
        Op::Eq | Op::Neq => Ok(equals(literal, found, context)? != (op == Op::Neq)),
        Op::Lt => Ok(order(literal, found, context)?.is_lt()),
        Op::Lte => Ok(order(literal, found, context)?.is_le()),
        Op::Gt => Ok(order(literal, found, context)?.is_gt()),
        Op::Gte => Ok(order(literal, found, context)?.is_ge()),
        Op::In | Op::NotIn => Ok(member(literal, found)? != (op == Op::NotIn)),
        Op::Contains | Op::NotContains => Ok(contains(literal, found)? != (op == Op::NotContains)),
        Op::StartsWith | Op::EndsWith => {
            let haystack = text(found)?;
            let affix = match literal {
                Literal::Str(affix) => affix.as_str(),
                Literal::Ref(path) => reference_text(path, context)?,
                _ => return Err(Miss::Invalid),
            };
            Ok(if op == Op::StartsWith {
                haystack.starts_with(affix)
            } else {
                haystack.ends_with(affix)
            })
        }
        // Invariant: regex operators compile to `Test::Regex`, never to `Test::Literal`.
        Op::Ereg | Op::Nereg => Err(Miss::Invalid),
    }
}

/// `EQ` without negation: same type and equal.
fn equals<'a>(
    literal: &'a Literal,
    found: &'a Value,
    context: Option<&'a Map<String, Value>>,
) -> Result<bool, Miss<'a>> {
    match literal {
        Literal::Str(expected) => Ok(text(found)? == expected),
        Literal::Num(expected) => Ok(approx_eq(number(found)?, *expected)),
        Literal::Bool(expected) => match found {
            Value::Bool(actual) => Ok(actual == expected),
            _ => Err(Miss::WrongType {
                found,
                expected: "true or false",
            }),
        },
        Literal::Semver(expected) => Ok(version(found)?.cmp_precedence(expected).is_eq()),
        Literal::Time(expected) => Ok(time(found)? == *expected),
        Literal::Ref(path) => same_scalar(found, resolve_reference(path, context)?, path),
        Literal::Strs(_) | Literal::Nums(_) => Err(Miss::Invalid),
    }
}

/// Compares two context values of the same scalar type.
fn same_scalar<'a>(found: &'a Value, other: &'a Value, path: &'a Path) -> Result<bool, Miss<'a>> {
    match (found, other) {
        (Value::String(a), Value::String(b)) => Ok(a == b),
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => Ok(approx_eq(a, b)),
            _ => Ok(false),
        },
        (Value::Bool(a), Value::Bool(b)) => Ok(a == b),
        (Value::String(_), _) => Err(Miss::Reference {
            path,
            other: Some(other),
            expected: "a string",
        }),
        (Value::Number(_), _) => Err(Miss::Reference {
            path,
            other: Some(other),
            expected: "a number",
        }),
        (Value::Bool(_), _) => Err(Miss::Reference {
            path,
            other: Some(other),
            expected: "true or false",
        }),
        _ => Err(Miss::WrongType {
            found,
            expected: "a string, a number or true/false",
        }),
    }
}

/// How the context value orders against the literal.
fn order<'a>(
    literal: &'a Literal,
    found: &'a Value,
    context: Option<&'a Map<String, Value>>,
) -> Result<Ordering, Miss<'a>> {
    match literal {
        Literal::Num(bound) => Ok(cmp_f64(number(found)?, *bound)),
        Literal::Semver(bound) => Ok(version(found)?.cmp_precedence(bound)),
        Literal::Time(bound) => Ok(time(found)?.cmp(bound)),
        Literal::Ref(path) => {
            let actual = number(found)?;
            let other = resolve_reference(path, context)?;
            let bound = other.as_f64().ok_or(Miss::Reference {
                path,
                other: Some(other),
                expected: "a number",
            })?;
            Ok(cmp_f64(actual, bound))
        }
        _ => Err(Miss::Invalid),
    }
}

/// `IN` without negation: the context scalar is an element of the array literal.
fn member<'a>(literal: &'a Literal, found: &'a Value) -> Result<bool, Miss<'a>> {
    match literal {
        Literal::Strs(items) => {
            let needle = text(found)?;
            Ok(items
                .binary_search_by(|item| item.as_str().cmp(needle))
                .is_ok())
        }
        Literal::Nums(items) => {
            let needle = number(found)?;
            Ok(items.iter().any(|item| approx_eq(*item, needle)))
        }
        _ => Err(Miss::Invalid),
    }
}

/// `CONTAINS` without negation: an array context holds the literal; a string context holds it as a substring.
fn contains<'a>(literal: &'a Literal, found: &'a Value) -> Result<bool, Miss<'a>> {
    match (found, literal) {
        (Value::Array(items), _) => Ok(items.iter().any(|item| scalar_is(item, literal))),
        (Value::String(haystack), Literal::Str(needle)) => Ok(haystack.contains(needle.as_str())),
        _ => Err(Miss::WrongType {
            found,
            expected: "an array",
        }),
    }
}

/// Whether a context value is the scalar literal (same type and equal).
fn scalar_is(item: &Value, literal: &Literal) -> bool {
    match (item, literal) {
        (Value::String(a), Literal::Str(b)) => a == b,
        (Value::Number(a), Literal::Num(b)) => a.as_f64().is_some_and(|a| approx_eq(a, *b)),
        (Value::Bool(a), Literal::Bool(b)) => a == b,
        _ => false,
    }
}

/// The value a reference names; missing or null is a miss.
fn resolve_reference<'a>(
    path: &'a Path,
    context: Option<&'a Map<String, Value>>,
) -> Result<&'a Value, Miss<'a>> {
    match path.resolve(context) {
        None => Err(Miss::Reference {
            path,
            other: None,
            expected: "",
        }),
        Some(null @ Value::Null) => Err(Miss::Reference {
            path,
            other: Some(null),
            expected: "",
        }),
        Some(other) => Ok(other),
    }
}

/// The string a reference names.
fn reference_text<'a>(
    path: &'a Path,
    context: Option<&'a Map<String, Value>>,
) -> Result<&'a str, Miss<'a>> {
    let other = resolve_reference(path, context)?;
    other.as_str().ok_or(Miss::Reference {
        path,
        other: Some(other),
        expected: "a string",
    })
}

/// The context value as a string.
fn text(found: &Value) -> Result<&str, Miss<'_>> {
    found.as_str().ok_or(Miss::WrongType {
        found,
        expected: "a string",
    })
}

/// The context value as a number.
fn number(found: &Value) -> Result<f64, Miss<'_>> {
    found.as_f64().ok_or(Miss::WrongType {
        found,
        expected: "a number",
    })
}

/// The context value as a semantic version; a leading `v` is allowed.
fn version(found: &Value) -> Result<Version, Miss<'_>> {
    let wrong = Miss::WrongType {
        found,
        expected: "a semantic version such as \"1.2.3\"",
    };
    let raw = found.as_str().ok_or(wrong)?;
    Version::parse(raw.strip_prefix(['v', 'V']).unwrap_or(raw)).map_err(|_| wrong)
}

/// The context value as an RFC 3339 timestamp.
fn time(found: &Value) -> Result<DateTime<FixedOffset>, Miss<'_>> {
    let wrong = Miss::WrongType {
        found,
        expected: "an RFC 3339 timestamp such as \"2026-01-01T00:00:00Z\"",
    };
    let raw = found.as_str().ok_or(wrong)?;
    DateTime::parse_from_rfc3339(raw).map_err(|_| wrong)
}
