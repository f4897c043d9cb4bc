//! The validation pass of an import: every problem of a document that can be found without the
//! database, each with its path (`flags[2].segments[0].constraints[1].value`).

use crate::transfer::{Document, FlagDoc, ImportProblem};
use crate::{FlagsError, Result, validate};
use std::collections::{HashMap, HashSet};

/// Collects problems with their document paths.
#[derive(Default)]
struct Problems(Vec<ImportProblem>);

impl Problems {
    fn check<T>(&mut self, path: &str, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(FlagsError::Invalid { reason, .. }) => {
                self.add(path, reason);
                None
            }
            Err(other) => {
                self.add(path, other.to_string());
                None
            }
        }
    }

    fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(ImportProblem {
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

/// Checks every item of `doc` that can be checked without the database; `existing` are the live flag keys
/// of the project (prerequisites may name them).
pub fn validate_document(doc: &Document, existing: &HashSet<String>) -> Vec<ImportProblem> {
    let mut p = Problems::default();
    let mut keys = HashSet::new();
    for (i, f) in doc.flags.iter().enumerate() {
        let at = format!("flags[{i}]");
        p.check(&format!("{at}.key"), validate::key_like("key", &f.key));
        if !keys.insert(f.key.as_str()) {
            p.add(
                &format!("{at}.key"),
                format!("flag key {:?} appears more than once", f.key),
            );
        }
        validate_flag(&mut p, &at, f);
    }
    let known: HashSet<&str> = keys
        .iter()
        .copied()
        .chain(existing.iter().map(String::as_str))
        .collect();
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for (i, f) in doc.flags.iter().enumerate() {
        for (j, d) in f.depends_on.iter().enumerate() {
            if !known.contains(d.flag_key.as_str()) || d.flag_key == f.key {
                p.add(
                    &format!("flags[{i}].dependsOn[{j}]"),
                    format!("no other flag has key {:?}", d.flag_key),
                );
            }
        }
        edges.insert(
            f.key.clone(),
            f.depends_on.iter().map(|d| d.flag_key.clone()).collect(),
        );
    }
    for (i, f) in doc.flags.iter().enumerate() {
        if let Some(cycle) = flagent_eval::prerequisite_cycle(&edges, &f.key) {
            p.add(
                &format!("flags[{i}].dependsOn"),
                format!("prerequisites form a cycle: {}", cycle.join(" -> ")),
            );
        }
    }
    p.0
}

fn validate_flag(p: &mut Problems, at: &str, f: &FlagDoc) {
    p.check(
        &format!("{at}.description"),
        validate::description(&f.description),
    );
    p.check(
        &format!("{at}.bucketing"),
        validate::bucketing(f.bucketing.as_deref()),
    );
    if let Some(s) = &f.salt {
        p.check(&format!("{at}.salt"), validate::salt(s));
    }
    p.check(&format!("{at}.notes"), validate::bounded("notes", &f.notes));
    let mut variant_keys = HashSet::new();
    for (j, v) in f.variants.iter().enumerate() {
        p.check(
            &format!("{at}.variants[{j}].key"),
            validate::key_like("key", &v.key),
        );
        if !variant_keys.insert(v.key.as_str()) {
            p.add(
                &format!("{at}.variants[{j}].key"),
                format!("variant key {:?} appears more than once", v.key),
            );
        }
        if !(v.attachment.is_object() || v.attachment.is_null()) {
            p.add(
                &format!("{at}.variants[{j}].attachment"),
                "attachment must be a JSON object",
            );
        }
    }
    if let Some(d) = f
        .default_variant
        .as_ref()
        .filter(|d| !variant_keys.contains(d.as_str()))
    {
        p.add(
            &format!("{at}.defaultVariant"),
            format!("the flag has no variant {d:?}"),
        );
    }
    for (j, t) in f.tags.iter().enumerate() {
        p.check(&format!("{at}.tags[{j}]"), validate::key_like("tag", t));
    }
    for (j, s) in f.segments.iter().enumerate() {
        let at = format!("{at}.segments[{j}]");
        p.check(
            &format!("{at}.rolloutPercent"),
            validate::percent("rolloutPercent", s.rollout_percent),
        );
        for (k, c) in s.constraints.iter().enumerate() {
            if let Err(e) = flagent_eval::validate_constraint(&c.property, &c.operator, &c.value) {
                p.add(&format!("{at}.constraints[{k}].{}", e.field), e.message);
            }
        }
        let mut sum = 0;
        for (k, d) in s.distributions.iter().enumerate() {
            p.check(
                &format!("{at}.distributions[{k}].percent"),
                validate::percent("percent", d.percent),
            );
            if !variant_keys.contains(d.variant_key.as_str()) {
                p.add(
                    &format!("{at}.distributions[{k}].variantKey"),
                    format!("the flag has no variant {:?}", d.variant_key),
                );
            }
            sum += d.percent;
        }
        if !s.distributions.is_empty() && sum != 100 {
            p.add(
                &format!("{at}.distributions"),
                format!("percents must sum to 100, got {sum}"),
            );
        }
    }
}
