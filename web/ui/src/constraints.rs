//! The constraint value editor: the kinds of value each operator takes, and how a stored value opens
//! in the editor of its kind.
//!
//! A constraint's `value` is the text of a typed literal (`"CA"`, `18`, `["CA","US"]`,
//! `semver:"1.2.3"`, `time:"2026-01-01T00:00:00Z"`, `{other.property}`). The editor offers one input per
//! kind of literal, and `app.js` turns what is typed into that text (the inputs' `data-type`), so people
//! never write quotes or brackets by hand.
//!
//! Invariants: an operator offers exactly the kinds whose literals the engine accepts for it, plus the
//! raw literal, which can write anything (a test in `flagent-web` checks this against the engine).
//! A stored value opens in the kind that shows it without loss, else as the raw literal, so saving an
//! unchanged edit form sends the same literal.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde_json::Value;

/// How a constraint value is typed in the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A string, sent quoted (`"CA"`).
    Text,
    /// A number (`18`).
    Number,
    /// `true` or `false`.
    Boolean,
    /// A semantic version, sent as `semver:"1.2.3"`.
    Version,
    /// A date and time in UTC, sent as `time:"2026-01-01T00:00:00Z"`.
    Time,
    /// Strings, one per line, sent as a JSON array (`["CA","US"]`).
    List,
    /// Numbers, one per line, sent as a JSON array (`[1,2]`).
    Numbers,
    /// A regular expression, sent quoted, with a tester.
    Regex,
    /// The literal as written: any of the above, or `{other.property}`.
    Literal,
}

impl ValueKind {
    /// Every kind, in the order the editor lists them.
    pub const ALL: [ValueKind; 9] = [
        ValueKind::Text,
        ValueKind::Number,
        ValueKind::Boolean,
        ValueKind::Version,
        ValueKind::Time,
        ValueKind::List,
        ValueKind::Numbers,
        ValueKind::Regex,
        ValueKind::Literal,
    ];

    /// The kind's name in the page (`data-case`, `data-kinds`).
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Number => "number",
            ValueKind::Boolean => "boolean",
            ValueKind::Version => "version",
            ValueKind::Time => "time",
            ValueKind::List => "list",
            ValueKind::Numbers => "numbers",
            ValueKind::Regex => "regex",
            ValueKind::Literal => "literal",
        }
    }

    /// What the kind is called in the value type select.
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Text => "Text",
            ValueKind::Number => "Number",
            ValueKind::Boolean => "True or false",
            ValueKind::Version => "Version (semver)",
            ValueKind::Time => "Date and time (UTC)",
            ValueKind::List => "List of text",
            ValueKind::Numbers => "List of numbers",
            ValueKind::Regex => "Regular expression",
            ValueKind::Literal => "Literal or {property}",
        }
    }

    /// A literal of this kind, as the API takes it (the raw literal's example is a reference).
    pub fn example(self) -> &'static str {
        match self {
            ValueKind::Text => "\"CA\"",
            ValueKind::Number => "18",
            ValueKind::Boolean => "true",
            ValueKind::Version => "semver:\"1.2.3\"",
            ValueKind::Time => "time:\"2026-01-01T00:00:00Z\"",
            ValueKind::List => "[\"CA\",\"US\"]",
            ValueKind::Numbers => "[1,2]",
            ValueKind::Regex => "\"^beta-\"",
            ValueKind::Literal => "{user.country}",
        }
    }
}

/// A constraint operator as the editor offers it: its name, what it means, and the kinds of value it
/// takes (the first is the one chosen when the operator is picked).
#[derive(Debug, Clone, Copy)]
pub struct OperatorChoice {
    /// `EQ`, `IN`, …
    pub name: &'static str,
    /// What it tests, for people.
    pub label: &'static str,
    /// The kinds of value it takes, the raw literal last.
    pub kinds: &'static [ValueKind],
}

impl OperatorChoice {
    /// The kinds' names, space-separated (the option's `data-kinds`).
    pub fn kinds_attr(&self) -> String {
        let names: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
        names.join(" ")
    }

    /// Whether the operator takes values of `kind`.
    pub fn offers(&self, kind: ValueKind) -> bool {
        self.kinds.contains(&kind)
    }
}

use ValueKind as K;

const EQUALITY: &[ValueKind] = &[
    K::Text,
    K::Number,
    K::Boolean,
    K::Version,
    K::Time,
    K::Literal,
];
const MEMBERSHIP: &[ValueKind] = &[K::List, K::Numbers, K::Literal];
const ORDER: &[ValueKind] = &[K::Number, K::Version, K::Time, K::Literal];
const CONTAINMENT: &[ValueKind] = &[K::Text, K::Number, K::Boolean, K::Literal];
const AFFIX: &[ValueKind] = &[K::Text, K::Literal];
const PATTERN: &[ValueKind] = &[K::Regex, K::Literal];

/// Every operator the engine knows, in the order the editor lists them.
pub const OPERATORS: &[OperatorChoice] = &[
    op("EQ", "equals", EQUALITY),
    op("NEQ", "does not equal", EQUALITY),
    op("IN", "is one of", MEMBERSHIP),
    op("NOTIN", "is none of", MEMBERSHIP),
    op("LT", "is less than", ORDER),
    op("LTE", "is at most", ORDER),
    op("GT", "is greater than", ORDER),
    op("GTE", "is at least", ORDER),
    op("CONTAINS", "contains", CONTAINMENT),
    op("NOTCONTAINS", "does not contain", CONTAINMENT),
    op("STARTS_WITH", "starts with", AFFIX),
    op("ENDS_WITH", "ends with", AFFIX),
    op("EREG", "matches the regex", PATTERN),
    op("NEREG", "does not match the regex", PATTERN),
];

const fn op(
    name: &'static str,
    label: &'static str,
    kinds: &'static [ValueKind],
) -> OperatorChoice {
    OperatorChoice { name, label, kinds }
}

/// The operator called `name`, if the engine knows it.
pub fn operator(name: &str) -> Option<&'static OperatorChoice> {
    OPERATORS.iter().find(|o| o.name == name)
}

/// One constraint form's fields: what they hold when the page opens.
#[derive(Debug, Clone)]
pub struct ConstraintEditor {
    /// Prefix of the form's element ids (unique on the page).
    pub id: String,
    /// The property path.
    pub property: String,
    /// The operator chosen.
    pub operator: String,
    /// The kind of value shown.
    pub kind: ValueKind,
    /// The shown kind's input value.
    pub value: String,
}

impl ConstraintEditor {
    /// An empty form: `EQ` with a text value.
    pub fn blank(id: String) -> ConstraintEditor {
        ConstraintEditor {
            id,
            property: String::new(),
            operator: "EQ".to_owned(),
            kind: ValueKind::Text,
            value: String::new(),
        }
    }

    /// The form for a stored constraint: its value in the kind that shows it without loss.
    pub fn of(id: String, property: &str, operator_name: &str, stored: &str) -> ConstraintEditor {
        let choice = operator(operator_name);
        let (kind, value) = match shown(stored, choice.is_some_and(|o| o.offers(K::Regex))) {
            Some((kind, value)) if choice.is_some_and(|o| o.offers(kind)) => (kind, value),
            _ => (ValueKind::Literal, stored.trim().to_owned()),
        };
        ConstraintEditor {
            id,
            property: property.to_owned(),
            operator: operator_name.to_owned(),
            kind,
            value,
        }
    }

    /// Whether the chosen operator takes values of `kind` (an unknown operator takes only literals).
    pub fn offers(&self, kind: &ValueKind) -> bool {
        operator(&self.operator).map_or(*kind == ValueKind::Literal, |o| o.offers(*kind))
    }

    /// What the input of `kind` holds: the value for the shown kind, nothing for the others.
    pub fn value_for(&self, kind: &ValueKind) -> &str {
        if *kind == self.kind { &self.value } else { "" }
    }

    /// Whether `kind` is the one shown.
    pub fn shows(&self, kind: &ValueKind) -> bool {
        *kind == self.kind
    }
}

/// The kind and input value that show `stored` exactly, if one does; strings are regexes when
/// `regex` (the operator takes patterns).
fn shown(stored: &str, regex: bool) -> Option<(ValueKind, String)> {
    let text = stored.trim();
    if let Some(rest) = text.strip_prefix("semver:") {
        let version: String = serde_json::from_str(rest).ok()?;
        return (!version.is_empty() && one_line(&version)).then_some((K::Version, version));
    }
    if let Some(rest) = text.strip_prefix("time:") {
        let stamp: String = serde_json::from_str(rest).ok()?;
        return utc_input(&stamp).map(|input| (K::Time, input));
    }
    match serde_json::from_str::<Value>(text).ok()? {
        Value::String(s) if one_line(&s) => Some((if regex { K::Regex } else { K::Text }, s)),
        Value::Number(n) => Some((K::Number, n.to_string())),
        Value::Bool(b) => Some((K::Boolean, b.to_string())),
        Value::Array(items) => list(&items),
        _ => None,
    }
}

/// A list as lines: strings that survive trimming, or numbers.
fn list(items: &[Value]) -> Option<(ValueKind, String)> {
    if items.is_empty() {
        return None;
    }
    let strings: Option<Vec<&str>> = items
        .iter()
        .map(|v| {
            v.as_str()
                .filter(|s| !s.is_empty() && one_line(s) && s.trim() == *s)
        })
        .collect();
    if let Some(strings) = strings {
        return Some((K::List, strings.join("\n")));
    }
    let numbers: Option<Vec<String>> = items
        .iter()
        .map(|v| v.as_number().map(ToString::to_string))
        .collect();
    numbers.map(|n| (K::Numbers, n.join("\n")))
}

/// Whether a text input can hold `text` unchanged.
fn one_line(text: &str) -> bool {
    !text.contains(['\n', '\r'])
}

/// An RFC 3339 timestamp as a `datetime-local` value in UTC (`2026-01-01T09:30:00`), when it has no
/// fraction of a second (which the input would lose).
fn utc_input(stamp: &str) -> Option<String> {
    let time = DateTime::parse_from_rfc3339(stamp)
        .ok()?
        .with_timezone(&Utc);
    if time.nanosecond() != 0 {
        return None;
    }
    let text = time.to_rfc3339_opts(SecondsFormat::Secs, true);
    text.strip_suffix('Z').map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(operator: &str, stored: &str) -> (ValueKind, String) {
        let editor = ConstraintEditor::of("c".into(), "p", operator, stored);
        (editor.kind, editor.value)
    }

    #[test]
    fn stored_values_open_in_the_kind_that_shows_them() {
        let cases = [
            ("EQ", "\"CA\"", K::Text, "CA"),
            ("EQ", " 18 ", K::Number, "18"),
            ("EQ", "false", K::Boolean, "false"),
            ("GTE", "semver:\"2.1.0\"", K::Version, "2.1.0"),
            (
                "LT",
                "time:\"2026-01-01T10:30:00+02:00\"",
                K::Time,
                "2026-01-01T08:30:00",
            ),
            ("IN", "[\"CA\", \"US\"]", K::List, "CA\nUS"),
            ("NOTIN", "[1, 2.5]", K::Numbers, "1\n2.5"),
            ("EREG", "\"^beta-\\\\d+\"", K::Regex, "^beta-\\d+"),
            ("STARTS_WITH", "\"https://\"", K::Text, "https://"),
        ];
        for (operator, stored, kind, value) in cases {
            assert_eq!(
                opened(operator, stored),
                (kind, value.to_owned()),
                "{operator} {stored}"
            );
        }
    }

    #[test]
    fn values_no_input_shows_exactly_open_as_the_literal() {
        for (operator, stored) in [
            ("EQ", "{user.country}"),
            ("EQ", "\"two\\nlines\""),
            ("IN", "[\" padded \"]"),
            ("IN", "[\"a\", \"\"]"),
            ("LT", "time:\"2026-01-01T00:00:00.5Z\""),
            // A kind the operator does not take (stored before the operator changed, say).
            ("LT", "\"CA\""),
            ("UNKNOWN", "\"CA\""),
        ] {
            assert_eq!(
                opened(operator, stored),
                (K::Literal, stored.to_owned()),
                "{operator} {stored}"
            );
        }
    }

    #[test]
    fn every_operator_offers_the_raw_literal_last_and_names_its_kinds() {
        for o in OPERATORS {
            assert_eq!(o.kinds.last(), Some(&K::Literal), "{}", o.name);
            assert_eq!(o.kinds_attr().split(' ').count(), o.kinds.len());
        }
        assert_eq!(
            operator("IN").map(|o| o.kinds_attr()),
            Some("list numbers literal".to_owned())
        );
        let editor = ConstraintEditor::blank("new".into());
        assert!(editor.offers(&K::Text) && !editor.offers(&K::List));
        assert_eq!(editor.value_for(&K::Number), "");
    }
}
