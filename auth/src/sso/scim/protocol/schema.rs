//! SCIM schemas (RFC 7643 §7): the attributes of User, Group and the enterprise extension and
//! their characteristics, which PATCH, filters and the `/Schemas` documents read.

use serde_json::{Map, Value, json};

use super::patch::coerce;
use super::{
    AttrPath, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA, ScimError, USER_SCHEMA,
};

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

    pub(super) fn described(self) -> &'static str {
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
    pub(super) fn bare_extension(&self, path: &AttrPath) -> Option<&Schema> {
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
    pub(super) fn locate(
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
pub(super) fn discovery_schemas() -> Vec<Schema> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
