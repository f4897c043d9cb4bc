//! SCIM 2.0 protocol rules (RFC 7643 and RFC 7644) as pure functions over JSON: error bodies, filters,
//! paging, PATCH and the discovery documents.
//!
//! Nothing here touches a database, a clock or HTTP.
//! A handler parses the request with these functions, runs its query, and renders the answer with them.
//!
//! Invariant: every failure is a [`ScimError`] carrying the status and `scimType` RFC 7644 §3.12 names
//! for it, and no function here panics on client input.
//! Invariant: input is bounded before it is parsed: a filter or a PATCH path is at most
//! [`MAX_FILTER_LEN`] bytes and nests at most [`MAX_FILTER_DEPTH`] groups deep, and a PATCH request
//! holds at most [`MAX_OPERATIONS`] operations.
//! Invariant: [`apply_patch`] is atomic (RFC 7644 §3.5.2): on error the resource is left as it was.
//! Invariant: attribute names match case-insensitively (RFC 7643 §2.1) and are written back in the
//! schema's spelling, so a patched resource never holds `Active` beside `active`.
//!
//! Interpretations where the RFCs leave room, each chosen for what identity providers send:
//! - `op` is matched case-insensitively, since Microsoft Entra sends `Add`, `Replace` and `Remove`.
//! - A boolean given as the string `"True"` or `"False"` (Entra's `active`) is read as a boolean.
//! - `attr ne "x"` is `not (attr eq "x")`, so it matches a resource without the attribute;
//!   `attr eq null` matches an unassigned attribute and `attr ne null` an assigned one.
//! - Comparing a multi-valued complex attribute without a sub-attribute (`emails co "@x"`) compares its
//!   `value` sub-attribute, as the RFC 7644 §3.4.2.2 examples do.
//! - `add` with a value filter that matches nothing (`emails[type eq "work"].value`, Entra's way of
//!   setting a work email) appends a new value built from the filter's `eq` terms; `replace` with such a
//!   filter fails with `noTarget`, as RFC 7644 §3.5.2.3 requires.
//! - `remove` of `members` with a `value` array (Entra's way) removes only the listed members.
//! - Setting a read-only attribute to the value it already has is a no-op, since Okta renames a group
//!   with `{"op":"replace","value":{"id":"<same id>","displayName":"…"}}`; any other change is
//!   `mutability`.
//! - Removing an attribute (or extension) that has no value succeeds and changes nothing: RFC 7644
//!   §3.5.2.2 names `noTarget` only for a value filter that matches nothing, which still fails, and
//!   scim2-tester removes an extension's attributes after the whole extension.
//!   Removing a required attribute fails with `mutability` (RFC 7644 §3.5.2.2).
//! - `null` as an `add` or `replace` value unassigns the attribute (RFC 7643 §2.5).
//! - A `schemas` member inside a PATCH value (the whole value without a path, or an extension object)
//!   is ignored: `schemas` is not an attribute, and scim2-models sends it inside extension objects.
//! - Read-only sub-attributes inside a written value are ignored, as RFC 7644 §3.5.1 ignores read-only
//!   attributes in a PUT.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;

use serde_json::{Map, Value, json};

/// The schema URN of an error response (RFC 7644 §3.12).
pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The schema URN of a list response (RFC 7644 §3.4.2).
pub(crate) const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URN a PATCH request must name (RFC 7644 §3.5.2).
pub(crate) const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The core User schema URN (RFC 7643 §4.1).
pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN (RFC 7643 §4.2).
pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN (RFC 7643 §4.3).
#[allow(
    dead_code,
    reason = "used once the enterprise extension is attached to the User schema"
)]
pub(crate) const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// Lowercased prefix of the core schemas, whose attributes live at the top of a resource.
const CORE_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:";

/// The longest filter or PATCH path accepted, in bytes.
pub(crate) const MAX_FILTER_LEN: usize = 2_000;
/// The deepest nesting of parentheses, `not` and value filters accepted in a filter.
pub(crate) const MAX_FILTER_DEPTH: usize = 16;
/// The largest page served, whatever `count` asks for; also `filter.maxResults` in the config.
pub(crate) const MAX_PAGE: usize = 200;
/// The page size when `count` is not given.
pub(crate) const DEFAULT_PAGE: usize = 100;
/// The most operations one PATCH request may hold.
pub(crate) const MAX_OPERATIONS: usize = 1_000;

#[allow(
    dead_code,
    reason = "the whole RFC 7644 table, whether or not a handler uses each code yet"
)]
pub(crate) mod scim_type {
    //! The `scimType` error codes of RFC 7644 §3.12, Table 9, spelled as the RFC spells them.

    /// The filter syntax is invalid or the comparison is not supported.
    pub(crate) const INVALID_FILTER: &str = "invalidFilter";
    /// The filter yields more results than the server will process.
    pub(crate) const TOO_MANY: &str = "tooMany";
    /// A unique attribute value is already taken.
    pub(crate) const UNIQUENESS: &str = "uniqueness";
    /// The change is incompatible with an attribute's mutability or requiredness.
    pub(crate) const MUTABILITY: &str = "mutability";
    /// The request body does not conform to the request schema.
    pub(crate) const INVALID_SYNTAX: &str = "invalidSyntax";
    /// A PATCH `path` is invalid or names no attribute.
    pub(crate) const INVALID_PATH: &str = "invalidPath";
    /// A PATCH `path` names no attribute value to operate on.
    pub(crate) const NO_TARGET: &str = "noTarget";
    /// A value is missing, or of the wrong type for its attribute.
    pub(crate) const INVALID_VALUE: &str = "invalidValue";
    /// The requested SCIM protocol version is not supported.
    pub(crate) const INVALID_VERS: &str = "invalidVers";
    /// The request put sensitive information in the URI.
    pub(crate) const SENSITIVE: &str = "sensitive";
}

// ------------------------------------------------------------------------------------------ errors

/// A SCIM error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status code, also written (as a string) into the body.
    pub status: u16,
    /// The `scimType` of a 400 response, from [`scim_type`].
    pub(crate) scim_type: Option<&'static str>,
    /// A human-readable explanation, safe to show to the client.
    pub(crate) detail: String,
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 with the given `scimType`.
    pub(crate) fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// A 400 `invalidFilter`.
    pub(crate) fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::INVALID_FILTER, detail)
    }

    /// A 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::INVALID_VALUE, detail)
    }

    /// A 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::INVALID_SYNTAX, detail)
    }

    /// A 400 `invalidPath`.
    pub(crate) fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::INVALID_PATH, detail)
    }

    /// A 400 `noTarget`.
    pub(crate) fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::NO_TARGET, detail)
    }

    /// A 400 `mutability`.
    pub(crate) fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(scim_type::MUTABILITY, detail)
    }

    #[allow(
        dead_code,
        reason = "RFC 7644 §3.12 statuses a handler may not use yet"
    )]
    /// A 401: no valid credentials.
    pub(crate) fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    /// A 403: the credentials may not do this.
    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }

    /// A 404: no such resource (also for another tenant's resource).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    #[allow(
        dead_code,
        reason = "RFC 7644 §3.12 statuses a handler may not use yet"
    )]
    /// A 405: the endpoint does not support the method (discovery endpoints are GET only).
    pub(crate) fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }

    /// A 409 `uniqueness`: a unique attribute value is taken.
    pub(crate) fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, Some(scim_type::UNIQUENESS), detail)
    }

    #[allow(
        dead_code,
        reason = "RFC 7644 §3.12 statuses a handler may not use yet"
    )]
    /// A 412: an `If-Match` version did not match.
    pub(crate) fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    #[allow(
        dead_code,
        reason = "RFC 7644 §3.12 statuses a handler may not use yet"
    )]
    /// A 413: the request body is larger than the server accepts.
    pub(crate) fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    /// A 500, with a detail that must not reveal internals.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    #[allow(
        dead_code,
        reason = "RFC 7644 §3.12 statuses a handler may not use yet"
    )]
    /// A 503: the database cannot be reached; the client may retry.
    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, None, detail)
    }

    /// The RFC 7644 §3.12 body: `schemas`, `status` as a string, `scimType` when set, and `detail`.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(kind), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".to_owned(), Value::from(kind));
        }
        body
    }

    fn in_operation(mut self, index: usize) -> Self {
        self.detail = format!("operation {}: {}", index + 1, self.detail);
        self
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(kind) => write!(f, "scim error {} ({kind}): {}", self.status, self.detail),
            None => write!(f, "scim error {}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

// ------------------------------------------------------------------------------- attribute paths

/// An attribute path (RFC 7644 §3.10), lowercased: an optional schema URN, an attribute, and an
/// optional sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AttrPath {
    urn: Option<String>,
    name: String,
    sub: Option<String>,
    /// `name` or `name.sub`, without the URN.
    full: String,
}

impl AttrPath {
    /// Parses `[urn ":"] name ["." sub]`; the error describes what is wrong.
    fn parse(text: &str) -> Result<Self, String> {
        let (urn, rest) = match text.rfind(':') {
            Some(colon) => (Some(&text[..colon]), &text[colon + 1..]),
            None => (None, text),
        };
        let is_urn =
            |u: &str| u.len() > 4 && u.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        if urn.is_some_and(|u| !is_urn(u)) {
            return Err(format!("'{text}' has a prefix that is not a schema URN"));
        }
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
            return Err(format!("'{text}' is not a valid attribute path"));
        }
        let name = name.to_ascii_lowercase();
        let sub = sub.map(str::to_ascii_lowercase);
        let full = sub
            .as_ref()
            .map_or_else(|| name.clone(), |s| format!("{name}.{s}"));
        Ok(Self {
            urn: urn.map(str::to_ascii_lowercase),
            name,
            sub,
            full,
        })
    }

    /// The path as [`Schema::is_case_exact`] reads it; `parent` is the attribute of a value filter.
    fn qualified(&self, parent: Option<&str>) -> String {
        match (parent, &self.urn) {
            (Some(parent), _) => format!("{parent}.{}", self.full),
            (None, Some(urn)) => format!("{urn}:{}", self.full),
            (None, None) => self.full.clone(),
        }
    }

    fn is_core(&self) -> bool {
        self.urn
            .as_deref()
            .is_none_or(|u| u.starts_with(CORE_PREFIX))
    }
}

/// `ATTRNAME = ALPHA *(nameChar)` (RFC 7644 §3.10), plus `$ref` (RFC 7643 errata 5606).
fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.eq_ignore_ascii_case("$ref")
        || (chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

// --------------------------------------------------------------------------------------- filters

/// A comparison operator of RFC 7644 §3.4.2.2, Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
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
enum Node {
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

fn parse_expression(input: &str, inner: bool) -> Result<Node, ScimError> {
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
    fn eval(&self, node: &Value, parent: Option<&str>, case_exact: &dyn Fn(&str) -> bool) -> bool {
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

fn flatten(value: &Value) -> Vec<&Value> {
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

fn parse_bool(text: &str) -> Option<bool> {
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

// ---------------------------------------------------------------------------------------- paging

/// One page of a list (RFC 7644 §3.4.2.4): a 1-based `start_index` and a `count` of at most
/// [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    /// The 1-based index of the first result; at least 1.
    pub(crate) start_index: usize,
    /// The most results to return; 0 asks for `totalResults` alone.
    pub(crate) count: usize,
}

impl Page {
    /// Reads the `startIndex` and `count` query parameters.
    /// A `startIndex` below 1 means 1; `count` defaults to [`DEFAULT_PAGE`], a negative one means 0,
    /// and one above [`MAX_PAGE`] means [`MAX_PAGE`]; an empty parameter counts as absent.
    /// Anything but an integer is 400 `invalidValue`.
    pub(crate) fn from_query(
        start_index: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, ScimError> {
        let start_index = parse_integer("startIndex", start_index)?
            .map_or(1, |n| usize::try_from(n).unwrap_or(0).max(1));
        let count = parse_integer("count", count)?.map_or(DEFAULT_PAGE, |n| {
            usize::try_from(n).unwrap_or(0).min(MAX_PAGE)
        });
        Ok(Self { start_index, count })
    }

    /// How many results to skip (`startIndex - 1`), as SQL `OFFSET` takes it.
    pub(crate) fn offset(&self) -> usize {
        self.start_index.saturating_sub(1)
    }

    /// The indices of this page within `total` results, clamped to them.
    pub(crate) fn range(&self, total: usize) -> Range<usize> {
        let start = self.offset().min(total);
        start..start.saturating_add(self.count).min(total)
    }
}

/// An integer query parameter; a well-formed integer too large for `i64` saturates.
fn parse_integer(name: &str, raw: Option<&str>) -> Result<Option<i64>, ScimError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScimError::invalid_value(format!(
            "{name} must be an integer"
        )));
    }
    let saturated = if raw.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    };
    Ok(Some(raw.parse::<i64>().unwrap_or(saturated)))
}

/// A list response (RFC 7644 §3.4.2): `totalResults` is the count of all matches, `itemsPerPage` the
/// count of `resources` on this page.
pub(crate) fn list_response(total: usize, page: &Page, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": Value::Array(resources),
    })
}

// --------------------------------------------------------------------------------------- schemas

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer,
    /// An RFC 3339 timestamp, as a string.
    DateTime,
    /// A URI, as a string.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

impl AttrType {
    fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }

    fn described(self) -> &'static str {
        match self {
            Self::String | Self::Reference => "a string",
            Self::Boolean => "a boolean",
            Self::Integer => "an integer",
            Self::DateTime => "an RFC 3339 timestamp",
            Self::Complex => "an object",
        }
    }
}

/// When and whether an attribute may change (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    /// Set by the server only.
    ReadOnly,
    /// Freely written.
    ReadWrite,
    /// Written once, when it has no value.
    Immutable,
    /// Written, never returned.
    #[allow(
        dead_code,
        reason = "no core attribute is write-only yet (Flagent keeps no SCIM password)"
    )]
    WriteOnly,
}

impl Mutability {
    fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returned {
    /// Always, whatever `attributes` asks.
    Always,
    /// Never.
    #[allow(dead_code, reason = "no core attribute is never returned yet")]
    Never,
    /// Unless excluded.
    Default,
    /// Only when asked for.
    #[allow(
        dead_code,
        reason = "no core attribute is returned on request only yet"
    )]
    Request,
}

impl Returned {
    fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// How unique an attribute's value is (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uniqueness {
    /// No constraint.
    None,
    /// Unique within the service provider (here: within the tenant).
    Server,
    /// Globally unique.
    #[allow(dead_code, reason = "no core attribute is globally unique")]
    Global,
}

impl Uniqueness {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// An attribute definition (RFC 7643 §7).
// The flags are the RFC's attribute characteristics, one field each, as the schema document lists them.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// The name, in the schema's spelling.
    pub(crate) name: &'static str,
    /// The data type.
    pub(crate) kind: AttrType,
    /// Whether the value is an array.
    pub(crate) multi_valued: bool,
    /// Whether a resource must have a value.
    pub(crate) required: bool,
    /// When it may change.
    pub(crate) mutability: Mutability,
    /// Whether string comparison is case-sensitive.
    pub(crate) case_exact: bool,
    /// When it is returned.
    pub(crate) returned: Returned,
    /// How unique its value is.
    pub(crate) uniqueness: Uniqueness,
    /// A description for the schema document.
    pub(crate) description: &'static str,
    /// The sub-attributes of a complex attribute.
    pub(crate) sub_attributes: Vec<Attribute>,
    /// The resource types a reference may point to.
    pub(crate) reference_types: &'static [&'static str],
    /// Suggested values (`type` of an email), for the schema document.
    pub(crate) canonical_values: &'static [&'static str],
    /// A common attribute (`id`, `externalId`, `meta`; RFC 7643 §3.1), left out of schema documents.
    pub(crate) common: bool,
}

impl Attribute {
    fn new(name: &'static str, kind: AttrType, description: &'static str) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            required: false,
            mutability: Mutability::ReadWrite,
            case_exact: false,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            description,
            sub_attributes: Vec::new(),
            reference_types: &[],
            canonical_values: &[],
            common: false,
        }
    }

    fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }

    fn date_time(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::DateTime, description)
    }

    fn reference(
        name: &'static str,
        types: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        Self {
            reference_types: types,
            ..Self::new(name, AttrType::Reference, description)
        }
    }

    fn complex(name: &'static str, subs: Vec<Attribute>, description: &'static str) -> Self {
        Self {
            sub_attributes: subs,
            ..Self::new(name, AttrType::Complex, description)
        }
    }

    fn multi(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    fn case_exact(self) -> Self {
        Self {
            case_exact: true,
            ..self
        }
    }

    fn read_only(self) -> Self {
        Self {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }

    fn immutable(self) -> Self {
        Self {
            mutability: Mutability::Immutable,
            ..self
        }
    }

    fn always(self) -> Self {
        Self {
            returned: Returned::Always,
            ..self
        }
    }

    fn unique(self) -> Self {
        Self {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }

    fn canonical(self, values: &'static [&'static str]) -> Self {
        Self {
            canonical_values: values,
            ..self
        }
    }

    fn common(self) -> Self {
        Self {
            common: true,
            ..self
        }
    }

    /// The sub-attribute called `name`, matched case-insensitively.
    pub(crate) fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(&self) -> Value {
        let mut doc = json!({
            "name": self.name,
            "type": self.kind.as_str(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "mutability": self.mutability.as_str(),
            "returned": self.returned.as_str(),
        });
        let Some(map) = doc.as_object_mut() else {
            return doc;
        };
        if self.kind == AttrType::Complex {
            let subs = self
                .sub_attributes
                .iter()
                .map(Self::to_json)
                .collect::<Vec<_>>();
            map.insert("subAttributes".to_owned(), Value::from(subs));
        } else {
            map.insert("caseExact".to_owned(), Value::from(self.case_exact));
            map.insert(
                "uniqueness".to_owned(),
                Value::from(self.uniqueness.as_str()),
            );
        }
        if !self.reference_types.is_empty() {
            map.insert("referenceTypes".to_owned(), json!(self.reference_types));
        }
        if !self.canonical_values.is_empty() {
            map.insert("canonicalValues".to_owned(), json!(self.canonical_values));
        }
        doc
    }
}

/// A resource schema (RFC 7643 §7) and the extensions its resource type carries: enough to apply PATCH,
/// compare filter values and publish `/Schemas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    /// The schema URN.
    pub(crate) id: &'static str,
    /// The name (`User`).
    pub(crate) name: &'static str,
    /// A description for the schema document.
    pub(crate) description: &'static str,
    /// The attributes, common ones included.
    pub(crate) attributes: Vec<Attribute>,
    /// Extension schemas, whose attributes live under their URN in a resource.
    pub(crate) extensions: Vec<Schema>,
}

impl Schema {
    /// The core User schema (RFC 7643 §4.1) with the attributes Flagent keeps.
    pub(crate) fn user() -> Self {
        use Attribute as A;
        let name = vec![
            A::string("formatted", "The full name, formatted for display"),
            A::string("familyName", "The family name"),
            A::string("givenName", "The given name"),
            A::string("middleName", "The middle name"),
            A::string("honorificPrefix", "The honorific prefix, such as Ms."),
            A::string("honorificSuffix", "The honorific suffix, such as III"),
        ];
        let email = vec![
            A::string("value", "The email address"),
            A::string("display", "A label for display"),
            A::string("type", "The kind of address").canonical(&["work", "home", "other"]),
            A::boolean("primary", "Whether this is the primary address"),
        ];
        let group = vec![
            A::string("value", "The id of the group").read_only(),
            A::reference("$ref", &["User", "Group"], "The URI of the group").read_only(),
            A::string("display", "The group's display name").read_only(),
            A::string("type", "How the membership is held")
                .canonical(&["direct", "indirect"])
                .read_only(),
        ];
        let mut attributes = vec![
            A::string("userName", "The unique identifier the user signs in with")
                .required()
                .unique(),
            A::complex("name", name, "The components of the user's name"),
            A::string("displayName", "The name to display"),
            A::string("nickName", "The casual name"),
            A::string("title", "The job title"),
            A::string("userType", "The relationship to the organization"),
            A::string(
                "preferredLanguage",
                "The preferred written or spoken language",
            ),
            A::string("locale", "The locale for localizing values"),
            A::string("timezone", "The time zone, in IANA form"),
            A::boolean("active", "Whether the user may sign in"),
            A::complex("emails", email, "Email addresses").multi(),
            A::complex("groups", group, "The groups the user belongs to")
                .multi()
                .read_only(),
        ];
        attributes.extend(common_attributes());
        Self {
            id: USER_SCHEMA,
            name: "User",
            description: "User Account",
            attributes,
            extensions: Vec::new(),
        }
    }

    /// The core Group schema (RFC 7643 §4.2); `displayName` is required here.
    pub(crate) fn group() -> Self {
        use Attribute as A;
        let member = vec![
            A::string("value", "The id of the member").immutable(),
            A::reference("$ref", &["User", "Group"], "The URI of the member").immutable(),
            A::string("display", "The member's display name").immutable(),
            A::string("type", "The kind of member")
                .canonical(&["User", "Group"])
                .immutable(),
        ];
        let mut attributes = vec![
            A::string("displayName", "The name of the group").required(),
            A::complex("members", member, "The members of the group").multi(),
        ];
        attributes.extend(common_attributes());
        Self {
            id: GROUP_SCHEMA,
            name: "Group",
            description: "Group",
            attributes,
            extensions: Vec::new(),
        }
    }

    /// The attributes of a created or replaced resource that this schema writes, checked and in its
    /// spelling (RFC 7644 §3.3, §3.5.1): read-only and unknown core attributes are ignored, `null`s
    /// dropped, `"True"`/`"False"` read as booleans, and extension objects (keyed by their schema URN)
    /// kept as sent. A value of the wrong type is 400 `invalidValue`.
    pub(crate) fn conform(
        &self,
        attributes: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ScimError> {
        let mut out = Map::new();
        for (key, value) in attributes {
            if value.is_null() {
                continue;
            }
            if key.len() > 4 && key[..4].eq_ignore_ascii_case("urn:") {
                out.insert(key.clone(), value.clone());
                continue;
            }
            let Some(attr) = self.attribute(key) else {
                continue;
            };
            if attr.mutability == Mutability::ReadOnly {
                continue;
            }
            out.insert(attr.name.to_owned(), coerce(attr, value, attr.name)?);
        }
        Ok(out)
    }

    /// The enterprise User extension (RFC 7643 §4.3), to attach with [`Schema::with_extension`].
    #[allow(
        dead_code,
        reason = "attached once Flagent stores enterprise attributes"
    )]
    pub(crate) fn enterprise_user() -> Self {
        use Attribute as A;
        let manager = vec![
            A::string("value", "The id of the manager"),
            A::reference("$ref", &["User"], "The URI of the manager"),
            A::string("displayName", "The manager's display name").read_only(),
        ];
        let attributes = vec![
            A::string("employeeNumber", "The employee number"),
            A::string("costCenter", "The cost center"),
            A::string("organization", "The organization"),
            A::string("division", "The division"),
            A::string("department", "The department"),
            A::complex("manager", manager, "The user's manager"),
        ];
        Self {
            id: ENTERPRISE_USER_SCHEMA,
            name: "EnterpriseUser",
            description: "Enterprise User",
            attributes,
            extensions: Vec::new(),
        }
    }

    /// This schema with `extension` attached.
    #[allow(
        dead_code,
        reason = "attached once Flagent stores enterprise attributes"
    )]
    pub(crate) fn with_extension(mut self, extension: Schema) -> Self {
        self.extensions.push(extension);
        self
    }

    /// The attribute called `name`, matched case-insensitively.
    pub(crate) fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether the attribute at `path` (`externalId`, `emails.value`, optionally URN-prefixed) compares
    /// case-sensitively; unknown paths do not.
    pub(crate) fn is_case_exact(&self, path: &str) -> bool {
        AttrPath::parse(path)
            .ok()
            .and_then(|p| self.locate(&p).ok())
            .is_some_and(|(_, attr, sub)| sub.unwrap_or(attr).case_exact)
    }

    /// The schema named by `urn` (this one or an extension), `None` for an unknown URN.
    fn part(&self, urn: Option<&str>) -> Option<(Option<&Schema>, &Schema)> {
        match urn {
            None => Some((None, self)),
            Some(urn) if urn.eq_ignore_ascii_case(self.id) => Some((None, self)),
            Some(urn) => self
                .extensions
                .iter()
                .find(|e| e.id.eq_ignore_ascii_case(urn))
                .map(|e| (Some(e), e)),
        }
    }

    /// The extension a bare URN path (no attribute) names.
    fn bare_extension(&self, path: &AttrPath) -> Option<&Schema> {
        let urn = path.urn.as_deref()?;
        if path.sub.is_some() {
            return None;
        }
        let whole = format!("{urn}:{}", path.name);
        self.extensions
            .iter()
            .find(|e| e.id.eq_ignore_ascii_case(&whole))
    }

    /// Resolves a path to (extension, attribute, sub-attribute); the error describes what is unknown.
    fn locate(
        &self,
        path: &AttrPath,
    ) -> Result<(Option<&Schema>, &Attribute, Option<&Attribute>), String> {
        let Some((ext, part)) = self.part(path.urn.as_deref()) else {
            return Err(format!(
                "unknown schema '{}'",
                path.urn.as_deref().unwrap_or_default()
            ));
        };
        let attr = part
            .attribute(&path.name)
            .ok_or_else(|| format!("unknown attribute '{}'", path.name))?;
        let sub = match &path.sub {
            None => None,
            Some(sub) => Some(
                attr.sub_attribute(sub)
                    .ok_or_else(|| format!("'{}' has no sub-attribute '{sub}'", attr.name))?,
            ),
        };
        Ok((ext, attr, sub))
    }

    /// The schema document (RFC 7643 §7) served at `{base}/Schemas/{id}`.
    pub(crate) fn to_json(&self, base: &str) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .filter(|a| !a.common)
            .map(Attribute::to_json)
            .collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", base.trim_end_matches('/'), self.id),
            },
        })
    }
}

/// The schemas of the discovery documents themselves (RFC 7643 §8.7.2), published beside User and
/// Group so clients can read every document the server serves; all their attributes are read-only.
/// They are named as scim2-tester's `core_schemas_validation` and scim2-models look them up.
fn discovery_schemas() -> Vec<Schema> {
    let part = |id, name, description, attributes: Vec<Attribute>| Schema {
        id,
        name,
        description,
        attributes: read_only_all(attributes),
        extensions: Vec::new(),
    };
    vec![
        part(
            SERVICE_PROVIDER_CONFIG_SCHEMA,
            "ServiceProviderConfig",
            "The service's SCIM features",
            config_attributes(),
        ),
        part(
            RESOURCE_TYPE_SCHEMA,
            "ResourceType",
            "A type of resource the service serves",
            resource_type_attributes(),
        ),
        part(
            SCHEMA_SCHEMA,
            "Schema",
            "A schema the service serves",
            schema_attributes(),
        ),
    ]
}

/// The attributes of `/ServiceProviderConfig` (RFC 7643 §5).
fn config_attributes() -> Vec<Attribute> {
    use Attribute as A;
    let supported = || {
        A::boolean("supported", "Whether the feature is supported")
            .required()
            .read_only()
    };
    let flag = |name, description| A::complex(name, vec![supported()], description).required();
    let integer = |name, description| {
        A::new(name, AttrType::Integer, description)
            .required()
            .read_only()
    };
    let scheme = vec![
        A::string("type", "The authentication scheme")
            .required()
            .canonical(&[
                "oauth",
                "oauth2",
                "oauthbearertoken",
                "httpbasic",
                "httpdigest",
            ]),
        A::string("name", "The common name of the scheme").required(),
        A::string("description", "A description of the scheme").required(),
        A::reference("specUri", &["external"], "The scheme's specification"),
        A::reference(
            "documentationUri",
            &["external"],
            "The scheme's documentation",
        ),
        A::boolean("primary", "Whether this is the preferred scheme"),
    ];
    let bulk = vec![
        supported(),
        integer("maxOperations", "The most operations in one bulk request"),
        integer("maxPayloadSize", "The largest bulk payload, in bytes"),
    ];
    let filter = vec![
        supported(),
        integer("maxResults", "The most resources one query returns"),
    ];
    vec![
        A::reference(
            "documentationUri",
            &["external"],
            "The service's documentation",
        ),
        flag("patch", "PATCH support"),
        A::complex("bulk", bulk, "Bulk support").required(),
        A::complex("filter", filter, "Filter support").required(),
        flag("changePassword", "Password change support"),
        flag("sort", "Sorting support"),
        flag("etag", "Entity tag support"),
        A::complex(
            "authenticationSchemes",
            read_only_all(scheme),
            "The authentication schemes",
        )
        .multi()
        .required(),
    ]
}

/// The attributes of a `/ResourceTypes` document (RFC 7643 §6).
fn resource_type_attributes() -> Vec<Attribute> {
    use Attribute as A;
    let extension = vec![
        A::reference("schema", &["uri"], "The extension's schema URN")
            .required()
            .case_exact(),
        A::boolean("required", "Whether resources must carry the extension").required(),
    ];
    vec![
        A::string("id", "The resource type's id"),
        A::string("name", "The resource type's name").required(),
        A::string("description", "The resource type's description"),
        A::reference("endpoint", &["uri"], "The resource type's endpoint").required(),
        A::reference("schema", &["uri"], "The resource type's core schema")
            .required()
            .case_exact(),
        A::complex(
            "schemaExtensions",
            read_only_all(extension),
            "The schema extensions",
        )
        .multi(),
    ]
}

/// The attributes of a `/Schemas` document (RFC 7643 §7), attribute definitions two levels deep.
fn schema_attributes() -> Vec<Attribute> {
    use Attribute as A;
    let definitions = read_only_all(attribute_definition(read_only_all(attribute_definition(
        Vec::new(),
    ))));
    vec![
        A::reference("id", &["uri"], "The schema URN").required(),
        A::string("name", "The schema's name"),
        A::string("description", "The schema's description"),
        A::complex("attributes", definitions, "The attributes")
            .multi()
            .required(),
    ]
}

/// The sub-attributes of an attribute definition, with `subAttributes` when `subs` is not empty.
fn attribute_definition(subs: Vec<Attribute>) -> Vec<Attribute> {
    use Attribute as A;
    let mut attributes = vec![
        A::string("name", "The attribute's name")
            .required()
            .case_exact(),
        A::string("type", "The attribute's data type")
            .required()
            .canonical(&[
                "string",
                "complex",
                "boolean",
                "decimal",
                "integer",
                "dateTime",
                "reference",
                "binary",
            ]),
        A::boolean("multiValued", "Whether the attribute is multi-valued").required(),
        A::string("description", "The attribute's description"),
        A::boolean("required", "Whether the attribute is required"),
        A::string("canonicalValues", "Suggested values").multi(),
        A::boolean("caseExact", "Whether string values are case-sensitive"),
        A::string("mutability", "When the attribute may change").canonical(&[
            "readOnly",
            "readWrite",
            "immutable",
            "writeOnly",
        ]),
        A::string("returned", "When the attribute is returned")
            .canonical(&["always", "never", "default", "request"]),
        A::string("uniqueness", "How unique values are").canonical(&["none", "server", "global"]),
        A::string("referenceTypes", "The types a reference may point to").multi(),
    ];
    if !subs.is_empty() {
        attributes.push(A::complex("subAttributes", subs, "The sub-attributes").multi());
    }
    attributes
}

fn read_only_all(attributes: Vec<Attribute>) -> Vec<Attribute> {
    attributes.into_iter().map(Attribute::read_only).collect()
}

/// `externalId`, `id` and `meta` (RFC 7643 §3.1), which every resource has.
fn common_attributes() -> Vec<Attribute> {
    use Attribute as A;
    let meta = vec![
        A::string("resourceType", "The resource type").case_exact(),
        A::date_time("created", "When the resource was created"),
        A::date_time("lastModified", "When the resource last changed"),
        A::reference("location", &["uri"], "The URI of the resource").case_exact(),
        A::string("version", "The version of the resource").case_exact(),
    ];
    vec![
        A::string("id", "The server's identifier")
            .read_only()
            .always()
            .unique()
            .case_exact()
            .common(),
        A::string("externalId", "The client's identifier")
            .case_exact()
            .common(),
        A::complex("meta", meta, "Resource metadata")
            .read_only()
            .common(),
    ]
}

// ----------------------------------------------------------------------------------------- patch

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Add,
    Remove,
    Replace,
}

#[derive(Debug)]
struct Operation {
    verb: Verb,
    path: Option<String>,
    value: Option<Value>,
}

/// A PATCH path (RFC 7644 §3.5.2, Figure 7): `attrPath` or `valuePath [subAttr]`.
#[derive(Debug)]
struct PatchPath {
    attr: AttrPath,
    filter: Option<Node>,
    /// The sub-attribute after a value filter (`emails[type eq "work"].value`).
    sub: Option<String>,
    text: String,
}

impl PatchPath {
    fn parse(text: &str) -> Result<Self, ScimError> {
        let text = text.trim();
        if text.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_path(format!(
                "path is longer than {MAX_FILTER_LEN} characters"
            )));
        }
        let bad = |why: String| ScimError::invalid_path(format!("invalid path '{text}': {why}"));
        let Some(open) = text.find('[') else {
            let attr = AttrPath::parse(text).map_err(bad)?;
            return Ok(Self {
                attr,
                filter: None,
                sub: None,
                text: text.to_owned(),
            });
        };
        let close = text
            .rfind(']')
            .filter(|c| *c > open)
            .ok_or_else(|| bad("'[' has no closing ']'".into()))?;
        let attr = AttrPath::parse(&text[..open]).map_err(bad)?;
        if attr.sub.is_some() {
            return Err(bad(
                "a value filter follows an attribute, not a sub-attribute".into(),
            ));
        }
        let filter = parse_expression(&text[open + 1..close], true).map_err(|e| bad(e.detail))?;
        let sub = match &text[close + 1..] {
            "" => None,
            tail => match tail.strip_prefix('.') {
                Some(sub) if is_attr_name(sub) => Some(sub.to_ascii_lowercase()),
                _ => return Err(bad(format!("'{tail}' after ']' is not a sub-attribute"))),
            },
        };
        Ok(Self {
            attr,
            filter: Some(filter),
            sub,
            text: text.to_owned(),
        })
    }
}

/// What a PATCH path resolved to in the schema.
struct Target<'a> {
    ext: Option<&'a Schema>,
    attr: &'a Attribute,
    sub: Option<&'a Attribute>,
    filter: Option<&'a Node>,
    text: &'a str,
}

/// Applies a PATCH request (RFC 7644 §3.5.2) to a resource's JSON representation.
/// The request must name the `PatchOp` schema and hold 1 to [`MAX_OPERATIONS`] operations, applied in
/// order and all or nothing.
/// Errors are 400 with `invalidSyntax` (malformed request), `invalidPath` (unknown or malformed path),
/// `noTarget` (nothing to remove or replace), `mutability` (read-only, immutable or required
/// attribute) or `invalidValue` (wrong type); the detail names the failing operation.
pub(crate) fn apply_patch(
    resource: &mut Value,
    request: &Value,
    schema: &Schema,
) -> Result<(), ScimError> {
    let operations = read_operations(request)?;
    if !resource.is_object() {
        return Err(ScimError::internal(
            "the resource to patch is not a JSON object",
        ));
    }
    let mut draft = resource.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_operation(&mut draft, operation, schema).map_err(|e| e.in_operation(index))?;
    }
    sync_extension_schemas(&mut draft, schema);
    *resource = draft;
    Ok(())
}

fn read_operations(request: &Value) -> Result<Vec<Operation>, ScimError> {
    let Some(body) = request.as_object() else {
        return Err(ScimError::invalid_syntax(
            "a patch request is a JSON object",
        ));
    };
    let names_schema = field(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
            })
        });
    if !names_schema {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must contain '{PATCH_OP_SCHEMA}'"
        )));
    }
    let Some(operations) = field(body, "Operations").and_then(Value::as_array) else {
        return Err(ScimError::invalid_syntax("Operations must be an array"));
    };
    if operations.is_empty() {
        return Err(ScimError::invalid_syntax(
            "Operations must hold at least one operation",
        ));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "Operations may hold at most {MAX_OPERATIONS} operations"
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| read_operation(op).map_err(|e| e.in_operation(i)))
        .collect()
}

fn read_operation(operation: &Value) -> Result<Operation, ScimError> {
    let Some(operation) = operation.as_object() else {
        return Err(ScimError::invalid_syntax("an operation is a JSON object"));
    };
    let verb = match field(operation, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => Verb::Add,
        Some(op) if op.eq_ignore_ascii_case("remove") => Verb::Remove,
        Some(op) if op.eq_ignore_ascii_case("replace") => Verb::Replace,
        _ => {
            return Err(ScimError::invalid_syntax(
                "op must be \"add\", \"remove\" or \"replace\"",
            ));
        }
    };
    let path = match field(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(path.clone()),
        Some(_) => return Err(ScimError::invalid_path("path must be a string")),
    };
    let value = field(operation, "value").cloned();
    if verb != Verb::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax("add and replace need a value"));
    }
    Ok(Operation { verb, path, value })
}

fn apply_operation(
    resource: &mut Value,
    operation: &Operation,
    schema: &Schema,
) -> Result<(), ScimError> {
    let value = operation.value.as_ref();
    match (&operation.path, operation.verb) {
        (None, Verb::Remove) => Err(ScimError::no_target("remove needs a path")),
        (None, verb) => {
            let Some(Value::Object(attributes)) = value else {
                return Err(ScimError::invalid_value(
                    "without a path, the value is an object of attributes",
                ));
            };
            for (key, value) in attributes {
                if !key.eq_ignore_ascii_case("schemas") {
                    apply_at(resource, verb, &PatchPath::parse(key)?, Some(value), schema)?;
                }
            }
            Ok(())
        }
        (Some(path), verb) => apply_at(resource, verb, &PatchPath::parse(path)?, value, schema),
    }
}

fn apply_at(
    resource: &mut Value,
    verb: Verb,
    path: &PatchPath,
    value: Option<&Value>,
    schema: &Schema,
) -> Result<(), ScimError> {
    if path.filter.is_none()
        && let Some(ext) = schema.bare_extension(&path.attr)
    {
        return apply_to_extension(resource, verb, ext, value, schema);
    }
    let unknown =
        |why: String| ScimError::invalid_path(format!("invalid path '{}': {why}", path.text));
    let (ext, attr, mut sub) = schema.locate(&path.attr).map_err(unknown)?;
    if let Some(name) = &path.sub {
        sub = Some(
            attr.sub_attribute(name)
                .ok_or_else(|| unknown(format!("no sub-attribute '{name}'")))?,
        );
    }
    if sub.is_some() && attr.kind != AttrType::Complex {
        return Err(unknown(format!("'{}' has no sub-attributes", attr.name)));
    }
    if path.filter.is_some() && !(attr.multi_valued && attr.kind == AttrType::Complex) {
        return Err(unknown(format!(
            "'{}' is not a multi-valued complex attribute",
            attr.name
        )));
    }
    let target = Target {
        ext,
        attr,
        sub,
        filter: path.filter.as_ref(),
        text: &path.text,
    };
    if verb != Verb::Remove && value.is_some_and(Value::is_null) {
        // `null` unassigns (RFC 7643 §2.5), and unassigning what has no value is no error.
        let mut trial = resource.clone();
        return match apply_resolved(&mut trial, Verb::Remove, &target, None, schema) {
            Err(e) if e.scim_type == Some(scim_type::NO_TARGET) => Ok(()),
            Err(e) => Err(e),
            Ok(()) => {
                *resource = trial;
                Ok(())
            }
        };
    }
    apply_resolved(resource, verb, &target, value, schema)
}

fn apply_resolved(
    resource: &mut Value,
    verb: Verb,
    target: &Target<'_>,
    value: Option<&Value>,
    schema: &Schema,
) -> Result<(), ScimError> {
    if check_mutability(resource, verb, target, value)? {
        return Ok(());
    }
    let map = container(resource, target.ext)?;
    match (target.filter, target.sub) {
        (None, None) => apply_whole(map, verb, target, value),
        (None, Some(sub)) if !target.attr.multi_valued => apply_sub(map, verb, target, sub, value),
        _ => apply_elements(map, verb, target, value, schema),
    }
}

/// Enforces mutability and requiredness; `Ok(true)` means the operation is a no-op.
fn check_mutability(
    resource: &Value,
    verb: Verb,
    target: &Target<'_>,
    value: Option<&Value>,
) -> Result<bool, ScimError> {
    let leaf = target.sub.unwrap_or(target.attr);
    if target.attr.mutability == Mutability::ReadOnly || leaf.mutability == Mutability::ReadOnly {
        let plain = target.filter.is_none() && target.sub.is_none();
        let current =
            resource_part(resource, target.ext).and_then(|m| get_ci_map(m, target.attr.name));
        if verb != Verb::Remove && plain && value.is_some() && current == value {
            return Ok(true);
        }
        return Err(ScimError::mutability(format!(
            "'{}' is read-only",
            target.text
        )));
    }
    if verb == Verb::Remove {
        let removes_leaf = target.sub.is_some() || target.filter.is_none();
        if removes_leaf && leaf.required {
            return Err(ScimError::mutability(format!(
                "'{}' is required and cannot be removed",
                target.text
            )));
        }
        if target.sub.is_some() && leaf.mutability == Mutability::Immutable {
            return Err(ScimError::mutability(format!(
                "'{}' is immutable",
                target.text
            )));
        }
    }
    Ok(false)
}

fn apply_to_extension(
    resource: &mut Value,
    verb: Verb,
    ext: &Schema,
    value: Option<&Value>,
    schema: &Schema,
) -> Result<(), ScimError> {
    match (verb, value) {
        (Verb::Remove, _) | (_, None | Some(Value::Null)) => {
            let root = resource.as_object_mut().ok_or_else(not_an_object)?;
            let present = get_ci_map(root, ext.id).is_some_and(is_assigned);
            if present {
                take(root, ext.id);
            }
            Ok(())
        }
        (_, Some(Value::Object(attributes))) => {
            // scim2-models serializes an extension object with its own `schemas` member.
            for (key, value) in attributes
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
            {
                let path = PatchPath::parse(&format!("{}:{key}", ext.id))?;
                apply_at(resource, verb, &path, Some(value), schema)?;
            }
            Ok(())
        }
        (_, Some(_)) => Err(ScimError::invalid_value(format!(
            "'{}' must be an object",
            ext.id
        ))),
    }
}

/// `add`, `replace` or `remove` of a whole attribute.
fn apply_whole(
    map: &mut Map<String, Value>,
    verb: Verb,
    target: &Target<'_>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = target.attr;
    let current = get_ci_map(map, attr.name)
        .filter(|v| is_assigned(v))
        .cloned();
    let Some(value) = value.filter(|_| verb != Verb::Remove) else {
        let Some(current) = current else {
            return Ok(());
        };
        let kept = match value.filter(|v| !v.is_null()) {
            Some(listed) if attr.multi_valued => {
                let listed = coerce(attr, listed, target.text)?;
                let listed = listed.as_array().map_or(&[][..], Vec::as_slice);
                Value::Array(
                    flatten(&current)
                        .into_iter()
                        .filter(|v| !listed.iter().any(|l| same_element(v, l)))
                        .cloned()
                        .collect(),
                )
            }
            _ => Value::Null,
        };
        put(map, attr.name, kept);
        return Ok(());
    };
    let new = coerce(attr, value, target.text)?;
    let merged = match current.clone() {
        Some(old) if attr.multi_valued && verb == Verb::Add => append_unique(&old, &new),
        Some(Value::Object(old)) if attr.kind == AttrType::Complex && !attr.multi_valued => {
            merge(old, new)
        }
        _ => new,
    };
    if attr.mutability == Mutability::Immutable && current.is_some_and(|c| c != merged) {
        return Err(ScimError::mutability(format!(
            "'{}' is immutable",
            target.text
        )));
    }
    put(map, attr.name, merged);
    Ok(())
}

/// `add`, `replace` or `remove` of a sub-attribute of a single-valued complex attribute.
fn apply_sub(
    map: &mut Map<String, Value>,
    verb: Verb,
    target: &Target<'_>,
    sub: &Attribute,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let mut object = match get_ci_map(map, target.attr.name) {
        Some(Value::Object(object)) => object.clone(),
        _ => Map::new(),
    };
    let current = get_ci_map(&object, sub.name)
        .filter(|v| is_assigned(v))
        .cloned();
    match value.filter(|_| verb != Verb::Remove) {
        None if current.is_none() => return Ok(()),
        None => put(&mut object, sub.name, Value::Null),
        Some(value) => {
            let new = coerce(sub, value, target.text)?;
            if sub.mutability == Mutability::Immutable && current.is_some_and(|c| c != new) {
                return Err(ScimError::mutability(format!(
                    "'{}' is immutable",
                    target.text
                )));
            }
            put(&mut object, sub.name, new);
        }
    }
    put(map, target.attr.name, Value::Object(object));
    Ok(())
}

/// Operations on the values of a multi-valued complex attribute: those a value filter selects, or all
/// of them for a sub-attribute path without a filter (`emails.type`).
fn apply_elements(
    map: &mut Map<String, Value>,
    verb: Verb,
    target: &Target<'_>,
    value: Option<&Value>,
    schema: &Schema,
) -> Result<(), ScimError> {
    let attr = target.attr;
    let mut items: Vec<Value> = take(map, attr.name)
        .map(|v| flatten(&v).into_iter().cloned().collect())
        .unwrap_or_default();
    let parent = match target.ext {
        Some(ext) => format!("{}:{}", ext.id, attr.name).to_ascii_lowercase(),
        None => attr.name.to_ascii_lowercase(),
    };
    let case_exact = |path: &str| schema.is_case_exact(path);
    let selected: Vec<usize> = match target.filter {
        Some(filter) => (0..items.len())
            .filter(|&i| filter.eval(&items[i], Some(&parent), &case_exact))
            .collect(),
        None => (0..items.len()).collect(),
    };
    match verb {
        Verb::Remove => remove_elements(&mut items, &selected, target)?,
        Verb::Add | Verb::Replace => {
            let value =
                value.ok_or_else(|| ScimError::invalid_syntax("add and replace need a value"))?;
            write_elements(&mut items, &selected, verb, target, value)?;
        }
    }
    put(map, attr.name, Value::Array(items));
    Ok(())
}

fn remove_elements(
    items: &mut Vec<Value>,
    selected: &[usize],
    target: &Target<'_>,
) -> Result<(), ScimError> {
    let none = || ScimError::no_target(format!("'{}' matches no value", target.text));
    let Some(sub) = target.sub else {
        if selected.is_empty() {
            return Err(none());
        }
        let mut index = 0;
        items.retain(|_| {
            index += 1;
            !selected.contains(&(index - 1))
        });
        return Ok(());
    };
    let mut removed = false;
    for &i in selected {
        if let Some(Value::Object(element)) = items.get_mut(i) {
            removed |= take(element, sub.name).is_some_and(|v| is_assigned(&v));
        }
    }
    if !removed && target.filter.is_some() {
        return Err(none());
    }
    items.retain(is_assigned);
    Ok(())
}

fn write_elements(
    items: &mut Vec<Value>,
    selected: &[usize],
    verb: Verb,
    target: &Target<'_>,
    value: &Value,
) -> Result<(), ScimError> {
    let attr = target.attr;
    let patch = match target.sub {
        Some(sub) => {
            let mut patch = Map::new();
            patch.insert(sub.name.to_owned(), coerce(sub, value, target.text)?);
            patch
        }
        None => element_value(attr, value, target.text)?,
    };
    if selected.is_empty() {
        let seed = match target.filter {
            None => Some(Map::new()),
            Some(_) if verb == Verb::Replace => None,
            Some(filter) => seed_from_filter(filter, attr),
        };
        let Some(seed) = seed else {
            return Err(ScimError::no_target(format!(
                "'{}' matches no value",
                target.text
            )));
        };
        items.push(merge(seed, Value::Object(patch)));
        let last = items.len() - 1;
        enforce_single_primary(items, last);
        return Ok(());
    }
    for &i in selected {
        let Some(old) = items.get(i).cloned() else {
            continue;
        };
        let new = match (verb, target.sub, old) {
            (Verb::Replace, None, _) => Value::Object(patch.clone()),
            (_, _, Value::Object(old)) => merge(old, Value::Object(patch.clone())),
            _ => Value::Object(patch.clone()),
        };
        check_immutable_element(attr, items.get(i), &new, target.text)?;
        if let Some(slot) = items.get_mut(i) {
            *slot = new;
        }
        enforce_single_primary(items, i);
    }
    Ok(())
}

/// One value of a multi-valued complex attribute, from an object or a one-element array.
fn element_value(
    attr: &Attribute,
    value: &Value,
    text: &str,
) -> Result<Map<String, Value>, ScimError> {
    let single = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let element = Attribute {
        multi_valued: false,
        ..attr.clone()
    };
    match coerce(&element, single, text)? {
        Value::Object(map) => Ok(map),
        _ => Err(ScimError::invalid_value(format!(
            "'{text}' must be an object"
        ))),
    }
}

/// A new value built from a filter's `eq` terms, for `add` through a filter that matches nothing.
fn seed_from_filter(filter: &Node, attr: &Attribute) -> Option<Map<String, Value>> {
    let terms: Vec<&Node> = match filter {
        Node::And(terms) => terms.iter().collect(),
        other => vec![other],
    };
    let mut seed = Map::new();
    for term in terms {
        let Node::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } = term
        else {
            return None;
        };
        if path.urn.is_some() || path.sub.is_some() {
            return None;
        }
        let sub = attr.sub_attribute(&path.name)?;
        seed.insert(sub.name.to_owned(), coerce(sub, value, sub.name).ok()?);
    }
    Some(seed)
}

fn check_immutable_element(
    attr: &Attribute,
    old: Option<&Value>,
    new: &Value,
    text: &str,
) -> Result<(), ScimError> {
    let Some(old) = old else {
        return Ok(());
    };
    for sub in attr
        .sub_attributes
        .iter()
        .filter(|s| s.mutability == Mutability::Immutable)
    {
        let before = get_ci(old, sub.name).filter(|v| is_assigned(v));
        if before.is_some() && before != get_ci(new, sub.name) {
            return Err(ScimError::mutability(format!(
                "'{text}' would change the immutable '{}'",
                sub.name
            )));
        }
    }
    Ok(())
}

/// Appends the values of `new` to `old`, merging a value into an equal one instead of repeating it.
fn append_unique(old: &Value, new: &Value) -> Value {
    let mut items: Vec<Value> = flatten(old).into_iter().cloned().collect();
    for value in flatten(new) {
        let index = if let Some(i) = items.iter().position(|item| same_element(item, value)) {
            if let (Some(Value::Object(item)), Value::Object(_)) = (items.get(i).cloned(), value) {
                items[i] = merge(item, value.clone());
            }
            i
        } else {
            items.push(value.clone());
            items.len() - 1
        };
        enforce_single_primary(&mut items, index);
    }
    Value::Array(items)
}

/// Two values are the same when equal, or when both are objects with equal `value` and `type`.
fn same_element(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(_), Value::Object(_)) => {
            let value = |v: &Value| get_ci(v, "value").cloned();
            let kind = |v: &Value| {
                get_ci(v, "type")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
            };
            match (value(a), value(b)) {
                (Some(x), Some(y)) => x == y && kind(a) == kind(b),
                _ => a == b,
            }
        }
        _ => a == b,
    }
}

/// Keeps `primary: true` on at most one value (RFC 7643 §2.4): the one at `winner`, if it has it.
fn enforce_single_primary(items: &mut [Value], winner: usize) {
    let is_primary = |v: &Value| get_ci(v, "primary") == Some(&Value::Bool(true));
    if !items.get(winner).is_some_and(is_primary) {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if i != winner
            && is_primary(item)
            && let Some(map) = item.as_object_mut()
        {
            put(map, "primary", Value::Bool(false));
        }
    }
}

/// Merges the members of `patch` (an object) into `base`.
fn merge(mut base: Map<String, Value>, patch: Value) -> Value {
    if let Value::Object(patch) = patch {
        for (key, value) in patch {
            let existing = key_ci(&base, &key);
            if let Some(existing) = existing {
                base.remove(&existing);
            }
            base.insert(key, value);
        }
    }
    Value::Object(base)
}

/// Checks `value` against `attr` and returns it canonicalized: sub-attribute names in the schema's
/// spelling, `null` members dropped, `"True"`/`"False"` read as booleans.
fn coerce(attr: &Attribute, value: &Value, text: &str) -> Result<Value, ScimError> {
    if !attr.multi_valued {
        return coerce_one(attr, value, text);
    }
    let items = flatten(value).into_iter().filter(|v| !v.is_null());
    let items = items
        .map(|v| coerce_one(attr, v, text))
        .collect::<Result<Vec<_>, _>>()?;
    let primaries = items
        .iter()
        .filter(|v| get_ci(v, "primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one value of '{text}' may be primary"
        )));
    }
    Ok(Value::Array(items))
}

fn coerce_one(attr: &Attribute, value: &Value, text: &str) -> Result<Value, ScimError> {
    let fits = match (attr.kind, value) {
        (AttrType::String | AttrType::Reference, Value::String(_))
        | (AttrType::Boolean, Value::Bool(_)) => true,
        (AttrType::DateTime, Value::String(s)) => is_date_time(s),
        (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Boolean, Value::String(s)) => {
            return parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| wrong_type(attr, text));
        }
        (AttrType::Complex, Value::Object(members)) => return coerce_complex(attr, members, text),
        _ => false,
    };
    if fits {
        Ok(value.clone())
    } else {
        Err(wrong_type(attr, text))
    }
}

fn coerce_complex(
    attr: &Attribute,
    members: &Map<String, Value>,
    text: &str,
) -> Result<Value, ScimError> {
    let mut out = Map::new();
    for (key, value) in members {
        let sub = attr.sub_attribute(key).ok_or_else(|| {
            ScimError::invalid_path(format!("'{}' has no sub-attribute '{key}'", attr.name))
        })?;
        if !value.is_null() && sub.mutability != Mutability::ReadOnly {
            out.insert(
                sub.name.to_owned(),
                coerce(sub, value, &format!("{text}.{}", sub.name))?,
            );
        }
    }
    Ok(Value::Object(out))
}

fn wrong_type(attr: &Attribute, text: &str) -> ScimError {
    ScimError::invalid_value(format!("'{text}' must be {}", attr.kind.described()))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the RFC 3339 form of `xsd:dateTime`.
fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let date = digits(0..4) && at(4, b"-") && digits(5..7) && at(7, b"-") && digits(8..10);
    let time = at(10, b"Tt")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !(date && time) {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

/// Drops empty extension objects and lists in `schemas` exactly the extensions the resource has.
fn sync_extension_schemas(resource: &mut Value, schema: &Schema) {
    let Some(root) = resource.as_object_mut() else {
        return;
    };
    for ext in &schema.extensions {
        let present = get_ci_map(root, ext.id).is_some_and(is_assigned);
        if !present {
            take(root, ext.id);
        }
        let schemas = root.entry("schemas").or_insert_with(|| json!([schema.id]));
        if let Value::Array(list) = schemas {
            let names = |s: &Value| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.id));
            let listed = list.iter().any(names);
            if present && !listed {
                list.push(Value::from(ext.id));
            } else if !present && listed {
                list.retain(|s| !names(s));
            }
        }
    }
}

/// An object is assigned when not null, not an empty array and not an empty object (RFC 7643 §2.5).
fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

/// The object holding an attribute: the resource, or its extension object (created if missing).
fn container<'v>(
    resource: &'v mut Value,
    ext: Option<&Schema>,
) -> Result<&'v mut Map<String, Value>, ScimError> {
    let root = resource.as_object_mut().ok_or_else(not_an_object)?;
    let Some(ext) = ext else {
        return Ok(root);
    };
    let key = key_ci(root, ext.id).unwrap_or_else(|| ext.id.to_owned());
    let slot = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| ScimError::invalid_value(format!("'{}' must be an object", ext.id)))
}

fn resource_part<'v>(resource: &'v Value, ext: Option<&Schema>) -> Option<&'v Map<String, Value>> {
    let root = resource.as_object()?;
    match ext {
        None => Some(root),
        Some(ext) => get_ci_map(root, ext.id)?.as_object(),
    }
}

fn not_an_object() -> ScimError {
    ScimError::internal("the resource to patch is not a JSON object")
}

/// The member of an object called `name`, matched case-insensitively.
fn get_ci<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    get_ci_map(value.as_object()?, name)
}

fn get_ci_map<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A request member, matched case-insensitively (clients send `operations` as well as `Operations`).
fn field<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    get_ci_map(map, name)
}

fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    key_ci(map, name).and_then(|k| map.remove(&k))
}

/// Stores `value` under `name` in the schema's spelling, or unassigns it when `value` is unassigned.
fn put(map: &mut Map<String, Value>, name: &str, value: Value) {
    take(map, name);
    if is_assigned(&value) {
        map.insert(name.to_owned(), value);
    }
}

// ------------------------------------------------------------------------------------- discovery

/// The `/ServiceProviderConfig` document (RFC 7643 §5): PATCH and filtering supported (at most
/// [`MAX_PAGE`] results), no bulk, password change, sorting or entity tags, bearer-token authentication.
pub(crate) fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_PAGE },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token issued by Flagent for the tenant, sent as 'Authorization: Bearer <token>'",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base.trim_end_matches('/')),
        },
    })
}

/// The `/Schemas` documents (RFC 7643 §7): User, Group, the extensions they carry, and the schemas
/// of the discovery documents (RFC 7643 §8.7.2).
pub(crate) fn schemas(base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for schema in [Schema::user(), Schema::group()] {
        out.push(schema.to_json(base));
        out.extend(schema.extensions.iter().map(|e| e.to_json(base)));
    }
    out.extend(discovery_schemas().iter().map(|s| s.to_json(base)));
    out
}

/// The `/ResourceTypes` documents (RFC 7643 §6): User at `/Users` and Group at `/Groups`.
pub(crate) fn resource_types(base: &str) -> Vec<Value> {
    let base = base.trim_end_matches('/');
    [(Schema::user(), "/Users"), (Schema::group(), "/Groups")]
        .iter()
        .map(|(schema, endpoint)| {
            let extensions: Vec<Value> = schema
                .extensions
                .iter()
                .map(|e| json!({ "schema": e.id, "required": false }))
                .collect();
            let mut doc = json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": schema.name,
                "name": schema.name,
                "endpoint": endpoint,
                "description": schema.description,
                "schema": schema.id,
                "meta": {
                    "resourceType": "ResourceType",
                    "location": format!("{base}/ResourceTypes/{}", schema.name),
                },
            });
            if let (false, Some(map)) = (extensions.is_empty(), doc.as_object_mut()) {
                map.insert("schemaExtensions".to_owned(), Value::from(extensions));
            }
            doc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "id": "2819c223",
            "externalId": "Ext-1",
            "userName": "Bjensen",
            "name": { "givenName": "Barbara", "familyName": "Jensen" },
            "displayName": "Babs Jensen",
            "active": true,
            "emails": [
                { "value": "bjensen@example.com", "type": "work", "primary": true },
                { "value": "babs@jensen.org", "type": "home" },
            ],
            "meta": { "resourceType": "User", "lastModified": "2024-05-01T10:00:00Z" },
        })
    }

    fn group() -> Value {
        json!({
            "schemas": [GROUP_SCHEMA],
            "id": "g1",
            "displayName": "Engineering",
            "members": [{ "value": "u1", "display": "Ann" }, { "value": "u2", "display": "Bob" }],
        })
    }

    fn matches(filter: &str, resource: &Value) -> bool {
        let schema = Schema::user();
        parse_filter(filter)
            .expect("filter parses")
            .matches(resource, &|p| schema.is_case_exact(p))
    }

    fn patch(ops: Value) -> Value {
        let mut body = json!({ "schemas": [PATCH_OP_SCHEMA] });
        body["Operations"] = ops;
        body
    }

    fn patched(mut resource: Value, ops: Value, schema: &Schema) -> Value {
        apply_patch(&mut resource, &patch(ops), schema).expect("patch applies");
        resource
    }

    fn patch_user(ops: Value) -> Value {
        patched(user(), ops, &Schema::user())
    }

    fn patch_error(resource: Value, ops: Value, schema: &Schema) -> ScimError {
        let before = resource.clone();
        let mut resource = resource;
        let err = apply_patch(&mut resource, &patch(ops), schema).expect_err("patch is refused");
        assert_eq!(
            resource, before,
            "a refused patch leaves the resource unchanged"
        );
        err
    }

    fn user_patch_error(ops: Value) -> ScimError {
        patch_error(user(), ops, &Schema::user())
    }

    fn enterprise() -> Schema {
        Schema::user().with_extension(Schema::enterprise_user())
    }

    // ------------------------------------------------------------------------------- errors

    #[test]
    fn error_body_follows_rfc_7644_section_3_12() {
        let body = ScimError::invalid_filter("bad filter").to_json();
        assert_eq!(
            body,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "bad filter",
            })
        );
    }

    #[test]
    fn error_without_scim_type_omits_it() {
        let body = ScimError::not_found("no such user").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }

    #[test]
    fn error_constructors_set_status_and_type() {
        let cases = [
            (ScimError::conflict("taken"), 409, Some("uniqueness")),
            (ScimError::forbidden("no"), 403, None),
            (ScimError::unauthorized("no"), 401, None),
            (ScimError::precondition_failed("stale"), 412, None),
            (ScimError::payload_too_large("big"), 413, None),
            (ScimError::method_not_allowed("get only"), 405, None),
            (ScimError::unavailable("later"), 503, None),
            (ScimError::internal("oops"), 500, None),
            (
                ScimError::bad_request(scim_type::TOO_MANY, "many"),
                400,
                Some("tooMany"),
            ),
            (ScimError::mutability("ro"), 400, Some("mutability")),
            (ScimError::no_target("none"), 400, Some("noTarget")),
            (ScimError::invalid_path("p"), 400, Some("invalidPath")),
            (ScimError::invalid_value("v"), 400, Some("invalidValue")),
            (ScimError::invalid_syntax("s"), 400, Some("invalidSyntax")),
        ];
        for (err, status, kind) in cases {
            assert_eq!((err.status, err.scim_type), (status, kind), "{err}");
        }
    }

    #[test]
    fn error_displays_status_type_and_detail() {
        assert_eq!(
            ScimError::conflict("userName is taken").to_string(),
            "scim error 409 (uniqueness): userName is taken"
        );
        assert_eq!(
            ScimError::not_found("gone").to_string(),
            "scim error 404: gone"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(ScimError::not_found("gone"));
        assert!(boxed.source().is_none());
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

    #[test]
    fn schemas_know_which_attributes_are_case_exact() {
        let user = Schema::user();
        for (path, exact) in [
            ("externalid", true),
            ("id", true),
            ("userName", false),
            ("emails.value", false),
            ("meta.location", true),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:externalId",
                true,
            ),
            ("unknown", false),
        ] {
            assert_eq!(user.is_case_exact(path), exact, "{path}");
        }
    }

    // ------------------------------------------------------------------------------- paging

    #[test]
    fn paging_defaults_to_the_first_hundred() {
        assert_eq!(
            Page::from_query(None, None),
            Ok(Page {
                start_index: 1,
                count: DEFAULT_PAGE
            })
        );
        assert_eq!(
            Page::from_query(Some(""), Some(" ")),
            Ok(Page {
                start_index: 1,
                count: DEFAULT_PAGE
            })
        );
    }

    #[test]
    fn paging_clamps_out_of_range_values() {
        let page = |s, c| Page::from_query(Some(s), Some(c)).expect("parses");
        assert_eq!(
            page("0", "10"),
            Page {
                start_index: 1,
                count: 10
            }
        );
        assert_eq!(
            page("-5", "-3"),
            Page {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            page("7", "0"),
            Page {
                start_index: 7,
                count: 0
            }
        );
        assert_eq!(
            page("+3", "500"),
            Page {
                start_index: 3,
                count: MAX_PAGE
            }
        );
        assert_eq!(
            page(" 2 ", "99999999999999999999999"),
            Page {
                start_index: 2,
                count: MAX_PAGE
            }
        );
        assert_eq!(
            page("99999999999999999999999", "5").start_index,
            usize::try_from(i64::MAX).unwrap_or(usize::MAX)
        );
    }

    #[test]
    fn paging_refuses_non_integers() {
        for (start, count) in [
            (Some("one"), None),
            (None, Some("1.5")),
            (Some("-"), None),
            (None, Some("1e2")),
            (None, Some("0x10")),
        ] {
            let err = Page::from_query(start, count).expect_err("refused");
            assert_eq!((err.status, err.scim_type), (400, Some("invalidValue")));
        }
    }

    #[test]
    fn page_ranges_stay_within_the_total() {
        let page = Page {
            start_index: 3,
            count: 5,
        };
        assert_eq!(page.offset(), 2);
        assert_eq!(page.range(100), 2..7);
        assert_eq!(page.range(4), 2..4);
        assert_eq!(page.range(1), 1..1);
        assert_eq!(
            Page {
                start_index: usize::MAX,
                count: MAX_PAGE
            }
            .range(10),
            10..10
        );
    }

    #[test]
    fn list_response_has_the_rfc_shape() {
        let page = Page {
            start_index: 3,
            count: 2,
        };
        let body = list_response(10, &page, vec![json!({"id": "a"}), json!({"id": "b"})]);
        assert_eq!(
            body,
            json!({
                "schemas": [LIST_RESPONSE_SCHEMA],
                "totalResults": 10,
                "startIndex": 3,
                "itemsPerPage": 2,
                "Resources": [{"id": "a"}, {"id": "b"}],
            })
        );
        assert_eq!(list_response(0, &page, Vec::new())["Resources"], json!([]));
    }

    // ------------------------------------------------------------------- patch: the request

    #[test]
    fn patch_requests_must_name_the_patch_schema_and_hold_operations() {
        let schema = Schema::user();
        let op = json!({"op": "replace", "path": "title", "value": "x"});
        let bodies = [
            json!([op]),
            json!({"Operations": [op]}),
            json!({"schemas": ["urn:wrong"], "Operations": [op]}),
            json!({"schemas": [PATCH_OP_SCHEMA]}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": op}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": vec![op.clone(); MAX_OPERATIONS + 1]}),
        ];
        for body in bodies {
            let err = apply_patch(&mut user(), &body, &schema).expect_err("refused");
            assert_eq!(err.scim_type, Some("invalidSyntax"), "{body}: {err}");
        }
        let most = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": vec![op; MAX_OPERATIONS]});
        assert!(apply_patch(&mut user(), &most, &schema).is_ok());
    }

    #[test]
    fn operations_must_be_well_formed() {
        for (op, kind) in [
            (json!("replace"), "invalidSyntax"),
            (json!({"op": "move", "path": "title"}), "invalidSyntax"),
            (json!({"path": "title", "value": "x"}), "invalidSyntax"),
            (json!({"op": "add", "path": "title"}), "invalidSyntax"),
            (json!({"op": "add", "path": 5, "value": "x"}), "invalidPath"),
            (json!({"op": "replace", "value": "x"}), "invalidValue"),
        ] {
            assert_eq!(user_patch_error(json!([op])).scim_type, Some(kind), "{op}");
        }
    }

    #[test]
    fn op_names_are_case_insensitive() {
        let u = patch_user(json!([
            {"op": "ADD", "path": "title", "value": "Boss"},
            {"op": "Replace", "path": "nickName", "value": "B"},
            {"op": "rEmOvE", "path": "displayName"},
        ]));
        assert_eq!(
            (u["title"].as_str(), u["nickName"].as_str()),
            (Some("Boss"), Some("B"))
        );
        assert!(u.get("displayName").is_none());
    }

    #[test]
    fn errors_name_the_failing_operation_and_undo_earlier_ones() {
        let err = user_patch_error(json!([
            {"op": "replace", "path": "title", "value": "x"},
            {"op": "replace", "path": "nope", "value": "x"},
        ]));
        assert_eq!(err.scim_type, Some("invalidPath"));
        assert!(err.detail.starts_with("operation 2: "), "{}", err.detail);
    }

    // ---------------------------------------------------------------- patch: simple attributes

    #[test]
    fn replace_sets_a_simple_attribute() {
        let u = patch_user(json!([{"op": "replace", "path": "displayName", "value": "Barbara"}]));
        assert_eq!(u["displayName"], "Barbara");
    }

    #[test]
    fn replace_or_add_on_an_absent_attribute_adds_it() {
        let u = patch_user(json!([
            {"op": "replace", "path": "title", "value": "Tour Guide"},
            {"op": "add", "path": "locale", "value": "en-US"},
        ]));
        assert_eq!(
            (u["title"].as_str(), u["locale"].as_str()),
            (Some("Tour Guide"), Some("en-US"))
        );
    }

    #[test]
    fn attribute_names_are_written_in_the_schema_spelling() {
        let mut u = user();
        u["DisplayName"] = u["displayName"].take();
        if let Some(map) = u.as_object_mut() {
            map.remove("displayName");
        }
        let u = patched(
            u,
            json!([{"op": "replace", "path": "DISPLAYNAME", "value": "B"}]),
            &Schema::user(),
        );
        assert_eq!(u["displayName"], "B");
        assert!(u.get("DisplayName").is_none());
    }

    #[test]
    fn entra_active_as_a_string_is_a_boolean() {
        let u = patch_user(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(u["active"], json!(false));
        let u = patch_user(json!([{"op": "Replace", "path": "active", "value": "True"}]));
        assert_eq!(u["active"], json!(true));
    }

    #[test]
    fn core_urn_prefixed_paths_work() {
        let u = patch_user(json!([
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "X"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "Y"},
        ]));
        assert_eq!(
            (u["displayName"].as_str(), u["name"]["givenName"].as_str()),
            (Some("X"), Some("Y"))
        );
    }

    #[test]
    fn remove_unassigns_an_attribute() {
        let u = patch_user(
            json!([{"op": "remove", "path": "displayName"}, {"op": "remove", "path": "externalId"}]),
        );
        assert!(u.get("displayName").is_none() && u.get("externalId").is_none());
    }

    #[test]
    fn null_values_unassign_without_failing() {
        let u = patch_user(json!([
            {"op": "replace", "path": "displayName", "value": null},
            {"op": "replace", "value": {"title": null, "name": null}},
        ]));
        assert!(u.get("displayName").is_none() && u.get("name").is_none());
        let err = user_patch_error(json!([{"op": "replace", "path": "userName", "value": null}]));
        assert_eq!(err.scim_type, Some("mutability"));
    }

    // -------------------------------------------------------------- patch: complex attributes

    #[test]
    fn replace_of_a_complex_attribute_merges_sub_attributes() {
        let u = patch_user(
            json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs", "middleName": "J"}}]),
        );
        assert_eq!(
            u["name"],
            json!({"givenName": "Babs", "middleName": "J", "familyName": "Jensen"})
        );
    }

    #[test]
    fn sub_attribute_paths_set_and_remove() {
        let u = patch_user(json!([
            {"op": "add", "path": "name.honorificPrefix", "value": "Ms."},
            {"op": "remove", "path": "name.familyName"},
        ]));
        assert_eq!(
            u["name"],
            json!({"givenName": "Barbara", "honorificPrefix": "Ms."})
        );
        let u = patch_user(
            json!([{"op": "remove", "path": "name.familyName"}, {"op": "remove", "path": "name.givenName"}]),
        );
        assert!(
            u.get("name").is_none(),
            "an emptied complex attribute is unassigned"
        );
        let u = patched(
            json!({"userName": "x"}),
            json!([{"op": "add", "path": "name.givenName", "value": "G"}]),
            &Schema::user(),
        );
        assert_eq!(u["name"], json!({"givenName": "G"}));
    }

    #[test]
    fn added_complex_values_are_checked_and_canonicalized() {
        let u = patched(
            json!({"userName": "x"}),
            json!([{"op": "add", "path": "name", "value": {"GivenName": "G", "familyName": null}}]),
            &Schema::user(),
        );
        assert_eq!(u["name"], json!({"givenName": "G"}));
    }

    // ---------------------------------------------------------- patch: multi-valued attributes

    #[test]
    fn add_appends_to_a_multi_valued_attribute_without_repeating() {
        let u = patch_user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "new@example.com", "type": "other"},
            {"value": "babs@jensen.org", "type": "home"},
        ]}]));
        let emails = u["emails"].as_array().expect("emails");
        assert_eq!(emails.len(), 3);
        assert_eq!(
            emails[2],
            json!({"value": "new@example.com", "type": "other"})
        );
    }

    #[test]
    fn adding_a_primary_value_demotes_the_old_one() {
        let u = patch_user(
            json!([{"op": "add", "path": "emails", "value": [{"value": "p@x.com", "type": "work", "primary": true}]}]),
        );
        let primaries: Vec<&Value> = u["emails"]
            .as_array()
            .expect("emails")
            .iter()
            .filter(|e| e["primary"] == json!(true))
            .collect();
        assert_eq!(
            primaries,
            [&json!({"value": "p@x.com", "type": "work", "primary": true})]
        );
        let err = user_patch_error(json!([{"op": "replace", "path": "emails", "value": [
            {"value": "a@x.com", "primary": true}, {"value": "b@x.com", "primary": true},
        ]}]));
        assert_eq!(err.scim_type, Some("invalidValue"));
    }

    #[test]
    fn replace_of_a_multi_valued_attribute_replaces_all_values() {
        let u = patch_user(
            json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x.com"}]}]),
        );
        assert_eq!(u["emails"], json!([{"value": "only@x.com"}]));
        let u = patch_user(json!([{"op": "replace", "path": "emails", "value": []}]));
        assert!(u.get("emails").is_none());
    }

    #[test]
    fn a_single_value_for_a_multi_valued_attribute_is_one_element() {
        let u = patched(
            json!({"userName": "x"}),
            json!([{"op": "add", "path": "emails", "value": {"value": "a@x.com"}}]),
            &Schema::user(),
        );
        assert_eq!(u["emails"], json!([{"value": "a@x.com"}]));
    }

    #[test]
    fn value_filter_paths_replace_matching_values() {
        let u = patch_user(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@new.com"}]),
        );
        assert_eq!(
            u["emails"][0],
            json!({"value": "b@new.com", "type": "work", "primary": true})
        );
        assert_eq!(u["emails"][1]["value"], "babs@jensen.org");
        let u = patch_user(
            json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x.com", "type": "home"}}]),
        );
        assert_eq!(u["emails"][1], json!({"value": "h@x.com", "type": "home"}));
    }

    #[test]
    fn value_filters_in_paths_ignore_case_like_filters() {
        let u = patch_user(
            json!([{"op": "replace", "path": "emails[TYPE eq \"WORK\"].display", "value": "Work"}]),
        );
        assert_eq!(u["emails"][0]["display"], "Work");
    }

    #[test]
    fn replace_through_a_filter_matching_nothing_is_no_target() {
        let err = user_patch_error(
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y.com"}]),
        );
        assert_eq!(err.scim_type, Some("noTarget"));
    }

    #[test]
    fn entra_add_through_a_filter_matching_nothing_creates_the_value() {
        let u = patched(
            json!({"userName": "x"}),
            json!([
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "w@x.com"},
                {"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"},
            ]),
            &Schema::user(),
        );
        assert_eq!(
            u["emails"],
            json!([{"type": "work", "value": "w@x.com", "primary": true}])
        );
        let err = user_patch_error(
            json!([{"op": "add", "path": "emails[type co \"x\"].value", "value": "v"}]),
        );
        assert_eq!(err.scim_type, Some("noTarget"));
    }

    #[test]
    fn add_through_a_matching_filter_updates_the_value() {
        let u = patch_user(
            json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@x.com"}]),
        );
        assert_eq!(u["emails"].as_array().map(Vec::len), Some(2));
        assert_eq!(u["emails"][0]["value"], "w@x.com");
    }

    #[test]
    fn sub_attribute_paths_without_a_filter_apply_to_every_value() {
        let u = patch_user(json!([{"op": "replace", "path": "emails.display", "value": "E"}]));
        assert!(
            u["emails"]
                .as_array()
                .expect("emails")
                .iter()
                .all(|e| e["display"] == "E")
        );
        let u = patch_user(json!([{"op": "remove", "path": "emails.primary"}]));
        assert!(
            u["emails"]
                .as_array()
                .expect("emails")
                .iter()
                .all(|e| e.get("primary").is_none())
        );
    }

    #[test]
    fn remove_through_a_filter_removes_matching_values() {
        let u = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]));
        assert_eq!(
            u["emails"],
            json!([{"value": "babs@jensen.org", "type": "home"}])
        );
        let u = patch_user(
            json!([{"op": "remove", "path": "emails[value ew \".com\" or value ew \".org\"]"}]),
        );
        assert!(
            u.get("emails").is_none(),
            "an emptied multi-valued attribute is unassigned"
        );
        let u = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
        assert_eq!(
            u["emails"][0],
            json!({"value": "bjensen@example.com", "type": "work"})
        );
    }

    #[test]
    fn remove_through_a_filter_matching_nothing_is_no_target() {
        for path in [
            "emails[type eq \"other\"]",
            "emails[type eq \"home\"].primary",
        ] {
            let err = user_patch_error(json!([{"op": "remove", "path": path}]));
            assert_eq!(err.scim_type, Some("noTarget"), "{path}");
        }
    }

    #[test]
    fn remove_of_a_whole_multi_valued_attribute() {
        let u = patch_user(json!([{"op": "remove", "path": "emails"}]));
        assert!(u.get("emails").is_none());
    }

    // --------------------------------------------------------------------- patch: no path

    #[test]
    fn without_a_path_each_attribute_of_the_value_is_applied() {
        let u = patch_user(
            json!([{"op": "replace", "value": {"displayName": "D", "nickName": "N", "active": false}}]),
        );
        assert_eq!(
            (
                u["displayName"].as_str(),
                u["nickName"].as_str(),
                &u["active"]
            ),
            (Some("D"), Some("N"), &json!(false))
        );
    }

    #[test]
    fn entra_dotted_keys_without_a_path() {
        let u = patch_user(
            json!([{"op": "Replace", "value": {"name.givenName": "Babs", "active": "False", "emails[type eq \"work\"].value": "w@x.com"}}]),
        );
        assert_eq!(
            u["name"],
            json!({"givenName": "Babs", "familyName": "Jensen"})
        );
        assert_eq!(u["active"], json!(false));
        assert_eq!(u["emails"][0]["value"], "w@x.com");
    }

    #[test]
    fn add_without_a_path_appends_multi_valued_attributes() {
        let u = patch_user(
            json!([{"op": "add", "value": {"emails": [{"value": "n@x.com"}], "title": "T"}}]),
        );
        assert_eq!(u["emails"].as_array().map(Vec::len), Some(3));
        assert_eq!(u["title"], "T");
    }

    #[test]
    fn urn_keyed_extension_objects_without_a_path() {
        let u = patched(
            user(),
            json!([{"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"department": "R&D", "manager": {"value": "m1"}}, "schemas": [USER_SCHEMA]}}]),
            &enterprise(),
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"department": "R&D", "manager": {"value": "m1"}})
        );
        assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    }

    #[test]
    fn urn_prefixed_keys_without_a_path() {
        let key = format!("{ENTERPRISE_USER_SCHEMA}:employeeNumber");
        let u = patched(
            user(),
            json!([{"op": "replace", "value": {key: "701984"}}]),
            &enterprise(),
        );
        assert_eq!(u[ENTERPRISE_USER_SCHEMA]["employeeNumber"], "701984");
    }

    // -------------------------------------------------------------------- patch: extensions

    #[test]
    fn extension_attribute_paths_set_and_remove() {
        let schema = enterprise();
        let u = patched(
            user(),
            json!([
                {"op": "replace", "path": format!("{ENTERPRISE_USER_SCHEMA}:department"), "value": "Tour Operations"},
                {"op": "add", "path": format!("{ENTERPRISE_USER_SCHEMA}:manager.value"), "value": "26118915"},
            ]),
            &schema,
        );
        assert_eq!(
            u[ENTERPRISE_USER_SCHEMA],
            json!({"department": "Tour Operations", "manager": {"value": "26118915"}})
        );
        let u = patched(
            u,
            json!([{"op": "remove", "path": format!("{ENTERPRISE_USER_SCHEMA}:department")}, {"op": "remove", "path": format!("{ENTERPRISE_USER_SCHEMA}:manager")}]),
            &schema,
        );
        assert!(
            u.get(ENTERPRISE_USER_SCHEMA).is_none(),
            "an emptied extension is dropped"
        );
        assert_eq!(u["schemas"], json!([USER_SCHEMA]));
    }

    #[test]
    fn bare_extension_paths_add_and_remove_the_extension() {
        let schema = enterprise();
        let u = patched(
            user(),
            json!([{"op": "add", "path": ENTERPRISE_USER_SCHEMA, "value": {"division": "D"}}]),
            &schema,
        );
        assert_eq!(u[ENTERPRISE_USER_SCHEMA], json!({"division": "D"}));
        let u = patched(
            u,
            json!([{"op": "remove", "path": ENTERPRISE_USER_SCHEMA}]),
            &schema,
        );
        assert!(u.get(ENTERPRISE_USER_SCHEMA).is_none());
        let again = patched(
            u.clone(),
            json!([{"op": "remove", "path": ENTERPRISE_USER_SCHEMA}]),
            &schema,
        );
        assert_eq!(again, u, "removing an absent extension changes nothing");
    }

    #[test]
    fn an_extension_value_may_carry_its_schemas() {
        let value = json!({"schemas": [ENTERPRISE_USER_SCHEMA], "department": "D"});
        for verb in ["add", "replace"] {
            let u = patched(
                user(),
                json!([{"op": verb, "path": ENTERPRISE_USER_SCHEMA, "value": value}]),
                &enterprise(),
            );
            assert_eq!(
                u[ENTERPRISE_USER_SCHEMA],
                json!({"department": "D"}),
                "{verb}"
            );
        }
    }

    #[test]
    fn extensions_not_attached_are_unknown() {
        let err = user_patch_error(
            json!([{"op": "replace", "path": format!("{ENTERPRISE_USER_SCHEMA}:department"), "value": "x"}]),
        );
        assert_eq!(err.scim_type, Some("invalidPath"));
        assert!(err.detail.contains("unknown schema"), "{}", err.detail);
    }

    // ------------------------------------------------------------------------ patch: groups

    #[test]
    fn okta_adds_members_without_duplicates() {
        let schema = Schema::group();
        let g = patched(
            group(),
            json!([{"op": "add", "path": "members", "value": [{"value": "u3", "display": "Cy"}, {"value": "u1", "display": "Ann"}]}]),
            &schema,
        );
        let ids: Vec<&str> = g["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["value"].as_str())
            .collect();
        assert_eq!(ids, ["u1", "u2", "u3"]);
    }

    #[test]
    fn okta_removes_a_member_by_filter() {
        let g = patched(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
            &Schema::group(),
        );
        assert_eq!(g["members"], json!([{"value": "u2", "display": "Bob"}]));
    }

    #[test]
    fn okta_renames_a_group_with_its_id_in_the_value() {
        let g = patched(
            group(),
            json!([{"op": "replace", "value": {"id": "g1", "displayName": "Eng"}}]),
            &Schema::group(),
        );
        assert_eq!(g["displayName"], "Eng");
        let err = patch_error(
            group(),
            json!([{"op": "replace", "value": {"id": "other", "displayName": "Eng"}}]),
            &Schema::group(),
        );
        assert_eq!(err.scim_type, Some("mutability"));
    }

    #[test]
    fn entra_removes_listed_members() {
        let g = patched(
            group(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}, {"value": "u9"}]}]),
            &Schema::group(),
        );
        assert_eq!(g["members"], json!([{"value": "u1", "display": "Ann"}]));
        let g = patched(
            group(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
            &Schema::group(),
        );
        assert!(g.get("members").is_none());
    }

    #[test]
    fn entra_adds_members() {
        let g = patched(
            json!({"displayName": "G"}),
            json!([{"op": "Add", "path": "members", "value": [{"value": "u1"}]}]),
            &Schema::group(),
        );
        assert_eq!(g["members"], json!([{"value": "u1"}]));
    }

    #[test]
    fn a_member_value_is_immutable() {
        let err = patch_error(
            group(),
            json!([{"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u5"}]),
            &Schema::group(),
        );
        assert_eq!(err.scim_type, Some("mutability"));
        let err = patch_error(
            group(),
            json!([{"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u5"}}]),
            &Schema::group(),
        );
        assert_eq!(err.scim_type, Some("mutability"));
        let err = patch_error(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"u1\"].value"}]),
            &Schema::group(),
        );
        assert_eq!(err.scim_type, Some("mutability"));
    }

    #[test]
    fn replacing_all_members_is_allowed() {
        let g = patched(
            group(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "u7"}]}]),
            &Schema::group(),
        );
        assert_eq!(g["members"], json!([{"value": "u7"}]));
    }

    #[test]
    fn removing_a_group_display_name_is_mutability() {
        let err = patch_error(
            group(),
            json!([{"op": "remove", "path": "displayName"}]),
            &Schema::group(),
        );
        assert_eq!(err.scim_type, Some("mutability"));
    }

    // ------------------------------------------------------------------------ patch: errors

    #[test]
    fn remove_without_a_path_is_no_target() {
        assert_eq!(
            user_patch_error(json!([{"op": "remove"}])).scim_type,
            Some("noTarget")
        );
        assert_eq!(
            user_patch_error(json!([{"op": "remove", "path": ""}])).scim_type,
            Some("noTarget")
        );
    }

    #[test]
    fn remove_of_an_unassigned_attribute_changes_nothing() {
        for path in [
            "title",
            "name.middleName",
            "urn:ietf:params:scim:schemas:core:2.0:User:nickName",
            "emails.display",
        ] {
            assert_eq!(
                patch_user(json!([{"op": "remove", "path": path}])),
                user(),
                "{path}"
            );
        }
        let u = patched(
            json!({"userName": "x"}),
            json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "emails"}]),
            &Schema::user(),
        );
        assert_eq!(u, json!({"userName": "x"}));
    }

    #[test]
    fn remove_of_a_required_attribute_is_mutability() {
        let err = user_patch_error(json!([{"op": "remove", "path": "userName"}]));
        assert_eq!(err.scim_type, Some("mutability"));
    }

    #[test]
    fn read_only_attributes_are_mutability() {
        for op in [
            json!({"op": "replace", "path": "id", "value": "new"}),
            json!({"op": "remove", "path": "id"}),
            json!({"op": "replace", "path": "meta.lastModified", "value": "2024-01-01T00:00:00Z"}),
            json!({"op": "add", "path": "groups", "value": [{"value": "g1"}]}),
            json!({"op": "add", "value": {"groups": [{"value": "g1"}]}}),
            json!({"op": "replace", "value": {"meta": {"version": "1"}}}),
        ] {
            assert_eq!(
                user_patch_error(json!([op])).scim_type,
                Some("mutability"),
                "{op}"
            );
        }
        let u = patch_user(json!([{"op": "replace", "path": "id", "value": "2819c223"}]));
        assert_eq!(
            u,
            user(),
            "setting a read-only attribute to its own value is a no-op"
        );
    }

    #[test]
    fn read_only_sub_attributes_in_a_value_are_ignored() {
        let u = patched(
            user(),
            json!([{"op": "add", "path": format!("{ENTERPRISE_USER_SCHEMA}:manager"), "value": {"value": "m", "displayName": "Boss"}}]),
            &enterprise(),
        );
        assert_eq!(u[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "m"}));
    }

    #[test]
    fn unknown_or_malformed_paths_are_invalid_path() {
        for path in [
            "nope",
            "name.nope",
            "displayName.x",
            "urn:example:unknown:title",
            "emails[type eq \"work\"",
            "emails[type eq]",
            "emails[type eq \"work\"]value",
            "emails[type eq \"work\"].nope",
            "name[givenName eq \"x\"]",
            "name.givenName[value eq \"x\"]",
            "1bad",
        ] {
            let err = user_patch_error(json!([{"op": "replace", "path": path, "value": "x"}]));
            assert_eq!(err.scim_type, Some("invalidPath"), "{path}: {err}");
        }
        let err = user_patch_error(json!([{"op": "replace", "value": {"nope": "x"}}]));
        assert_eq!(err.scim_type, Some("invalidPath"));
        let err = user_patch_error(
            json!([{"op": "add", "path": "emails", "value": [{"value": "a@x.com", "nope": 1}]}]),
        );
        assert_eq!(err.scim_type, Some("invalidPath"));
    }

    #[test]
    fn wrong_value_types_are_invalid_value() {
        for op in [
            json!({"op": "replace", "path": "active", "value": "yes"}),
            json!({"op": "replace", "path": "active", "value": 1}),
            json!({"op": "replace", "path": "displayName", "value": 5}),
            json!({"op": "replace", "path": "displayName", "value": ["a"]}),
            json!({"op": "replace", "path": "name", "value": "Babs"}),
            json!({"op": "add", "path": "emails", "value": [{"value": 5}]}),
            json!({"op": "add", "path": "emails", "value": ["a@x.com"]}),
            json!({"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "maybe"}),
            json!({"op": "replace", "path": "emails[type eq \"work\"]", "value": "x"}),
        ] {
            assert_eq!(
                user_patch_error(json!([op])).scim_type,
                Some("invalidValue"),
                "{op}"
            );
        }
    }

    #[test]
    fn date_times_follow_rfc_3339() {
        for ok in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.123Z",
            "2024-05-01t10:00:00+02:00",
            "2024-05-01T10:00:00.5-05:30",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2024-05-01",
            "2024-05-01T10:00:00",
            "2024-05-01 10:00:00Z",
            "2024-05-01T10:00:00.Z",
            "24-05-01T10:00:00Z",
            "2024-05-01T10:00:00+0200",
            "é",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn patching_a_non_object_is_an_internal_error() {
        let mut resource = json!([]);
        let err = apply_patch(
            &mut resource,
            &patch(json!([{"op": "remove", "path": "title"}])),
            &Schema::user(),
        )
        .expect_err("refused");
        assert_eq!(err.status, 500);
    }

    // --------------------------------------------------------------- patch: scim2-tester shapes

    #[test]
    fn scim2_tester_adds_and_replaces_return_exactly_the_value() {
        let schema = Schema::user();
        let base = json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "u"});
        let name = json!({"formatted": "a", "familyName": "b", "givenName": "c", "middleName": "d", "honorificPrefix": "e", "honorificSuffix": "f"});
        let emails = json!([{"value": "x@y.com", "display": "d", "type": "work", "primary": true}]);
        for verb in ["add", "replace"] {
            for (path, value) in [
                ("name", &name),
                ("emails", &emails),
                ("externalId", &json!("e")),
                ("userName", &json!("v")),
                ("active", &json!(true)),
            ] {
                let u = patched(
                    base.clone(),
                    json!([{"op": verb, "path": path, "value": value}]),
                    &schema,
                );
                assert_eq!(&u[path], value, "{verb} {path}");
            }
        }
    }

    // ------------------------------------------------------------------------------ discovery

    #[test]
    fn service_provider_config_announces_what_is_supported() {
        let config = service_provider_config("https://flagent.example/scim/v2/");
        assert_eq!(config["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        assert_eq!(config["patch"], json!({"supported": true}));
        assert_eq!(
            config["bulk"],
            json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
        );
        assert_eq!(
            config["filter"],
            json!({"supported": true, "maxResults": 200})
        );
        for feature in ["changePassword", "sort", "etag"] {
            assert_eq!(config[feature], json!({"supported": false}), "{feature}");
        }
        assert_eq!(
            config["authenticationSchemes"][0]["type"],
            "oauthbearertoken"
        );
        assert_eq!(config["authenticationSchemes"][0]["name"], "Bearer token");
        assert_eq!(
            config["meta"],
            json!({"resourceType": "ServiceProviderConfig", "location": "https://flagent.example/scim/v2/ServiceProviderConfig"})
        );
    }

    #[test]
    fn schemas_publish_user_and_group_without_common_attributes() {
        let docs = schemas("https://flagent.example/scim/v2");
        let ids: Vec<&str> = docs.iter().filter_map(|d| d["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                USER_SCHEMA,
                GROUP_SCHEMA,
                SERVICE_PROVIDER_CONFIG_SCHEMA,
                RESOURCE_TYPE_SCHEMA,
                SCHEMA_SCHEMA
            ]
        );
        let names: Vec<&str> = docs.iter().filter_map(|d| d["name"].as_str()).collect();
        assert_eq!(
            names[2..],
            ["ServiceProviderConfig", "ResourceType", "Schema"],
            "scim2-tester's core_schemas_validation looks these names up"
        );
        let attributes = docs[4]["attributes"].as_array().expect("attributes");
        assert!(attributes.iter().all(|a| a["mutability"] == "readOnly"));
        let user = &docs[0];
        assert_eq!(user["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(
            user["meta"]["location"],
            format!("https://flagent.example/scim/v2/Schemas/{USER_SCHEMA}")
        );
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert!(
            names.contains(&"userName") && names.contains(&"emails") && names.contains(&"groups")
        );
        assert!(
            !names
                .iter()
                .any(|n| ["id", "externalId", "meta"].contains(n))
        );
        let user_name = &user["attributes"][0];
        assert_eq!(
            user_name,
            &json!({"name": "userName", "type": "string", "multiValued": false, "description": "The unique identifier the user signs in with",
                    "required": true, "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "server"})
        );
        let members = docs[1]["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .find(|a| a["name"] == "members")
            .expect("members");
        assert_eq!(members["subAttributes"][0]["mutability"], "immutable");
        assert_eq!(
            members["subAttributes"][1]["referenceTypes"],
            json!(["User", "Group"])
        );
    }

    #[test]
    fn resource_types_point_at_their_endpoints_and_schemas() {
        let docs = resource_types("https://flagent.example/scim/v2");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["endpoint"], "/Users");
        assert_eq!(docs[0]["schema"], USER_SCHEMA);
        assert_eq!(
            docs[0]["meta"],
            json!({"resourceType": "ResourceType", "location": "https://flagent.example/scim/v2/ResourceTypes/User"})
        );
        assert_eq!(
            (docs[1]["id"].as_str(), docs[1]["endpoint"].as_str()),
            (Some("Group"), Some("/Groups"))
        );
        assert!(docs[0].get("schemaExtensions").is_none());
    }

    #[test]
    fn schemas_hold_the_core_attributes() {
        let user = Schema::user();
        for name in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "emails",
            "groups",
            "externalId",
            "id",
            "meta",
        ] {
            assert!(user.attribute(name).is_some(), "{name}");
        }
        assert_eq!(
            user.attribute("username")
                .map(|a| (a.required, a.uniqueness)),
            Some((true, Uniqueness::Server))
        );
        assert_eq!(
            user.attribute("groups").map(|a| a.mutability),
            Some(Mutability::ReadOnly)
        );
        let group = Schema::group();
        assert!(group.attribute("displayName").is_some_and(|a| a.required));
        let members = group.attribute("members").expect("members");
        assert_eq!(
            members.sub_attribute("value").map(|a| a.mutability),
            Some(Mutability::Immutable)
        );
        assert!(members.sub_attribute("$REF").is_some());
    }
}
