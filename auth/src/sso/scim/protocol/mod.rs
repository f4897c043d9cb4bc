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

mod filter;
mod patch;
mod projection;
mod schema;

pub(crate) use filter::{Filter, parse_filter};
pub(crate) use patch::apply_patch;
pub(crate) use projection::Projection;
pub(crate) use schema::Schema;

use std::fmt;
use std::ops::Range;

use serde_json::{Value, json};

use schema::discovery_schemas;

/// The schema URN of an error response (RFC 7644 §3.12).
pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The schema URN of a list response (RFC 7644 §3.4.2).
pub(crate) const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URN a PATCH request must name (RFC 7644 §3.5.2).
pub(crate) const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The schema URN of a search request (RFC 7644 §3.4.3).
pub(crate) const SEARCH_REQUEST_SCHEMA: &str =
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
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

    /// A 503: the database cannot be reached; the client may retry.
    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, None, detail)
    }

    /// A 501: the service provider does not support this operation.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
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

/// What a SCIM read asks of its answer, as the query parameters of a GET hold it: a list's `filter`,
/// `startIndex` and `count`, and the `attributes` or `excludedAttributes` to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimQuery {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ScimQuery {
    /// The query a search request (`POST …/.search`, RFC 7644 §3.4.3) stands for. `sortBy` and
    /// `sortOrder` are ignored: sorting is not supported.
    pub fn from_search(body: &Value) -> Result<Self, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a SearchRequest is a JSON object"))?;
        let named = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(SEARCH_REQUEST_SCHEMA)));
        if !named {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must name {SEARCH_REQUEST_SCHEMA}"
            )));
        }
        let text = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(ScimError::invalid_value(format!("{key} is a string"))),
        };
        let number = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ScimError::invalid_value(format!("{key} is an integer"))),
        };
        let list = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .ok_or_else(|| ScimError::invalid_value(format!("{key} holds strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|items| Some(items.join(","))),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{key} is an array of attribute paths"
            ))),
        };
        Ok(Self {
            filter: text("filter")?,
            start_index: number("startIndex")?,
            count: number("count")?,
            attributes: list("attributes")?,
            excluded_attributes: list("excludedAttributes")?,
        })
    }

    /// The attributes asked for or excluded.
    pub(crate) fn projection(&self) -> Result<Projection, ScimError> {
        Projection::from_query(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }

    /// The page asked for.
    pub(crate) fn page(&self) -> Result<Page, ScimError> {
        Page::from_query(self.start_index.as_deref(), self.count.as_deref())
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
mod test_support {
    //! A resource the tests of several files share.

    use serde_json::{Value, json};

    use super::USER_SCHEMA;

    pub(super) fn user() -> Value {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
