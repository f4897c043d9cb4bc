//! Typed constraint literals: how the text of a constraint's `value` is read.
//!
//! A literal is a JSON string, number, `true`/`false`, a JSON array of strings or of numbers, a reference
//! `{other.property}`, `semver:"1.2.3"` or `time:"2026-01-01T00:00:00Z"`.
//! Invariant: parsing never panics; every error message is lower case, has no trailing period and shows
//! how to write a correct value (a bare word gets the hint `string values must be quoted: "CA"`).

use crate::path::Path;
use chrono::{DateTime, FixedOffset};
use semver::Version;
use serde_json::Value;

/// A parsed literal.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// `"text"`.
    Str(String),
    /// A JSON number.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A JSON array of strings.
    Strs(Vec<String>),
    /// A JSON array of numbers.
    Nums(Vec<f64>),
    /// `{other.property}`.
    Ref(Path),
    /// `semver:"1.2.3"`.
    Semver(Version),
    /// `time:"2026-01-01T00:00:00Z"`.
    Time(DateTime<FixedOffset>),
}

/// How every kind of literal is written, for messages.
pub(crate) const LITERAL_FORMS: &str = "a quoted string such as \"CA\", a number, true/false, \
     an array such as [\"CA\",\"NY\"], {other.property}, semver:\"1.2.3\" or time:\"2026-01-01T00:00:00Z\"";

impl Literal {
    /// Parses the text of a constraint value.
    pub(crate) fn parse(text: &str) -> Result<Literal, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("value is empty; write {LITERAL_FORMS}"));
        }
        if let Some(rest) = text.strip_prefix("semver:") {
            return parse_semver(rest);
        }
        if let Some(rest) = text.strip_prefix("time:") {
            return parse_time(rest);
        }
        if text.starts_with('{') {
            return parse_reference(text);
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value) => from_json(value),
            Err(error) => Err(unparsable(text, &error)),
        }
    }
}

/// Reads `semver:"…"` after the prefix.
fn parse_semver(rest: &str) -> Result<Literal, String> {
    const HOW: &str = "write semver:\"1.2.3\"";
    let Ok(text) = serde_json::from_str::<String>(rest) else {
        return Err(format!("semver:{rest} needs a quoted version; {HOW}"));
    };
    let bare = text.strip_prefix(['v', 'V']).unwrap_or(&text);
    Version::parse(bare)
        .map(Literal::Semver)
        .map_err(|error| format!("semver:{rest} is not a semantic version ({error}); {HOW}"))
}

/// Reads `time:"…"` after the prefix.
fn parse_time(rest: &str) -> Result<Literal, String> {
    const HOW: &str = "write an RFC 3339 timestamp such as time:\"2026-01-01T00:00:00Z\"";
    let Ok(text) = serde_json::from_str::<String>(rest) else {
        return Err(format!("time:{rest} needs a quoted timestamp; {HOW}"));
    };
    DateTime::parse_from_rfc3339(&text)
        .map(Literal::Time)
        .map_err(|error| format!("time:{rest} is not a valid timestamp ({error}); {HOW}"))
}

/// Reads `{other.property}`.
fn parse_reference(text: &str) -> Result<Literal, String> {
    if serde_json::from_str::<Value>(text).is_ok_and(|value| value.is_object()) {
        return Err(
            "a JSON object is not a valid value; to compare with another property write {other.property}"
                .to_owned(),
        );
    }
    let inner = text
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .map(str::trim);
    match inner.map(Path::parse) {
        Some(Ok(path)) => Ok(Literal::Ref(path)),
        _ => Err(format!(
            "reference {text} is not valid; write {{other.property}}, e.g. {{user.country}} or {{items[0]}}"
        )),
    }
}

/// Turns parsed JSON into a literal.
fn from_json(value: Value) -> Result<Literal, String> {
    match value {
        Value::String(text) => Ok(Literal::Str(text)),
        Value::Number(number) => number
            .as_f64()
            .map(Literal::Num)
            .ok_or_else(|| format!("number {number} is out of range; write a smaller number")),
        Value::Bool(flag) => Ok(Literal::Bool(flag)),
        Value::Array(items) => from_array(items),
        Value::Null => Err(format!(
            "null is not a valid value (a missing or null property never matches); write {LITERAL_FORMS}"
        )),
        Value::Object(_) => Err(
            "a JSON object is not a valid value; to compare with another property write {other.property}"
                .to_owned(),
        ),
    }
}

/// Turns a JSON array into a literal of strings or of numbers.
fn from_array(items: Vec<Value>) -> Result<Literal, String> {
    const HOW: &str =
        "arrays must hold only strings or only numbers, e.g. [\"CA\",\"NY\"] or [1,2]";
    if items.iter().all(Value::is_string) {
        let strings = items.into_iter().filter_map(|item| match item {
            Value::String(text) => Some(text),
            _ => None,
        });
        return Ok(Literal::Strs(strings.collect()));
    }
    if items.iter().all(Value::is_number) {
        let numbers: Option<Vec<f64>> = items.iter().map(Value::as_f64).collect();
        return numbers.map(Literal::Nums).ok_or_else(|| HOW.to_owned());
    }
    Err(HOW.to_owned())
}

/// The message for text that is not JSON: usually an unquoted word.
fn unparsable(text: &str, error: &serde_json::Error) -> String {
    if text.starts_with('"') {
        return format!(
            "value {text} is not a valid quoted string ({error}); escape inner quotes as \\\", e.g. \"say \\\"hi\\\"\""
        );
    }
    if let Some(inner) = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let quoted: Vec<String> = inner.split(',').map(|item| quote(item.trim())).collect();
        return format!(
            "value {text} is not a valid array; string values must be quoted: [{}]",
            quoted.join(",")
        );
    }
    let word = text
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or(text);
    let mut message = format!(
        "value {text} is not a valid literal; string values must be quoted: {}",
        quote(word)
    );
    if Version::parse(word.strip_prefix(['v', 'V']).unwrap_or(word)).is_ok() {
        message.push_str(&format!(
            ", and versions compared by order are written semver:{}",
            quote(word)
        ));
    } else if DateTime::parse_from_rfc3339(word).is_ok() {
        message.push_str(&format!(
            ", and timestamps compared by order are written time:{}",
            quote(word)
        ));
    }
    message
}

/// `text` as a JSON string.
fn quote(text: &str) -> String {
    let unquoted = text
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or(text);
    Value::String(unquoted.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bare_word_returns_quoting_hint() {
        let message = Literal::parse("CA").err().unwrap_or_default();
        assert!(
            message.contains("string values must be quoted: \"CA\""),
            "{message}"
        );
    }

    #[test]
    fn parse_unquoted_array_returns_quoted_array_hint() {
        let message = Literal::parse("[CA, NY]").err().unwrap_or_default();
        assert!(message.contains("[\"CA\",\"NY\"]"), "{message}");
    }

    #[test]
    fn parse_bare_version_returns_semver_hint() {
        let message = Literal::parse("1.2.3").err().unwrap_or_default();
        assert!(message.contains("semver:\"1.2.3\""), "{message}");
    }
}
