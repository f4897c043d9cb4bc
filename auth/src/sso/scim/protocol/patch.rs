//! SCIM PATCH (RFC 7644 §3.5.2): reading a request and its paths, and applying its operations to a
//! resource's JSON representation, all or nothing. The case-insensitive member lookups at the end
//! serve the filters too.

use std::ops::Range;

use serde_json::{Map, Value, json};

use super::filter::{CompareOp, Node, flatten, parse_bool, parse_expression};
use super::schema::{AttrType, Attribute, Mutability, Schema};
use super::{
    AttrPath, MAX_FILTER_LEN, MAX_OPERATIONS, PATCH_OP_SCHEMA, ScimError, is_attr_name, scim_type,
};

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
pub(super) fn coerce(attr: &Attribute, value: &Value, text: &str) -> Result<Value, ScimError> {
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
pub(super) fn get_ci<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::scim::protocol::test_support::user;
    use crate::sso::scim::protocol::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    // ------------------------------------------------------------------------------ helpers

    fn group() -> Value {
        json!({
            "schemas": [GROUP_SCHEMA],
            "id": "g1",
            "displayName": "Engineering",
            "members": [{ "value": "u1", "display": "Ann" }, { "value": "u2", "display": "Bob" }],
        })
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
}
