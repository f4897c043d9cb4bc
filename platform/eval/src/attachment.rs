//! A variant's attachment, kept as compact JSON text rather than a parsed tree.
//!
//! Every environment's copy of every variant carries its attachment, and a parsed `serde_json::Value`
//! object costs a tree node allocation per map (about 1.4 KiB for a two-level object), ten times its
//! text. The text is shared between clones, written out verbatim when serialised with `serde_json`,
//! and parsed only by the rare readers that need its fields.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// Any JSON value (normally an object, or `null` when the variant has none), immutable.
#[derive(Clone)]
pub struct Attachment(Arc<RawValue>);

impl Attachment {
    /// The attachment as a parsed JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// The compact JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// Whether the attachment is JSON `null`.
    pub fn is_null(&self) -> bool {
        self.0.get() == "null"
    }

    /// The attachment's top-level `field`, when it is an object that has it.
    pub fn field(&self, field: &str) -> Option<Value> {
        match serde_json::from_str::<Value>(self.0.get()) {
            Ok(Value::Object(mut map)) => map.remove(field),
            _ => None,
        }
    }
}

impl From<&Value> for Attachment {
    fn from(value: &Value) -> Self {
        // Serialising a `Value` cannot fail: its map keys are strings.
        let raw =
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Attachment(Arc::from(raw))
    }
}

impl From<Value> for Attachment {
    fn from(value: Value) -> Self {
        Attachment::from(&value)
    }
}

impl Default for Attachment {
    fn default() -> Self {
        Attachment(Arc::from(RawValue::NULL.to_owned()))
    }
}

impl PartialEq for Attachment {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Eq for Attachment {}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl Serialize for Attachment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Attachment {
    /// Goes through [`Value`], so it works with any deserializer and always stores compact text
    /// with sorted keys, which makes equal attachments compare equal.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Attachment::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_serde_json_verbatim_and_compares_by_content() {
        let parsed: Attachment =
            serde_json::from_str(r#"{ "b": [1, 2], "a": {"x": "y"} }"#).unwrap();
        assert_eq!(parsed.as_json(), r#"{"a":{"x":"y"},"b":[1,2]}"#);
        assert_eq!(
            parsed,
            Attachment::from(json!({"a": {"x": "y"}, "b": [1, 2]}))
        );
        assert_eq!(
            serde_json::to_string(&json!({"attachment": parsed})).unwrap(),
            r#"{"attachment":{"a":{"x":"y"},"b":[1,2]}}"#
        );
        assert_eq!(parsed.field("b"), Some(json!([1, 2])));
        assert_eq!(parsed.field("c"), None);
        assert!(!parsed.is_null());
    }

    #[test]
    fn null_and_non_objects_have_no_fields() {
        assert!(Attachment::default().is_null());
        assert_eq!(Attachment::default().to_value(), Value::Null);
        assert_eq!(Attachment::from(json!([1])).field("value"), None);
        assert_eq!(Attachment::from(json!("s")).to_value(), json!("s"));
    }
}
