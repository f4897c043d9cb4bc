//! Which attributes an answer holds: the `attributes` and `excludedAttributes` parameters of RFC 7644
//! §3.4.2.5 and §3.9, applied to a resource once it is rendered.
//!
//! `attributes` keeps the listed attributes (and sub-attributes) and those returned `always`;
//! `excludedAttributes` drops the listed ones, never one returned `always`. `schemas` is always kept.
//! A path may carry its schema URN, and an extension's URN alone names the whole extension. Names the
//! schema does not know select nothing, as an attribute without a value would.

use serde_json::{Map, Value};

use super::schema::{Attribute, Returned, Schema};
use super::{AttrPath, MAX_FILTER_LEN, ScimError};

/// The attributes a request asked for or excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Projection {
    include: Vec<AttrPath>,
    exclude: Vec<AttrPath>,
}

/// An attribute (lower-cased) and optionally one of its sub-attributes, within one schema.
type Selector<'a> = (&'a str, Option<&'a str>);

impl Projection {
    /// Parses the two query parameters, each a comma-separated list of attribute paths.
    pub(crate) fn from_query(
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimError> {
        Ok(Self {
            include: parse_list(attributes, "attributes")?,
            exclude: parse_list(excluded, "excludedAttributes")?,
        })
    }

    /// Leaves in `resource` (of schema `schema`) only what was asked for.
    pub(crate) fn apply(&self, schema: &Schema, resource: &mut Value) {
        if self.include.is_empty() && self.exclude.is_empty() {
            return;
        }
        let Some(map) = resource.as_object_mut() else {
            return;
        };
        let core = schema.id.to_ascii_lowercase();
        let in_core = |p: &&AttrPath| p.urn.as_deref().is_none_or(|u| u == core);
        let include =
            (!self.include.is_empty()).then(|| selectors(self.include.iter().filter(in_core)));
        let exclude = selectors(self.exclude.iter().filter(in_core));
        for extension in &schema.extensions {
            let Some(key) = map
                .keys()
                .find(|k| k.eq_ignore_ascii_case(extension.id))
                .cloned()
            else {
                continue;
            };
            let urn = extension.id.to_ascii_lowercase();
            let whole = |p: &&AttrPath| {
                p.sub.is_none()
                    && p.urn
                        .as_ref()
                        .is_some_and(|u| format!("{u}:{}", p.name) == urn)
            };
            let inside = |p: &&AttrPath| p.urn.as_deref() == Some(urn.as_str());
            if self.exclude.iter().any(|p| whole(&p)) {
                map.remove(&key);
                continue;
            }
            let include = if self.include.is_empty() || self.include.iter().any(|p| whole(&p)) {
                None
            } else {
                Some(selectors(self.include.iter().filter(inside)))
            };
            let exclude = selectors(self.exclude.iter().filter(inside));
            if let Some(Value::Object(inner)) = map.get_mut(&key) {
                project(inner, extension, include.as_deref(), &exclude);
                if inner.is_empty() {
                    map.remove(&key);
                }
            }
        }
        project(map, schema, include.as_deref(), &exclude);
    }
}

fn parse_list(list: Option<&str>, parameter: &str) -> Result<Vec<AttrPath>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_value(format!(
            "{parameter} is longer than {MAX_FILTER_LEN} bytes"
        )));
    }
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            AttrPath::parse(p).map_err(|e| ScimError::invalid_value(format!("{parameter}: {e}")))
        })
        .collect()
}

fn selectors<'a>(paths: impl Iterator<Item = &'a AttrPath>) -> Vec<Selector<'a>> {
    paths.map(|p| (p.name.as_str(), p.sub.as_deref())).collect()
}

/// Projects the attributes of `part` in `map`; extension objects (keys with a colon) and `schemas`
/// are left to the caller.
fn project(
    map: &mut Map<String, Value>,
    part: &Schema,
    include: Option<&[Selector<'_>]>,
    exclude: &[Selector<'_>],
) {
    map.retain(|key, value| {
        if key.eq_ignore_ascii_case("schemas") || key.contains(':') {
            return true;
        }
        let name = key.to_ascii_lowercase();
        let attribute = part.attribute(key);
        if attribute.is_some_and(|a| a.returned == Returned::Always) {
            return true;
        }
        let named = |s: &[Selector<'_>]| -> (bool, Vec<String>) {
            let whole = s.iter().any(|(n, sub)| *n == name && sub.is_none());
            let subs = s
                .iter()
                .filter(|(n, _)| *n == name)
                .filter_map(|(_, sub)| sub.map(str::to_owned))
                .collect();
            (whole, subs)
        };
        if let Some(include) = include {
            let (whole, subs) = named(include);
            if !whole {
                if subs.is_empty() {
                    return false;
                }
                keep_subs(value, attribute, |sub| subs.iter().any(|s| s == sub));
            }
        }
        let (whole, subs) = named(exclude);
        if whole {
            return false;
        }
        if !subs.is_empty() {
            keep_subs(value, attribute, |sub| !subs.iter().any(|s| s == sub));
        }
        !is_empty(value)
    });
}

/// Keeps in a complex value (or in each value of a multi-valued one) the sub-attributes `keep`
/// accepts (given lower-cased), and those returned `always`.
fn keep_subs(value: &mut Value, attribute: Option<&Attribute>, keep: impl Fn(&str) -> bool) {
    let always = |sub: &str| {
        attribute
            .and_then(|a| a.sub_attribute(sub))
            .is_some_and(|s| s.returned == Returned::Always)
    };
    let filter = |object: &mut Map<String, Value>| {
        object.retain(|sub, _| {
            let sub = sub.to_ascii_lowercase();
            always(&sub) || keep(&sub)
        });
    };
    match value {
        Value::Object(object) => filter(object),
        Value::Array(values) => {
            for value in values.iter_mut() {
                if let Value::Object(object) = value {
                    filter(object);
                }
            }
            values.retain(|v| !is_empty(v));
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Object(object) => object.is_empty(),
        Value::Array(values) => values.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "7",
            "userName": "ada@acme.test",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@acme.test", "type": "work"}, {"value": "a@home.test", "type": "home"}],
            "active": true,
            "meta": {"resourceType": "User", "location": "https://x/Users/7"},
        })
    }

    fn projected(attributes: Option<&str>, excluded: Option<&str>) -> Value {
        let mut resource = user();
        Projection::from_query(attributes, excluded)
            .expect("valid")
            .apply(&Schema::user(), &mut resource);
        resource
    }

    #[test]
    fn attributes_keep_what_is_listed_with_id_and_schemas() {
        assert_eq!(
            projected(Some("userName,name.givenName"), None),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "7",
                "userName": "ada@acme.test",
                "name": {"givenName": "Ada"},
            })
        );
    }

    #[test]
    fn attributes_match_case_insensitively_and_with_their_schema_urn() {
        let resource = projected(
            Some("urn:ietf:params:scim:schemas:core:2.0:User:EMAILS.Value"),
            None,
        );
        assert_eq!(
            resource["emails"],
            json!([{"value": "ada@acme.test"}, {"value": "a@home.test"}])
        );
        assert!(resource.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_drop_what_is_listed_but_never_id() {
        let resource = projected(None, Some("name, emails.type ,id,meta"));
        assert!(resource.get("name").is_none());
        assert!(resource.get("meta").is_none());
        assert_eq!(resource["id"], "7");
        assert_eq!(
            resource["emails"],
            json!([{"value": "ada@acme.test"}, {"value": "a@home.test"}])
        );
        assert_eq!(resource["userName"], "ada@acme.test");
    }

    #[test]
    fn a_whole_extension_is_kept_or_dropped_by_its_urn() {
        let schema = Schema::user().with_extension(Schema::enterprise_user());
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut resource = user();
        resource[urn] = json!({"employeeNumber": "42", "department": "Engines"});
        let mut kept = resource.clone();
        Projection::from_query(Some(urn), None)
            .expect("valid")
            .apply(&schema, &mut kept);
        assert_eq!(kept[urn], resource[urn]);
        assert!(kept.get("userName").is_none());
        let mut one = resource.clone();
        Projection::from_query(Some(&format!("{urn}:department")), None)
            .expect("valid")
            .apply(&schema, &mut one);
        assert_eq!(one[urn], json!({"department": "Engines"}));
        let mut dropped = resource;
        Projection::from_query(None, Some(urn))
            .expect("valid")
            .apply(&schema, &mut dropped);
        assert!(dropped.get(urn).is_none());
        assert_eq!(dropped["userName"], "ada@acme.test");
    }

    #[test]
    fn a_malformed_path_is_an_invalid_value() {
        let err = Projection::from_query(Some("name..givenName"), None).expect_err("malformed");
        assert_eq!(err.to_json()["scimType"], "invalidValue");
        assert_eq!(err.to_json()["status"], "400");
    }
}
