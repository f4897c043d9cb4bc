//! SCIM filters (RFC 7644 §3.4.2.2): the tokenizer and parser that read one, and its evaluation
//! against a resource's JSON representation.

use std::cmp::Ordering;

use serde_json::Value;

use super::patch::get_ci;
use super::{AttrPath, MAX_FILTER_DEPTH, MAX_FILTER_LEN, ScimError};

// --------------------------------------------------------------------------------------- filters

/// A comparison operator of RFC 7644 §3.4.2.2, Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [(&'static str, Self); 9] = [
        ("eq", Self::Eq),
        ("ne", Self::Ne),
        ("co", Self::Co),
        ("sw", Self::Sw),
        ("ew", Self::Ew),
        ("gt", Self::Gt),
        ("ge", Self::Ge),
        ("lt", Self::Lt),
        ("le", Self::Le),
    ];

    fn parse(word: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|(_, op)| *op)
    }

    fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(name, _)| name)
    }
}

/// A parsed filter node; [`Filter`] wraps the root.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    ValuePath {
        path: AttrPath,
        filter: Box<Node>,
    },
}

/// A parsed SCIM filter (RFC 7644 §3.4.2.2), ready to evaluate against resources.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter(Node);

/// Parses a filter: attribute paths (with an optional schema URN and sub-attribute), the operators
/// `eq ne co sw ew gt ge lt le pr`, `and` (binding tighter than `or`), `not (…)`, parentheses, value
/// filters `attr[…]`, and JSON strings, numbers, `true`, `false` and `null` as values.
/// Names and operators are case-insensitive.
/// Errors are 400 `invalidFilter`, with the offset of the problem in the detail.
pub(crate) fn parse_filter(input: &str) -> Result<Filter, ScimError> {
    parse_expression(input, false).map(Filter)
}

pub(super) fn parse_expression(input: &str, inner: bool) -> Result<Node, ScimError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter(format!(
            "filter is longer than {MAX_FILTER_LEN} characters"
        )));
    }
    if input.trim().is_empty() {
        return Err(ScimError::invalid_filter("filter is empty"));
    }
    let mut parser = Parser {
        tokens: tokenize(input)?,
        next: 0,
        depth: 0,
        end: input.len(),
    };
    let node = parser.or(inner)?;
    if parser.next < parser.tokens.len() {
        return Err(parser.error("unexpected text after a complete filter"));
    }
    Ok(node)
}

impl Filter {
    /// Whether `resource` (a resource's JSON representation) matches.
    /// Attribute names match case-insensitively; a multi-valued attribute matches when any value does;
    /// strings compare case-insensitively unless `case_exact` says the attribute (given as a lowercased
    /// path such as `externalid` or `emails.value`) is case-exact; `gt`, `ge`, `lt` and `le` compare
    /// strings lexicographically, which orders RFC 3339 timestamps of one format.
    pub(crate) fn matches(&self, resource: &Value, case_exact: &dyn Fn(&str) -> bool) -> bool {
        self.0.eval(resource, None, case_exact)
    }

    /// The lowercased attribute path (without a core schema prefix) and the value, when the whole filter
    /// is one `attr eq "string"`, so the caller can answer it with an indexed query.
    pub(crate) fn simple_eq(&self) -> Option<(&str, &str)> {
        match &self.0 {
            Node::Compare {
                path,
                op: CompareOp::Eq,
                value: Value::String(value),
            } if path.is_core() => Some((&path.full, value)),
            _ => None,
        }
    }
}

impl Node {
    pub(super) fn eval(
        &self,
        node: &Value,
        parent: Option<&str>,
        case_exact: &dyn Fn(&str) -> bool,
    ) -> bool {
        match self {
            Self::And(terms) => terms.iter().all(|t| t.eval(node, parent, case_exact)),
            Self::Or(terms) => terms.iter().any(|t| t.eval(node, parent, case_exact)),
            Self::Not(inner) => !inner.eval(node, parent, case_exact),
            Self::Present(path) => values_at(node, path).into_iter().any(is_present),
            Self::Compare { path, op, value } => {
                let exact = case_exact(&path.qualified(parent));
                let values: Vec<&Value> = values_at(node, path).into_iter().map(scalar).collect();
                compare_all(&values, *op, value, exact)
            }
            Self::ValuePath { path, filter } => {
                let parent = path.qualified(parent);
                values_at(node, path)
                    .into_iter()
                    .any(|v| filter.eval(v, Some(&parent), case_exact))
            }
        }
    }
}

/// The values an attribute path names in `node`, with multi-valued attributes flattened.
fn values_at<'v>(node: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let base = match &path.urn {
        Some(urn) if !path.is_core() => get_ci(node, urn),
        _ => Some(node),
    };
    let Some(top) = base.and_then(|b| get_ci(b, &path.name)) else {
        return Vec::new();
    };
    let values = flatten(top);
    match &path.sub {
        None => values,
        Some(sub) => values
            .into_iter()
            .filter_map(|v| get_ci(v, sub))
            .flat_map(flatten)
            .collect(),
    }
}

pub(super) fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// A complex value compares through its `value` sub-attribute.
fn scalar(value: &Value) -> &Value {
    match value {
        Value::Object(_) => get_ci(value, "value").unwrap_or(value),
        other => other,
    }
}

/// `pr`: assigned and not empty (RFC 7644 §3.4.2.2).
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => map.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_all(values: &[&Value], op: CompareOp, expected: &Value, exact: bool) -> bool {
    let any = |op| values.iter().any(|v| compare(v, op, expected, exact));
    match (op, expected) {
        (CompareOp::Eq, Value::Null) => !values.iter().any(|v| is_present(v)),
        (CompareOp::Ne, Value::Null) => values.iter().any(|v| is_present(v)),
        (CompareOp::Ne, _) => !any(CompareOp::Eq),
        _ => any(op),
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &Value, exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) if exact => compare_str(a, e, op),
        (Value::String(a), Value::String(e)) => {
            compare_str(&a.to_lowercase(), &e.to_lowercase(), op)
        }
        (Value::Number(a), Value::Number(e)) => match (a.as_f64(), e.as_f64()) {
            (Some(a), Some(e)) if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                ordered(a.partial_cmp(&e), op)
            }
            _ => false,
        },
        (Value::Bool(a), Value::Bool(e)) => op == CompareOp::Eq && a == e,
        (Value::Bool(a), Value::String(e)) => op == CompareOp::Eq && parse_bool(e) == Some(*a),
        _ => false,
    }
}

fn compare_str(actual: &str, expected: &str, op: CompareOp) -> bool {
    match op {
        CompareOp::Co => actual.contains(expected),
        CompareOp::Sw => actual.starts_with(expected),
        CompareOp::Ew => actual.ends_with(expected),
        _ => ordered(Some(actual.cmp(expected)), op),
    }
}

fn ordered(ordering: Option<Ordering>, op: CompareOp) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

pub(super) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

// ----------------------------------------------------------------------------- filter tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    LBracket,
    RBracket,
    Word(String),
    Str(String),
}

/// Splits a filter into tokens with their byte offsets; strings are decoded as JSON strings.
fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, ScimError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let single = match byte {
            b'(' => Some(Token::Open),
            b')' => Some(Token::Close),
            b'[' => Some(Token::LBracket),
            b']' => Some(Token::RBracket),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((i, token));
            i += 1;
        } else if byte.is_ascii_whitespace() {
            i += 1;
        } else if byte == b'"' {
            let (next, text) = lex_string(input, i)?;
            tokens.push((i, Token::Str(text)));
            i = next;
        } else {
            let end = bytes[i..]
                .iter()
                .position(|b| b.is_ascii_whitespace() || b"()[]\"".contains(b))
                .map_or(bytes.len(), |n| i + n);
            tokens.push((i, Token::Word(input[i..end].to_owned())));
            i = end;
        }
    }
    Ok(tokens)
}

/// Reads the JSON string starting at `start`, returning the offset after it and its decoded text.
fn lex_string(input: &str, start: usize) -> Result<(usize, String), ScimError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'\\' => i += 2,
            b'"' => {
                let text = serde_json::from_str::<String>(&input[start..=i]).map_err(|_| {
                    ScimError::invalid_filter(format!("invalid string at offset {start}"))
                })?;
                return Ok((i + 1, text));
            }
            _ => i += 1,
        }
    }
    Err(ScimError::invalid_filter(format!(
        "unterminated string starting at offset {start}"
    )))
}

/// A JSON literal given unquoted: `true`, `false`, `null` or a number.
fn literal(word: &str) -> Option<Value> {
    if word.eq_ignore_ascii_case("null") {
        return Some(Value::Null);
    }
    if let Some(b) = parse_bool(word) {
        return Some(Value::Bool(b));
    }
    serde_json::from_str::<Value>(word)
        .ok()
        .filter(Value::is_number)
}

// -------------------------------------------------------------------------------- filter parser

/// A recursive-descent parser: `or` over `and` over unary (`not`, parentheses, expressions).
struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    depth: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.next)
            .map_or(self.end, |(offset, _)| *offset)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).map(|(_, t)| t.clone());
        self.next += 1;
        token
    }

    fn error(&self, what: &str) -> ScimError {
        ScimError::invalid_filter(format!("{what} at offset {}", self.offset()))
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), ScimError> {
        if self.peek() == Some(token) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}")))
        }
    }

    /// Runs `parse` one level deeper, refusing to go past [`MAX_FILTER_DEPTH`].
    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Node, ScimError>,
    ) -> Result<Node, ScimError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.error(&format!(
                "filter nests deeper than {MAX_FILTER_DEPTH} levels"
            )));
        }
        let node = parse(self)?;
        self.depth -= 1;
        Ok(node)
    }

    fn or(&mut self, inner: bool) -> Result<Node, ScimError> {
        let first = self.and(inner)?;
        if !self.keyword("or") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.keyword("or") {
            self.next += 1;
            terms.push(self.and(inner)?);
        }
        Ok(Node::Or(terms))
    }

    fn and(&mut self, inner: bool) -> Result<Node, ScimError> {
        let first = self.unary(inner)?;
        if !self.keyword("and") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.keyword("and") {
            self.next += 1;
            terms.push(self.unary(inner)?);
        }
        Ok(Node::And(terms))
    }

    fn unary(&mut self, inner: bool) -> Result<Node, ScimError> {
        match self.peek() {
            Some(Token::Open) => {
                self.next += 1;
                self.nested(|p| {
                    let node = p.or(inner)?;
                    p.expect(&Token::Close, "')'")?;
                    Ok(node)
                })
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => {
                if self.tokens.get(self.next + 1).map(|(_, t)| t) != Some(&Token::Open) {
                    return Err(self.error("expected '(' after 'not'"));
                }
                self.next += 2;
                self.nested(|p| {
                    let node = p.or(inner)?;
                    p.expect(&Token::Close, "')'")?;
                    Ok(Node::Not(Box::new(node)))
                })
            }
            Some(Token::Word(_)) => self.comparison(inner),
            Some(_) => Err(self.error("expected an attribute name, '(' or 'not'")),
            None => Err(self.error("expected an attribute name")),
        }
    }

    fn comparison(&mut self, inner: bool) -> Result<Node, ScimError> {
        let at = self.offset();
        let Some(Token::Word(text)) = self.bump() else {
            return Err(self.error("expected an attribute name"));
        };
        let path = AttrPath::parse(&text)
            .map_err(|why| ScimError::invalid_filter(format!("{why} (offset {at})")))?;
        if self.peek() == Some(&Token::LBracket) {
            if inner || path.sub.is_some() {
                return Err(self.error("a value filter cannot follow a sub-attribute or nest"));
            }
            self.next += 1;
            return self.nested(|p| {
                let filter = p.or(true)?;
                p.expect(&Token::RBracket, "']'")?;
                Ok(Node::ValuePath {
                    path,
                    filter: Box::new(filter),
                })
            });
        }
        let at = self.offset();
        let Some(Token::Word(word)) = self.bump() else {
            return Err(ScimError::invalid_filter(format!(
                "expected an operator after '{text}' at offset {at}"
            )));
        };
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Node::Present(path));
        }
        let op = CompareOp::parse(&word).ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "unknown operator '{word}' at offset {at}; expected eq, ne, co, sw, ew, gt, ge, lt, le or pr"
            ))
        })?;
        let value = self.value(op)?;
        Ok(Node::Compare { path, op, value })
    }

    fn value(&mut self, op: CompareOp) -> Result<Value, ScimError> {
        let at = self.offset();
        let value = match self.bump() {
            Some(Token::Str(text)) => Value::String(text),
            Some(Token::Word(word)) => literal(&word).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{word}' at offset {at} is not a value; strings are quoted"
                ))
            })?,
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "expected a value after '{}' at offset {at}",
                    op.as_str()
                )));
            }
        };
        let fits = match op {
            CompareOp::Eq | CompareOp::Ne => true,
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => value.is_string(),
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                value.is_string() || value.is_number()
            }
        };
        if fits {
            Ok(value)
        } else {
            Err(ScimError::invalid_filter(format!(
                "'{}' cannot compare with {value} (offset {at})",
                op.as_str()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::scim::protocol::test_support::user;
    use crate::sso::scim::protocol::{ENTERPRISE_USER_SCHEMA, Schema};
    use serde_json::json;

    // ------------------------------------------------------------------------------ helpers

    /// A compact rendering of a parsed filter, to check its structure.
    fn shape(node: &Node) -> String {
        let join = |terms: &[Node]| terms.iter().map(shape).collect::<Vec<_>>().join(" ");
        match node {
            Node::Compare { path, op, value } => {
                format!("({} {} {value})", op.as_str(), render(path))
            }
            Node::Present(path) => format!("(pr {})", render(path)),
            Node::And(terms) => format!("(and {})", join(terms)),
            Node::Or(terms) => format!("(or {})", join(terms)),
            Node::Not(inner) => format!("(not {})", shape(inner)),
            Node::ValuePath { path, filter } => format!("({}[{}])", render(path), shape(filter)),
        }
    }

    fn render(path: &AttrPath) -> String {
        path.urn
            .as_ref()
            .map_or_else(|| path.full.clone(), |urn| format!("{urn}:{}", path.full))
    }

    fn parsed(filter: &str) -> String {
        shape(&parse_filter(filter).expect("filter parses").0)
    }

    fn filter_error(filter: &str) -> ScimError {
        parse_filter(filter).expect_err("filter is refused")
    }

    fn matches(filter: &str, resource: &Value) -> bool {
        let schema = Schema::user();
        parse_filter(filter)
            .expect("filter parses")
            .matches(resource, &|p| schema.is_case_exact(p))
    }

    // ------------------------------------------------------------------------ filter grammar

    #[test]
    fn every_comparison_operator_parses() {
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            assert_eq!(
                parsed(&format!("title {op} \"x\"")),
                format!("({op} title \"x\")")
            );
        }
        assert_eq!(parsed("title pr"), "(pr title)");
    }

    #[test]
    fn names_and_operators_are_case_insensitive() {
        assert_eq!(parsed("UserName EQ \"a\""), "(eq username \"a\")");
        assert_eq!(
            parsed("title PR AND nickName Pr"),
            "(and (pr title) (pr nickname))"
        );
        assert_eq!(
            parsed("NOT (title pr) OR title Eq \"x\""),
            "(or (not (pr title)) (eq title \"x\"))"
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            parsed("a eq \"1\" or b eq \"2\" and c eq \"3\""),
            "(or (eq a \"1\") (and (eq b \"2\") (eq c \"3\")))"
        );
        assert_eq!(
            parsed("a eq \"1\" and b eq \"2\" or c eq \"3\""),
            "(or (and (eq a \"1\") (eq b \"2\")) (eq c \"3\"))"
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            parsed("(a eq \"1\" or b eq \"2\") and c eq \"3\""),
            "(and (or (eq a \"1\") (eq b \"2\")) (eq c \"3\"))"
        );
        assert_eq!(parsed("((((a pr))))"), "(pr a)");
    }

    #[test]
    fn not_applies_to_a_parenthesized_filter() {
        assert_eq!(parsed("not (a pr)"), "(not (pr a))");
        assert_eq!(parsed("not(a pr and b pr)"), "(not (and (pr a) (pr b)))");
        assert_eq!(
            parsed("a pr and not (b eq \"x\")"),
            "(and (pr a) (not (eq b \"x\")))"
        );
    }

    #[test]
    fn value_paths_parse() {
        assert_eq!(
            parsed("emails[type eq \"work\" and value co \"@example.com\"]"),
            "(emails[(and (eq type \"work\") (co value \"@example.com\"))])"
        );
        assert_eq!(
            parsed("userType eq \"Employee\" and emails[type eq \"work\"]"),
            "(and (eq usertype \"Employee\") (emails[(eq type \"work\")]))"
        );
        assert_eq!(
            parsed("emails[not (primary eq true)]"),
            "(emails[(not (eq primary true))])"
        );
    }

    #[test]
    fn schema_urn_prefixes_and_sub_attributes_parse() {
        assert_eq!(
            parsed("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\""),
            "(sw urn:ietf:params:scim:schemas:core:2.0:user:username \"J\")"
        );
        assert_eq!(
            parsed("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq \"B\""),
            "(eq urn:ietf:params:scim:schemas:core:2.0:user:name.givenname \"B\")"
        );
        assert_eq!(
            parsed("meta.lastModified gt \"2011-05-13T04:42:34Z\""),
            "(gt meta.lastmodified \"2011-05-13T04:42:34Z\")"
        );
        assert_eq!(parsed("members.$ref pr"), "(pr members.$ref)");
    }

    #[test]
    fn strings_are_json_strings_with_escapes() {
        let filter = parse_filter(r#"displayName eq "say \"hi\" \\ \u00e9\n""#).expect("parses");
        let Node::Compare { value, .. } = filter.0 else {
            panic!("a comparison")
        };
        assert_eq!(value, json!("say \"hi\" \\ é\n"));
        assert_eq!(parsed("title eq \"a)b[c]\""), "(eq title \"a)b[c]\")");
    }

    #[test]
    fn numbers_booleans_and_null_are_values() {
        assert_eq!(parsed("x eq 42"), "(eq x 42)");
        assert_eq!(parsed("x gt -1.5e3"), "(gt x -1500.0)");
        assert_eq!(parsed("active eq true"), "(eq active true)");
        assert_eq!(parsed("active ne False"), "(ne active false)");
        assert_eq!(parsed("title eq null"), "(eq title null)");
    }

    #[test]
    fn malformed_filters_are_invalid_filter_errors() {
        let cases = [
            "",
            "   ",
            "userName",
            "userName eq",
            "userName equals \"x\"",
            "userName eq bjensen",
            "userName eq \"unterminated",
            "userName eq \"a\" \"b\"",
            "userName eq \"a\" and",
            "(userName eq \"a\"",
            "userName eq \"a\")",
            "not userName eq \"a\"",
            "emails[type eq \"work\"",
            "emails[type[value eq \"x\"]]",
            "name.givenName[value eq \"x\"]",
            "1abc eq \"x\"",
            "a.b.c eq \"x\"",
            "bad:userName eq \"x\"",
            "active gt true",
            "title co 5",
            "title lt null",
            "userName eq \"\\x\"",
            "[",
        ];
        for case in cases {
            let err = filter_error(case);
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some("invalidFilter")),
                "{case:?}: {err}"
            );
        }
    }

    #[test]
    fn filter_errors_say_where_and_what() {
        let err = filter_error("userName equals \"x\"");
        assert!(
            err.detail.contains("unknown operator 'equals' at offset 9"),
            "{}",
            err.detail
        );
        let err = filter_error("userName eq bjensen");
        assert!(err.detail.contains("strings are quoted"), "{}", err.detail);
    }

    #[test]
    fn filters_are_bounded_in_length_and_depth() {
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert!(filter_error(&long).detail.contains("longer than"));
        let deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        assert!(filter_error(&deep).detail.contains("nests deeper"));
        let ok = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert!(parse_filter(&ok).is_ok());
        let nots = format!(
            "{}a pr{}",
            "not (".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        assert!(filter_error(&nots).detail.contains("nests deeper"));
    }

    #[test]
    fn long_or_chains_stay_flat() {
        let chain = (0..100)
            .map(|i| format!("id eq \"{i}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        let Node::Or(terms) = parse_filter(&chain).expect("parses").0 else {
            panic!("an or")
        };
        assert_eq!(terms.len(), 100);
    }

    #[test]
    fn simple_eq_names_indexable_lookups() {
        let cases = [
            ("userName eq \"bjensen\"", Some(("username", "bjensen"))),
            ("externalId eq \"E-1\"", Some(("externalid", "E-1"))),
            ("displayName EQ \"Eng\"", Some(("displayname", "Eng"))),
            ("id eq \"42\"", Some(("id", "42"))),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"b\"",
                Some(("username", "b")),
            ),
            ("name.givenName eq \"B\"", Some(("name.givenname", "B"))),
            ("userName ne \"b\"", None),
            ("userName eq \"b\" and active eq true", None),
            ("(userName eq \"b\")", Some(("username", "b"))),
            ("id eq 42", None),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"",
                None,
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                parse_filter(filter).expect("parses").simple_eq(),
                expected,
                "{filter}"
            );
        }
    }

    // ----------------------------------------------------------------------------- matching

    #[test]
    fn strings_compare_case_insensitively_unless_case_exact() {
        let u = user();
        assert!(matches("userName eq \"bjensen\"", &u));
        assert!(matches("displayName co \"JENSEN\"", &u));
        assert!(matches("externalId eq \"Ext-1\"", &u));
        assert!(!matches("externalId eq \"ext-1\"", &u));
        assert!(!matches("id eq \"2819C223\"", &u));
    }

    #[test]
    fn attribute_lookup_is_case_insensitive() {
        let u = json!({ "USERNAME": "x", "Name": { "GIVENNAME": "Y" } });
        assert!(matches("userName eq \"x\"", &u));
        assert!(matches("name.givenName eq \"y\"", &u));
    }

    #[test]
    fn each_operator_evaluates() {
        let u = user();
        let cases = [
            ("userName eq \"Bjensen\"", true),
            ("userName ne \"Bjensen\"", false),
            ("userName ne \"other\"", true),
            ("userName co \"jen\"", true),
            ("userName sw \"bj\"", true),
            ("userName sw \"je\"", false),
            ("userName ew \"SEN\"", true),
            ("userName gt \"a\"", true),
            ("userName ge \"bjensen\"", true),
            ("userName lt \"a\"", false),
            ("userName le \"bjensen\"", true),
            ("title pr", false),
            ("userName pr", true),
            ("active eq true", true),
            ("active eq false", false),
            ("active ne false", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(matches(filter, &u), expected, "{filter}");
        }
    }

    #[test]
    fn timestamps_compare_in_order() {
        let u = user();
        assert!(matches("meta.lastModified gt \"2024-01-01T00:00:00Z\"", &u));
        assert!(!matches(
            "meta.lastModified lt \"2024-01-01T00:00:00Z\"",
            &u
        ));
        assert!(matches("meta.lastModified ge \"2024-05-01T10:00:00Z\"", &u));
    }

    #[test]
    fn numbers_compare_numerically() {
        let r = json!({ "n": 10 });
        assert!(matches("n gt 9", &r));
        assert!(matches("n eq 10.0", &r));
        assert!(!matches("n lt 2", &r));
        assert!(!matches("n eq \"10\"", &r));
    }

    #[test]
    fn multi_valued_attributes_match_when_any_value_does() {
        let u = user();
        assert!(matches("emails co \"jensen.org\"", &u));
        assert!(matches("emails.value ew \"example.com\"", &u));
        assert!(matches("emails.type eq \"home\"", &u));
        assert!(!matches("emails.value eq \"nobody@example.com\"", &u));
    }

    #[test]
    fn value_filters_match_within_one_value() {
        let u = user();
        assert!(matches(
            "emails[type eq \"work\" and value co \"example.com\"]",
            &u
        ));
        assert!(!matches(
            "emails[type eq \"work\" and value co \"jensen.org\"]",
            &u
        ));
        assert!(matches(
            "emails[type eq \"work\"] and emails[type eq \"home\"]",
            &u
        ));
        assert!(matches("emails[primary eq true]", &u));
        assert!(matches("emails[not (type eq \"work\")]", &u));
    }

    #[test]
    fn present_means_assigned_and_not_empty() {
        let r = json!({ "a": null, "b": "", "c": [], "d": {}, "e": [null], "f": "x", "g": false, "h": { "x": 1 } });
        for (attr, present) in [
            ("a", false),
            ("b", false),
            ("c", false),
            ("d", false),
            ("e", false),
            ("f", true),
            ("g", true),
            ("h", true),
            ("z", false),
        ] {
            assert_eq!(matches(&format!("{attr} pr"), &r), present, "{attr}");
        }
    }

    #[test]
    fn ne_and_null_treat_absent_attributes_as_unassigned() {
        let u = user();
        assert!(matches("title ne \"x\"", &u));
        assert!(matches("title eq null", &u));
        assert!(!matches("title ne null", &u));
        assert!(matches("userName ne null", &u));
    }

    #[test]
    fn logic_combines_matches() {
        let u = user();
        assert!(matches("userName eq \"x\" or active eq true", &u));
        assert!(!matches("userName eq \"x\" and active eq true", &u));
        assert!(matches("not (userName eq \"x\")", &u));
        assert!(matches(
            "(userName eq \"x\" or userName eq \"bjensen\") and emails pr",
            &u
        ));
    }

    #[test]
    fn urn_prefixed_paths_look_in_the_right_place() {
        let mut u = user();
        u[ENTERPRISE_USER_SCHEMA] = json!({ "department": "R&D" });
        assert!(matches(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"bjensen\"",
            &u
        ));
        assert!(matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"r&d\"",
            &u
        ));
        assert!(!matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr",
            &u
        ));
    }
}
