//! A compiled flag: the original [`FlagConfig`] plus what evaluation needs ready to use.
//!
//! Invariants: segments are sorted by rank, then id; every constraint is compiled once (regexes included)
//! and every segment's variant windows are precomputed; compiling never fails, since bad parts compile to
//! constraints that never match and windows that report themselves as dangling.

use crate::bucketing::Split;
use crate::constraint::Constraint;
use crate::matching::Miss;
use crate::model::{FlagConfig, VariantConfig};
use serde_json::{Map, Value};

/// One flag of a [`crate::Snapshot`], compiled for evaluation.
#[derive(Debug, Clone)]
pub struct CompiledFlag {
    config: FlagConfig,
    segments: Vec<CompiledSegment>,
}

/// A segment ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSegment {
    pub(crate) id: i64,
    pub(crate) constraints: Vec<Constraint>,
    pub(crate) split: Split,
}

impl CompiledSegment {
    /// The first constraint the context does not satisfy, with the reason.
    pub(crate) fn first_miss<'a>(
        &'a self,
        context: Option<&'a Map<String, Value>>,
    ) -> Option<(&'a Constraint, Miss<'a>)> {
        self.constraints.iter().find_map(|constraint| {
            constraint
                .check(context)
                .err()
                .map(|miss| (constraint, miss))
        })
    }
}

impl CompiledFlag {
    /// Compiles one flag.
    pub(crate) fn compile(config: FlagConfig) -> CompiledFlag {
        let mut ordered: Vec<_> = config.segments.iter().collect();
        ordered.sort_by_key(|segment| (segment.rank, segment.id));
        let segments = ordered
            .into_iter()
            .map(|segment| CompiledSegment {
                id: segment.id,
                constraints: segment
                    .constraints
                    .iter()
                    .map(Constraint::compile)
                    .collect(),
                split: Split::compile(segment, &config.variants),
            })
            .collect();
        CompiledFlag { config, segments }
    }

    /// The flag's id.
    pub fn id(&self) -> i64 {
        self.config.id
    }

    /// The flag's key.
    pub fn key(&self) -> &str {
        &self.config.key
    }

    /// Whether the flag is on in this environment.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// The id of the newest saved snapshot of this flag.
    pub fn snapshot_id(&self) -> i64 {
        self.config.snapshot_id
    }

    /// The flag's tags.
    pub fn tags(&self) -> &[String] {
        &self.config.tags
    }

    /// The configuration the flag was compiled from, unchanged (for exports and the client snapshot).
    pub fn config(&self) -> &FlagConfig {
        &self.config
    }

    /// The keys of a boolean flag's `true` and `false` variants: a flag is boolean when its variants
    /// are exactly `on`/`off` or `true`/`false`.
    pub fn boolean_keys(&self) -> Option<(&'static str, &'static str)> {
        let variants = &self.config.variants;
        if variants.len() != 2 {
            return None;
        }
        let has = |key: &str| variants.iter().any(|v| v.key == key);
        [("on", "off"), ("true", "false")]
            .into_iter()
            .find(|(yes, no)| has(yes) && has(no))
    }

    /// The variant the flag's `defaultVariant` names, if the flag has it.
    pub fn default_variant(&self) -> Option<&VariantConfig> {
        let key = self.config.default_variant.as_deref()?;
        self.config.variants.iter().find(|v| v.key == key)
    }

    /// A variant's typed value, as value-returning surfaces (OFREP, SDKs) give it: a boolean flag's
    /// variants are `true`/`false`; otherwise the attachment's `value` field with its JSON type, else
    /// the variant key as a string.
    pub fn value_of(&self, variant: &VariantConfig) -> Value {
        if let Some((yes, _)) = self.boolean_keys() {
            return Value::Bool(variant.key == yes);
        }
        match variant.attachment.field("value") {
            Some(value) if !value.is_null() => value,
            _ => Value::String(variant.key.clone()),
        }
    }

    /// Segments in evaluation order.
    pub(crate) fn segments(&self) -> &[CompiledSegment] {
        &self.segments
    }

    /// The variant at an index computed when the flag was compiled.
    pub(crate) fn variant(&self, index: usize) -> Option<&VariantConfig> {
        self.config.variants.get(index)
    }
}
