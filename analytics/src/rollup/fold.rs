//! Folding a pass's pairs into the stored values: each changed entity's (x, y), the daily sums they
//! move, quantile sketches, and the exposure counts per day.

use super::RULE_CHUNK;
use super::pass::{EntityChange, exposure_day, seen};
use super::values::{Rule, Side, sketch_add};
use flagent_storage::entities::{exposure, exposure_day as day_row, metric_day, metric_entity};
use flagent_storage::{GroupScoped, StorageError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Key of a daily row: (flag, metric, variant, day).
type DayKey = (i64, i64, i64, i64);

/// Folds `changes` ((flag, metric, entity) → events) into `metric_entities` and `metric_daily`.
pub(super) async fn save(
    scoped: &GroupScoped<'_>,
    rules: HashMap<(i64, i64), Rule>,
    environment: i64,
    changes: BTreeMap<(i64, i64, i64), EntityChange<'_>>,
) -> Result<(), StorageError> {
    if changes.is_empty() {
        return Ok(());
    }
    let flags: Vec<i64> = changes
        .keys()
        .map(|k| k.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let entities: Vec<i64> = changes
        .keys()
        .map(|k| k.2)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut stored: HashMap<(i64, i64, i64), metric_entity::Model> = HashMap::new();
    for chunk in entities.chunks(RULE_CHUNK) {
        for row in scoped
            .metric_entities_of(environment, &flags, chunk)
            .await?
        {
            stored.insert((row.flag_id, row.metric_id, row.entity), row);
        }
    }
    let days: Vec<i64> = changes
        .values()
        .map(|c| exposure_day(c.exposed.at))
        .chain(stored.values().map(|r| r.day))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut sums: HashMap<DayKey, metric_day::Model> = scoped
        .metric_days_of(environment, &flags, &days)
        .await?
        .into_iter()
        .map(|r| ((r.flag_id, r.metric_id, r.variant_id, r.day), r))
        .collect();
    let mut entity_rows = Vec::with_capacity(changes.len());
    let mut sketches: HashMap<DayKey, Vec<f64>> = HashMap::new();
    for ((flag, metric, entity), change) in changes {
        let Some(rule) = rules.get(&(flag, metric)) else {
            continue;
        };
        let mut row = stored
            .remove(&(flag, metric, entity))
            .unwrap_or(metric_entity::Model {
                id: 0,
                tenant_id: 0,
                environment_id: environment,
                flag_id: flag,
                metric_id: metric,
                entity,
                variant_id: change.exposed.variant,
                day: exposure_day(change.exposed.at),
                x: 0.0,
                y: 0.0,
                first_at: None,
            });
        let before = (row.x, row.y);
        let mut after = before;
        let key = (flag, metric, row.variant_id, row.day);
        for (side, event) in change.events {
            if side == Side::After {
                row.first_at = Some(
                    row.first_at
                        .map_or(event.occurred_at, |t| t.min(event.occurred_at)),
                );
            }
            let properties = event
                .properties
                .as_deref()
                .filter(|_| rule.needs_properties())
                .and_then(|text| serde_json::from_str(text).ok());
            let (next, sketched) = rule.apply(after, &seen(event, properties.as_ref()), side);
            after = next;
            if let Some(value) = sketched {
                sketches.entry(key).or_default().push(value);
            }
        }
        let sum = sums
            .entry(key)
            .or_insert_with(|| empty_day(environment, key));
        rule.shift(sum, before, after);
        (row.x, row.y) = after;
        entity_rows.push(row);
    }
    for (key, values) in sketches {
        let sum = sums
            .entry(key)
            .or_insert_with(|| empty_day(environment, key));
        sketch_add(sum, &values);
    }
    scoped.save_metric_entities(entity_rows).await?;
    scoped
        .save_metric_days(sums.into_values().collect())
        .await?;
    Ok(())
}

fn empty_day(environment: i64, (flag, metric, variant, day): DayKey) -> metric_day::Model {
    metric_day::Model {
        id: 0,
        tenant_id: 0,
        environment_id: environment,
        flag_id: flag,
        metric_id: metric,
        variant_id: variant,
        day,
        sum_x: 0.0,
        sum_x_sq: 0.0,
        sum_y: 0.0,
        sum_y_sq: 0.0,
        sum_xy: 0.0,
        nonzero: 0,
        sketch: None,
    }
}

/// Adds the new exposures to the entities exposed per flag, variant and day.
pub(super) async fn count_exposures(
    scoped: &GroupScoped<'_>,
    environment: i64,
    exposures: &[exposure::Model],
) -> Result<(), StorageError> {
    if exposures.is_empty() {
        return Ok(());
    }
    let mut added: BTreeMap<(i64, i64, i64), i64> = BTreeMap::new();
    for x in exposures {
        *added
            .entry((x.flag_id, x.variant_id, exposure_day(x.exposed_at)))
            .or_default() += 1;
    }
    let flags: Vec<i64> = added
        .keys()
        .map(|k| k.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let days: Vec<i64> = added
        .keys()
        .map(|k| k.2)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows: HashMap<(i64, i64, i64), day_row::Model> = scoped
        .exposure_days_of(environment, &flags, &days)
        .await?
        .into_iter()
        .map(|r| ((r.flag_id, r.variant_id, r.day), r))
        .collect();
    for ((flag, variant, day), count) in added {
        rows.entry((flag, variant, day))
            .or_insert_with(|| day_row::Model {
                id: 0,
                tenant_id: 0,
                environment_id: environment,
                flag_id: flag,
                variant_id: variant,
                day,
                entities: 0,
            })
            .entities += count;
    }
    scoped
        .save_exposure_days(rows.into_values().collect())
        .await?;
    Ok(())
}
