//! Reading an ingestion batch: the request as a whole (an object with one array of at most 1,000
//! items, or fewer for crash reports), then each item on its own, so a bad item is refused with its
//! index and a reason while the others go on.

use crate::AnalyticsError;
use crate::time::parse_timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

/// Items per request.
pub const MAX_ITEMS: usize = 1_000;
/// Bytes of an event key, flag or variant key, or entity id.
pub const MAX_KEY_BYTES: usize = 256;
/// Bytes of an event's properties, as JSON.
pub const MAX_PROPERTIES_BYTES: usize = 4_096;
/// How far back a timestamp may be.
pub const MAX_AGE_MS: i64 = 7 * crate::time::DAY_MS;
/// How far ahead a timestamp may be (clock skew).
pub const MAX_AHEAD_MS: i64 = 5 * 60 * 1_000;

/// One item refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refusal {
    /// Its place in the request's array, from 0.
    pub index: usize,
    /// A machine-readable reason (`invalid_timestamp`, `unknown_event`…).
    pub code: &'static str,
    /// The reason in words.
    pub message: String,
}

/// What a batch came to: how many items were committed, and each refused one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ingested {
    /// Items committed.
    pub accepted: usize,
    /// Items refused, in request order.
    pub rejected: Vec<Refusal>,
}

/// The array `field` of the request body (at most [`MAX_ITEMS`] items), or why the request as a whole
/// is refused.
pub(crate) fn items<'a>(
    body: &'a Value,
    field: &'static str,
) -> Result<&'a [Value], AnalyticsError> {
    items_up_to(body, field, MAX_ITEMS)
}

/// The array `field` of the request body with at most `max` items, or why the request as a whole is
/// refused.
pub(crate) fn items_up_to<'a>(
    body: &'a Value,
    field: &'static str,
    max: usize,
) -> Result<&'a [Value], AnalyticsError> {
    let Some(object) = body.as_object() else {
        return Err(AnalyticsError::invalid(
            field,
            format!("the body must be a JSON object with an array {field:?}"),
        ));
    };
    let Some(Value::Array(items)) = object.get(field) else {
        return Err(AnalyticsError::invalid(
            field,
            format!("{field} must be an array"),
        ));
    };
    if items.len() > max {
        return Err(AnalyticsError::TooLarge(format!(
            "a request carries at most {max} {field}, this one {}",
            items.len()
        )));
    }
    Ok(items)
}

/// Reads one item's fields, refusing it (with `index`) at the first problem.
pub(crate) struct Item<'a> {
    index: usize,
    fields: &'a Map<String, Value>,
}

impl<'a> Item<'a> {
    pub(crate) fn new(index: usize, value: &'a Value) -> Result<Self, Refusal> {
        match value.as_object() {
            Some(fields) => Ok(Item { index, fields }),
            None => Err(refuse(
                index,
                "invalid_item",
                "each item must be a JSON object",
            )),
        }
    }

    /// The refusal of this item.
    pub(crate) fn refuse(&self, code: &'static str, message: impl Into<String>) -> Refusal {
        refuse(self.index, code, message)
    }

    /// A required text field of 1 to 256 bytes.
    pub(crate) fn key(&self, name: &str, code: &'static str) -> Result<&'a str, Refusal> {
        self.text(name, code, MAX_KEY_BYTES)
    }

    /// A required text field of 1 to `max` bytes.
    pub(crate) fn text(
        &self,
        name: &str,
        code: &'static str,
        max: usize,
    ) -> Result<&'a str, Refusal> {
        match self.optional_text(name, code, max)? {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(self.refuse(code, format!("{name} must be a non-empty string"))),
        }
    }

    /// An optional text field of at most `max` bytes (`None` when missing or null).
    pub(crate) fn optional_text(
        &self,
        name: &str,
        code: &'static str,
        max: usize,
    ) -> Result<Option<&'a str>, Refusal> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.len() <= max => Ok(Some(text)),
            Some(Value::String(_)) => {
                Err(self.refuse(code, format!("{name} is longer than {max} bytes")))
            }
            Some(_) => Err(self.refuse(code, format!("{name} must be a string"))),
        }
    }

    /// An optional text field cut to at most `max` bytes at a character boundary (empty when missing
    /// or null).
    pub(crate) fn truncated(
        &self,
        name: &str,
        code: &'static str,
        max: usize,
    ) -> Result<String, Refusal> {
        let text = self.optional_text(name, code, usize::MAX)?.unwrap_or("");
        let mut end = text.len().min(max);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Ok(text[..end].to_owned())
    }

    /// An optional whole number from 0 (`None` when missing or null).
    pub(crate) fn count(&self, name: &str, code: &'static str) -> Result<Option<u64>, Refusal> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.refuse(code, format!("{name} must be a whole number from 0"))),
        }
    }

    /// A required array of at most `max` values.
    pub(crate) fn array(
        &self,
        name: &str,
        code: &'static str,
        max: usize,
    ) -> Result<&'a [Value], Refusal> {
        match self.fields.get(name) {
            Some(Value::Array(values)) if values.len() <= max => Ok(values),
            Some(Value::Array(_)) => {
                Err(self.refuse(code, format!("{name} holds at most {max} values")))
            }
            _ => Err(self.refuse(code, format!("{name} must be an array"))),
        }
    }

    /// An optional object of at most `max` entries whose keys and text values have 1 to 256 bytes
    /// (empty when missing or null).
    pub(crate) fn text_map(
        &self,
        name: &str,
        code: &'static str,
        max: usize,
    ) -> Result<Vec<(&'a str, &'a str)>, Refusal> {
        let entries = match self.fields.get(name) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Object(entries)) if entries.len() <= max => entries,
            Some(Value::Object(_)) => {
                return Err(self.refuse(code, format!("{name} holds at most {max} entries")));
            }
            Some(_) => return Err(self.refuse(code, format!("{name} must be an object"))),
        };
        let fits = |text: &str| !text.is_empty() && text.len() <= MAX_KEY_BYTES;
        entries
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) if fits(key) && fits(text) => Ok((key.as_str(), text.as_str())),
                _ => Err(self.refuse(
                    code,
                    format!(
                        "{name} maps keys to text, both of 1 to {MAX_KEY_BYTES} bytes ({key:?} does not)"
                    ),
                )),
            })
            .collect()
    }

    /// `value`, a part of this item (such as one frame of a crash), read as an item with its index;
    /// refused with `code` when it is not an object (`what` names it in the refusal).
    pub(crate) fn part(
        &self,
        value: &'a Value,
        code: &'static str,
        what: &str,
    ) -> Result<Item<'a>, Refusal> {
        match value.as_object() {
            Some(fields) => Ok(Item {
                index: self.index,
                fields,
            }),
            None => Err(self.refuse(code, format!("{what} must be a JSON object"))),
        }
    }

    /// The timestamp, checked against the accepted range around `now`.
    pub(crate) fn timestamp(&self, now: i64) -> Result<i64, Refusal> {
        let Some(at) = self.fields.get("timestamp").and_then(parse_timestamp) else {
            return Err(self.refuse(
                "invalid_timestamp",
                "timestamp must be RFC 3339 text or milliseconds since the Unix epoch",
            ));
        };
        if at < now - MAX_AGE_MS || at > now + MAX_AHEAD_MS {
            return Err(self.refuse(
                "timestamp_out_of_range",
                "timestamp must be within the last 7 days and at most 5 minutes ahead",
            ));
        }
        Ok(at)
    }

    /// The optional finite number `value`.
    pub(crate) fn value(&self) -> Result<Option<f64>, Refusal> {
        match self.fields.get("value") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(self.refuse("invalid_value", "value must be a finite number")),
            },
            Some(_) => Err(self.refuse("invalid_value", "value must be a number")),
        }
    }

    /// The optional `properties` object, as compact JSON of at most 4 KiB.
    pub(crate) fn properties(&self) -> Result<Option<String>, Refusal> {
        match self.fields.get("properties") {
            None | Some(Value::Null) => Ok(None),
            Some(object @ Value::Object(_)) => {
                let text = object.to_string();
                if text.len() > MAX_PROPERTIES_BYTES {
                    return Err(self.refuse(
                        "properties_too_large",
                        format!("properties take at most {MAX_PROPERTIES_BYTES} bytes as JSON"),
                    ));
                }
                Ok(Some(text))
            }
            Some(_) => Err(self.refuse("invalid_properties", "properties must be an object")),
        }
    }
}

fn refuse(index: usize, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        index,
        code,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_796_637_600_000;

    #[test]
    fn a_request_that_is_not_an_object_with_the_array_is_refused_whole() {
        assert!(matches!(
            items(&json!([1]), "events"),
            Err(AnalyticsError::Invalid {
                field: "events",
                ..
            })
        ));
        assert!(items(&json!({"events": {}}), "events").is_err());
        let many = json!({ "events": vec![json!({}); MAX_ITEMS + 1] });
        assert!(matches!(
            items(&many, "events"),
            Err(AnalyticsError::TooLarge(_))
        ));
        assert_eq!(items(&json!({"events": []}), "events").unwrap().len(), 0);
    }

    #[test]
    fn each_field_is_checked_and_named_in_the_refusal() {
        let item = json!({"key": "", "timestamp": NOW - MAX_AGE_MS - 1, "value": "3",
                          "properties": [1]});
        let item = Item::new(4, &item).unwrap();
        assert_eq!(
            item.key("key", "invalid_key").unwrap_err().code,
            "invalid_key"
        );
        assert_eq!(item.key("key", "invalid_key").unwrap_err().index, 4);
        assert_eq!(
            item.timestamp(NOW).unwrap_err().code,
            "timestamp_out_of_range"
        );
        assert_eq!(item.value().unwrap_err().code, "invalid_value");
        assert_eq!(item.properties().unwrap_err().code, "invalid_properties");
        let long = json!({"key": "k".repeat(MAX_KEY_BYTES + 1), "timestamp": NOW + MAX_AHEAD_MS + 1,
                          "properties": {"p": "x".repeat(MAX_PROPERTIES_BYTES)}});
        let long = Item::new(0, &long).unwrap();
        assert!(
            long.key("key", "invalid_key")
                .unwrap_err()
                .message
                .contains("256")
        );
        assert_eq!(
            long.timestamp(NOW).unwrap_err().code,
            "timestamp_out_of_range"
        );
        assert_eq!(long.properties().unwrap_err().code, "properties_too_large");
        assert_eq!(Item::new(1, &json!(7)).err().unwrap().code, "invalid_item");
    }

    #[test]
    fn good_fields_are_read() {
        let item = json!({"key": "purchase", "timestamp": "2026-12-07T10:00:00Z", "value": 12.5,
                          "properties": {"plan": "pro"}});
        let item = Item::new(0, &item).unwrap();
        assert_eq!(item.key("key", "invalid_key").unwrap(), "purchase");
        assert_eq!(item.timestamp(NOW).unwrap(), NOW);
        assert_eq!(item.value().unwrap(), Some(12.5));
        assert_eq!(
            item.properties().unwrap().as_deref(),
            Some(r#"{"plan":"pro"}"#)
        );
    }

    #[test]
    fn texts_arrays_maps_and_parts_are_bounded() {
        let item = json!({"name": "x".repeat(65), "message": "é".repeat(600), "frames": [1, 2, 3],
                          "flags": {"checkout": "treatment"}, "line": -1, "empty": ""});
        let item = Item::new(2, &item).unwrap();
        assert_eq!(item.text("name", "invalid_name", 64).unwrap_err().index, 2);
        assert_eq!(item.text("name", "invalid_name", 65).unwrap().len(), 65);
        assert_eq!(
            item.text("empty", "invalid_empty", 64).unwrap_err().code,
            "invalid_empty"
        );
        assert_eq!(item.optional_text("missing", "c", 8).unwrap(), None);
        // 600 two-byte characters cut at 1,023 bytes end on a character boundary.
        assert_eq!(item.truncated("message", "c", 1_023).unwrap().len(), 1_022);
        assert_eq!(item.truncated("missing", "c", 10).unwrap(), "");
        assert_eq!(item.array("frames", "invalid_frames", 3).unwrap().len(), 3);
        assert!(
            item.array("frames", "invalid_frames", 2)
                .unwrap_err()
                .message
                .contains("at most 2")
        );
        assert_eq!(
            item.array("flags", "invalid_frames", 2).unwrap_err().code,
            "invalid_frames"
        );
        assert_eq!(
            item.text_map("flags", "f", 1).unwrap(),
            vec![("checkout", "treatment")]
        );
        assert!(item.text_map("flags", "f", 0).is_err());
        assert!(item.text_map("frames", "f", 5).is_err());
        assert_eq!(item.text_map("missing", "f", 5).unwrap(), vec![]);
        assert_eq!(
            item.count("line", "invalid_line").unwrap_err().code,
            "invalid_line"
        );
        assert_eq!(item.count("missing", "invalid_line").unwrap(), None);
        let frame = json!({"line": 12});
        let part = item.part(&frame, "p", "a frame").unwrap();
        assert_eq!(part.count("line", "l").unwrap(), Some(12));
        let refused = item.part(&json!(1), "p", "a frame").err().unwrap();
        assert_eq!(
            (refused.index, refused.message.as_str()),
            (2, "a frame must be a JSON object")
        );
        let bad = json!({"flags": {"k": 1}});
        assert!(
            Item::new(0, &bad)
                .unwrap()
                .text_map("flags", "f", 5)
                .is_err()
        );
    }
}
