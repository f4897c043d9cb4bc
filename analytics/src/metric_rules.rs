//! The rules a metric definition must follow, checked before anything is written: keys, names, which
//! fields each kind takes, the ratio's parts, windows and caps.

use crate::AnalyticsError;
use crate::metrics::{Direction, MAX_WINDOW_HOURS, MetricChange, MetricKind, NewMetric, built_ins};
use flagent_storage::entities::metric;

/// The attribution window when none is given: a week.
const DEFAULT_WINDOW_HOURS: i64 = 7 * 24;

fn invalid(field: &'static str, reason: impl Into<String>) -> AnalyticsError {
    AnalyticsError::invalid(field, reason)
}

/// The row to insert for `new` in `project`, whose metrics are `existing`.
pub(crate) fn checked(
    new: NewMetric,
    existing: &[metric::Model],
    project: i64,
) -> Result<metric::New, AnalyticsError> {
    check_key(&new.key)?;
    if existing.iter().any(|m| m.key == new.key) {
        return Err(AnalyticsError::MetricKeyTaken(new.key));
    }
    let name = new.name.clone().unwrap_or_else(|| new.key.clone());
    check_name(&name)?;
    check_description(&new.description)?;
    let window_hours = new.window_hours.unwrap_or(DEFAULT_WINDOW_HOURS);
    if !(1..=MAX_WINDOW_HOURS).contains(&window_hours) {
        return Err(invalid(
            "windowHours",
            format!("windowHours must be from 1 to {MAX_WINDOW_HOURS}"),
        ));
    }
    let (numerator_id, denominator_id) = ratio_parts(&new, existing)?;
    check_event(&new)?;
    check_quantile(&new)?;
    check_value_property(&new)?;
    check_winsorize(&new)?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok(metric::New {
        project_id: project,
        key: new.key,
        name,
        description: new.description,
        kind: new.kind.as_str().to_owned(),
        event_key: new.event,
        value_property: new.value_property,
        numerator_id,
        denominator_id,
        quantile: new.quantile,
        direction: new
            .direction
            .unwrap_or(Direction::Increase)
            .as_str()
            .to_owned(),
        window_hours,
        winsorize_at: new.winsorize_at,
        guardrail: new.guardrail,
        created_at: now,
        updated_at: now,
    })
}

/// `row` with `change` applied.
pub(crate) fn changed(
    mut row: metric::Model,
    change: MetricChange,
) -> Result<metric::Model, AnalyticsError> {
    if let Some(name) = change.name {
        check_name(&name)?;
        row.name = name;
    }
    if let Some(description) = change.description {
        check_description(&description)?;
        row.description = description;
    }
    if let Some(direction) = change.direction {
        row.direction = direction.as_str().to_owned();
    }
    if let Some(guardrail) = change.guardrail {
        row.guardrail = guardrail;
    }
    row.updated_at = chrono::Utc::now().timestamp_millis();
    Ok(row)
}

fn check_key(key: &str) -> Result<(), AnalyticsError> {
    let good = !key.is_empty()
        && key.len() <= 128
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
    if !good {
        return Err(invalid(
            "key",
            "key must be 1 to 128 characters: lower-case letters, digits, _ - and ., starting with a letter",
        ));
    }
    if built_ins().iter().any(|m| m.key == key) {
        return Err(invalid(
            "key",
            format!("{key} is the key of a built-in metric"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), AnalyticsError> {
    if name.trim().is_empty() || name.len() > 256 {
        return Err(invalid("name", "name must be 1 to 256 bytes"));
    }
    Ok(())
}

fn check_description(description: &str) -> Result<(), AnalyticsError> {
    if description.len() > 2_000 {
        return Err(invalid(
            "description",
            "description takes at most 2000 bytes",
        ));
    }
    Ok(())
}

fn check_event(new: &NewMetric) -> Result<(), AnalyticsError> {
    match (&new.event, new.kind) {
        (Some(_), MetricKind::Ratio) => Err(invalid(
            "event",
            "a ratio reads its numerator's and denominator's events; give no event",
        )),
        (None, MetricKind::Ratio) => Ok(()),
        (Some(event), _) if !event.is_empty() && event.len() <= 256 => Ok(()),
        _ => Err(invalid(
            "event",
            "event must name the event key read (1 to 256 bytes)",
        )),
    }
}

fn check_quantile(new: &NewMetric) -> Result<(), AnalyticsError> {
    match (new.quantile, new.kind) {
        (Some(q), MetricKind::Quantile) if q > 0.0 && q < 1.0 => Ok(()),
        (_, MetricKind::Quantile) => Err(invalid(
            "quantile",
            "a quantile metric needs quantile between 0 and 1 (0.95 for p95)",
        )),
        (Some(_), _) => Err(invalid("quantile", "only quantile metrics take a quantile")),
        (None, _) => Ok(()),
    }
}

fn check_value_property(new: &NewMetric) -> Result<(), AnalyticsError> {
    let Some(property) = &new.value_property else {
        return Ok(());
    };
    if !matches!(
        new.kind,
        MetricKind::Sum | MetricKind::Mean | MetricKind::Quantile
    ) {
        return Err(invalid(
            "valueProperty",
            "only sum, mean and quantile metrics read a value",
        ));
    }
    if property.is_empty() || property.len() > 128 {
        return Err(invalid(
            "valueProperty",
            "valueProperty must be 1 to 128 bytes",
        ));
    }
    Ok(())
}

fn check_winsorize(new: &NewMetric) -> Result<(), AnalyticsError> {
    match (new.winsorize_at, new.kind) {
        (None, _) => Ok(()),
        (Some(cap), MetricKind::Count | MetricKind::Sum) if cap.is_finite() && cap > 0.0 => Ok(()),
        (Some(_), MetricKind::Count | MetricKind::Sum) => Err(invalid(
            "winsorizeAt",
            "winsorizeAt must be a positive number",
        )),
        (Some(_), _) => Err(invalid(
            "winsorizeAt",
            "only count and sum metrics are winsorised",
        )),
    }
}

/// A ratio's numerator and denominator ids, or none for other kinds.
fn ratio_parts(
    new: &NewMetric,
    existing: &[metric::Model],
) -> Result<(Option<i64>, Option<i64>), AnalyticsError> {
    if new.kind != MetricKind::Ratio {
        if new.numerator.is_some() || new.denominator.is_some() {
            return Err(invalid(
                "numerator",
                "only ratio metrics take a numerator and a denominator",
            ));
        }
        return Ok((None, None));
    }
    let part = |field: &'static str, key: &Option<String>| -> Result<i64, AnalyticsError> {
        let Some(key) = key else {
            return Err(invalid(
                field,
                format!("a ratio needs its {field} metric's key"),
            ));
        };
        let row = existing
            .iter()
            .find(|m| &m.key == key)
            .ok_or_else(|| invalid(field, format!("no metric has the key {key:?}")))?;
        match MetricKind::parse(&row.kind) {
            Some(MetricKind::Conversion | MetricKind::Count | MetricKind::Sum) => Ok(row.id),
            _ => Err(invalid(
                field,
                format!("{key:?} must be a conversion, count or sum metric"),
            )),
        }
    };
    Ok((
        Some(part("numerator", &new.numerator)?),
        Some(part("denominator", &new.denominator)?),
    ))
}
