//! Reading an ingestion batch: the request as a whole (an object with one array of at most 1,000
//! items), then each item on its own, so a bad item is refused with its index and a reason while the
//! others go on.

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

/// The array `field` of the request body, or why the request as a whole is refused.
pub(crate) fn items<'a>(
    body: &'a Value,
    field: &'static str,
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
    if items.len() > MAX_ITEMS {
        return Err(AnalyticsError::TooLarge(format!(
            "a request carries at most {MAX_ITEMS} {field}, this one {}",
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
        match self.fields.get(name) {
            Some(Value::String(text)) if !text.is_empty() && text.len() <= MAX_KEY_BYTES => {
                Ok(text)
            }
            Some(Value::String(text)) if !text.is_empty() => {
                Err(self.refuse(code, format!("{name} is longer than {MAX_KEY_BYTES} bytes")))
            }
            _ => Err(self.refuse(code, format!("{name} must be a non-empty string"))),
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
}
