//! [`Decision`]: an owned evaluation result, and the typed value of the variant it picked.
//!
//! The typed value follows the server's OFREP mapping: a flag whose two variants are `on`/`off` or
//! `true`/`false` is boolean; otherwise the variant attachment's `value` when it is not null, else the
//! variant key as a string. When no variant is picked, the flag's `defaultVariant` gives the value.

use flagent_eval::{CompiledFlag, Evaluation, Reason};
use serde_json::Value;

/// What the engine decided for one flag and one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The flag's id; `None` when no flag has the key.
    pub flag_id: Option<i64>,
    /// The flag's key (as asked when not found).
    pub flag_key: String,
    /// The segment that matched, whether or not it gave a variant.
    pub segment_id: Option<i64>,
    /// The variant picked.
    pub variant_id: Option<i64>,
    /// Its key.
    pub variant_key: Option<String>,
    /// Its attachment.
    pub variant_attachment: Option<Value>,
    /// Why.
    pub reason: Reason,
    /// The typed value of the picked variant, or of the flag's default variant when none was picked.
    pub value: Option<Value>,
    /// The configuration revision the decision was made at.
    pub revision: u64,
}

impl Decision {
    /// The owned form of an engine evaluation.
    pub(crate) fn new(evaluation: &Evaluation<'_>, asked_key: &str, revision: u64) -> Decision {
        let flag = evaluation.flag;
        let variant = evaluation.variant;
        let value = flag.and_then(|flag| {
            let shown = variant.or_else(|| flag.default_variant())?;
            Some(flag.value_of(shown))
        });
        Decision {
            flag_id: flag.map(CompiledFlag::id),
            flag_key: flag.map_or_else(|| asked_key.to_owned(), |flag| flag.key().to_owned()),
            segment_id: evaluation.segment_id,
            variant_id: variant.map(|v| v.id),
            variant_key: variant.map(|v| v.key.clone()),
            variant_attachment: variant.map(|v| v.attachment.to_value()),
            reason: evaluation.reason,
            value,
            revision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flagent_eval::{FlagConfig, FlagRef, Request, Snapshot, evaluate};
    use serde_json::json;

    fn decide(flag: Value) -> Decision {
        let config: FlagConfig = serde_json::from_value(flag).unwrap();
        let snapshot = Snapshot::build(1, vec![config]);
        let request = Request {
            flag: FlagRef::Key("f"),
            entity_id: "e",
            context: None,
            debug: false,
        };
        Decision::new(&evaluate(&snapshot, &request), "f", 1)
    }

    fn everyone_gets(variants: Value, variant_id: i64) -> Value {
        json!({"id": 1, "key": "f", "salt": "f", "enabled": true, "variants": variants,
            "segments": [{"id": 1, "rank": 0, "rolloutPercent": 100,
                "distributions": [{"variantId": variant_id, "percent": 100}]}]})
    }

    #[test]
    fn on_off_flags_are_boolean() {
        let variants = json!([{"id": 1, "key": "on"}, {"id": 2, "key": "off"}]);
        assert_eq!(
            decide(everyone_gets(variants.clone(), 1)).value,
            Some(json!(true))
        );
        assert_eq!(decide(everyone_gets(variants, 2)).value, Some(json!(false)));
    }

    #[test]
    fn other_flags_give_the_attachment_value_or_the_key() {
        let variants =
            json!([{"id": 1, "key": "blue", "attachment": {"value": 3}}, {"id": 2, "key": "red"}]);
        assert_eq!(
            decide(everyone_gets(variants.clone(), 1)).value,
            Some(json!(3))
        );
        assert_eq!(decide(everyone_gets(variants, 2)).value, Some(json!("red")));
    }

    #[test]
    fn a_flag_without_a_pick_gives_its_default_variant() {
        let flag = json!({"id": 1, "key": "f", "salt": "f", "enabled": false,
            "variants": [{"id": 1, "key": "a"}, {"id": 2, "key": "b"}], "defaultVariant": "b"});
        let decision = decide(flag);
        assert_eq!(decision.reason, Reason::Disabled);
        assert_eq!(decision.variant_key, None);
        assert_eq!(decision.value, Some(json!("b")));
    }

    #[test]
    fn an_unknown_flag_keeps_the_asked_key() {
        let decision = decide(json!({"id": 1, "key": "other", "salt": "o", "enabled": true}));
        assert_eq!(decision.reason, Reason::FlagNotFound);
        assert_eq!(decision.flag_key, "f");
        assert_eq!(decision.flag_id, None);
        assert_eq!(decision.value, None);
    }
}
