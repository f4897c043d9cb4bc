//! Random flag configurations (as an import document) and random entities, for the differential test
//! of the SDK against `/api/v1/evaluation/batch`.
//!
//! Everything generated is valid for the import (constraints are checked by the engine's own
//! `validate_constraint` there), and covers every operator with every literal kind it accepts: strings,
//! numbers, booleans, arrays, `{references}`, `semver:` and `time:` literals; segments with partial
//! rollouts, empty distributions, several ranks; disabled flags, both bucketing algorithms, default
//! variants and prerequisites on earlier flags (with and without a required variant).

use rand::prelude::*;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// Context properties constraints look at (nested and indexed paths included).
const PROPERTIES: &[&str] = &[
    "country",
    "age",
    "version",
    "email",
    "plan",
    "beta",
    "ts",
    "score",
    "user.tier",
    "items[0]",
    "items[-1]",
    "tags",
    "other",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A literal an operator accepts.
fn literal(rng: &mut StdRng, operator: &str) -> String {
    let string = || -> Vec<&str> {
        vec![
            "\"CA\"",
            "\"US\"",
            "\"pro\"",
            "\"a\"",
            "\"x@y.z\"",
            "\"gold\"",
        ]
    };
    let number = |rng: &mut StdRng| format!("{}", rng.random_range(-5..60));
    let semver = |rng: &mut StdRng| {
        format!(
            "semver:\"{}.{}.{}\"",
            rng.random_range(0..3),
            rng.random_range(0..4),
            rng.random_range(0..3)
        )
    };
    let time =
        |rng: &mut StdRng| format!("time:\"2026-0{}-15T00:00:00Z\"", rng.random_range(1..10));
    let reference = |rng: &mut StdRng| format!("{{{}}}", pick(rng, PROPERTIES));
    match operator {
        "EQ" | "NEQ" => match rng.random_range(0..6) {
            0 => pick(rng, &string()).to_string(),
            1 => number(rng),
            2 => pick(rng, &["true", "false"]).to_string(),
            3 => semver(rng),
            4 => time(rng),
            _ => reference(rng),
        },
        "LT" | "LTE" | "GT" | "GTE" => match rng.random_range(0..4) {
            0 => number(rng),
            1 => semver(rng),
            2 => time(rng),
            _ => reference(rng),
        },
        "EREG" | "NEREG" => pick(
            rng,
            &[
                "\"^C\"",
                "\"@y\\\\.z$\"",
                "\"o\"",
                "\"^[a-g]\"",
                "\"1\\\\.\"",
            ],
        )
        .to_string(),
        "IN" | "NOTIN" => match rng.random_range(0..3) {
            0 => "[\"CA\",\"US\",\"gold\"]".to_owned(),
            1 => "[\"pro\",\"a\"]".to_owned(),
            _ => format!(
                "[{},{},3]",
                rng.random_range(0..40),
                rng.random_range(0..40)
            ),
        },
        "CONTAINS" | "NOTCONTAINS" => match rng.random_range(0..3) {
            0 => pick(rng, &string()).to_string(),
            1 => number(rng),
            _ => pick(rng, &["true", "false"]).to_string(),
        },
        _ => match rng.random_range(0..3) {
            0 => pick(rng, &["\"C\"", "\"go\"", "\"x\"", "\"z\"", "\"1.\""]).to_string(),
            1 => pick(rng, &["\"A\"", "\".z\"", "\"d\""]).to_string(),
            _ => reference(rng),
        },
    }
}

const OPERATORS: &[&str] = &[
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "EREG",
    "NEREG",
    "IN",
    "NOTIN",
    "CONTAINS",
    "NOTCONTAINS",
    "STARTS_WITH",
    "ENDS_WITH",
];

fn constraint(rng: &mut StdRng) -> Value {
    let operator = *pick(rng, OPERATORS);
    json!({"property": pick(rng, PROPERTIES), "operator": operator, "value": literal(rng, operator)})
}

/// Percents over a random subset of `variants`, summing to 100 (or none).
fn distributions(rng: &mut StdRng, variants: &[String]) -> Vec<Value> {
    if variants.is_empty() || rng.random_bool(0.1) {
        return Vec::new();
    }
    let mut chosen: Vec<&String> = variants.iter().filter(|_| rng.random_bool(0.7)).collect();
    if chosen.is_empty() {
        chosen.push(&variants[0]);
    }
    let mut left = 100;
    let last = chosen.len() - 1;
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            let percent = if i == last {
                left
            } else {
                rng.random_range(0..=left)
            };
            left -= percent;
            json!({"variantKey": key, "percent": percent})
        })
        .collect()
}

fn segment(rng: &mut StdRng, rank: i64, variants: &[String]) -> Value {
    let constraints: Vec<Value> = (0..rng.random_range(0..4))
        .map(|_| constraint(rng))
        .collect();
    let any = rng.random_range(0..=100);
    let rollout = *pick(rng, &[0, 25, 50, 100, 100, 100, any]);
    json!({"description": format!("segment {rank}"), "rank": rank, "rolloutPercent": rollout,
        "constraints": constraints, "distributions": distributions(rng, variants)})
}

/// `count` flags keyed `<prefix>-<i>`; flag `i` may depend on flags before it.
pub(crate) fn document(rng: &mut StdRng, prefix: &str, count: usize) -> Value {
    let mut flags: Vec<Value> = Vec::new();
    for i in 0..count {
        let variants: Vec<String> = (0..rng.random_range(0..5))
            .map(|v| format!("v{v}"))
            .collect();
        let variants = if rng.random_bool(0.2) {
            vec!["on".to_owned(), "off".to_owned()]
        } else {
            variants
        };
        let mut flag = json!({
            "key": format!("{prefix}-{i}"), "description": "generated", "enabled": rng.random_bool(0.85),
            "bucketing": pick(rng, &["murmur3", "murmur3", "flagr_crc32"]),
            "variants": variants.iter().map(|key| {
                let attachment = if rng.random_bool(0.5) { json!({"value": rng.random_range(0..9)}) } else { Value::Null };
                json!({"key": key, "attachment": attachment})
            }).collect::<Vec<_>>(),
            "segments": (0..rng.random_range(0..4)).map(|rank| segment(rng, rank, &variants)).collect::<Vec<_>>(),
        });
        if rng.random_bool(0.3) {
            flag["salt"] = json!(format!("salt-{}", rng.random_range(0..1000)));
        }
        if !variants.is_empty() && rng.random_bool(0.3) {
            flag["defaultVariant"] = json!(pick(rng, &variants));
        }
        if i > 0 && rng.random_bool(0.25) {
            let on: &Value = &flags[rng.random_range(0..i)];
            let mut prerequisite = json!({"flagKey": on["key"]});
            let keys: Vec<Value> = on["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["key"].clone())
                .collect();
            if !keys.is_empty() && rng.random_bool(0.5) {
                prerequisite["variantKey"] = pick(rng, &keys).clone();
            }
            flag["dependsOn"] = json!([prerequisite]);
        }
        flags.push(flag);
    }
    json!({ "flags": flags })
}

/// A random value of a random type for one property.
fn property_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..12) {
        0 => json!(pick(
            rng,
            &["CA", "US", "pro", "a", "x@y.z", "gold", "Chicago", "1.2.0"]
        )),
        1 | 2 => json!(rng.random_range(-5..60)),
        3 => json!(rng.random_range(-5.0..60.0)),
        4 => json!(rng.random_bool(0.5)),
        5 => json!(format!(
            "{}.{}.{}",
            rng.random_range(0..3),
            rng.random_range(0..4),
            rng.random_range(0..3)
        )),
        6 => json!(format!("2026-0{}-15T00:00:00Z", rng.random_range(1..10))),
        7 => json!(["CA", "pro", 3]),
        8 => json!([rng.random_range(0..40), 3]),
        9 => Value::Null,
        10 => json!([]),
        _ => json!("v1.0.0"),
    }
}

/// A random context: some properties, each of a random type, sometimes nested.
pub(crate) fn context(rng: &mut StdRng) -> Value {
    let mut context = serde_json::Map::new();
    for property in [
        "country", "age", "version", "email", "plan", "beta", "ts", "score", "tags", "other",
    ] {
        if rng.random_bool(0.6) {
            context.insert(property.to_owned(), property_value(rng));
        }
    }
    if rng.random_bool(0.5) {
        context.insert("user".to_owned(), json!({"tier": property_value(rng)}));
    }
    if rng.random_bool(0.5) {
        context.insert(
            "items".to_owned(),
            json!([property_value(rng), property_value(rng)]),
        );
    }
    Value::Object(context)
}
