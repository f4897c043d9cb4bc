//! How events change one exposed entity's values of one metric, and how that change moves the daily
//! sums: pure functions, no I/O.
//!
//! Per kind, `x` is the value after exposure and `y` the second value: the value before exposure (the
//! CUPED covariate) for conversion, count and sum; the number of events for mean; the denominator for
//! ratio; the number of events for quantile (whose values go to the day's sketch instead).

use crate::metrics::MetricKind;
use flagent_stats::QuantileSketch;
use flagent_storage::entities::metric_day;

/// What the rollup needs of a metric (or of a ratio's part).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pub(crate) id: i64,
    pub(crate) kind: MetricKind,
    pub(crate) event: String,
    pub(crate) value_property: Option<String>,
    pub(crate) window_ms: i64,
    pub(crate) cap: Option<f64>,
    /// A ratio's numerator and denominator: (kind, event, value property).
    pub(crate) parts: Option<[Part; 2]>,
}

/// One part of a ratio.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    pub(crate) kind: MetricKind,
    pub(crate) event: String,
    pub(crate) value_property: Option<String>,
}

/// One event as the rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seen<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: Option<f64>,
    pub(crate) properties: Option<&'a serde_json::Value>,
}

impl Seen<'_> {
    /// The value a metric reads: the named property when it has one, else the event's value; 0 when
    /// missing or not a number.
    fn value_of(&self, property: Option<&str>) -> f64 {
        match property {
            Some(name) => self
                .properties
                .and_then(|p| p.get(name))
                .and_then(serde_json::Value::as_f64)
                .filter(|v| v.is_finite())
                .unwrap_or(0.0),
            None => self.value.unwrap_or(0.0),
        }
    }
}

/// Where an event falls for an entity exposed at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// In the attribution window after exposure.
    After,
    /// In the window of the same length before exposure (for CUPED).
    Before,
}

/// Where an event at `at` falls for an entity exposed at `exposed` under a window of `window_ms`.
pub(crate) fn side(exposed: i64, at: i64, window_ms: i64) -> Option<Side> {
    if at >= exposed && at < exposed.saturating_add(window_ms) {
        Some(Side::After)
    } else if at < exposed && at >= exposed.saturating_sub(window_ms) {
        Some(Side::Before)
    } else {
        None
    }
}

/// Folds one event into a part value of `kind` (`conversion` stays at most 1).
fn fold(kind: MetricKind, current: f64, event: &Seen<'_>, property: Option<&str>) -> f64 {
    match kind {
        MetricKind::Conversion => 1.0,
        MetricKind::Count => current + 1.0,
        _ => current + event.value_of(property),
    }
}

impl Rule {
    /// Whether events with `key` concern this metric.
    pub(crate) fn reads(&self, key: &str) -> bool {
        match &self.parts {
            Some(parts) => parts.iter().any(|p| p.event == key),
            None => self.event == key,
        }
    }

    /// The entity's (x, y) after `event` on `side`, and the value a quantile sketch takes.
    pub(crate) fn apply(
        &self,
        (x, y): (f64, f64),
        event: &Seen<'_>,
        side: Side,
    ) -> ((f64, f64), Option<f64>) {
        let property = self.value_property.as_deref();
        match (self.kind, side) {
            (MetricKind::Ratio, Side::After) => {
                let mut next = (x, y);
                if let Some([num, den]) = &self.parts {
                    if num.event == event.key {
                        next.0 = fold(num.kind, next.0, event, num.value_property.as_deref());
                    }
                    if den.event == event.key {
                        next.1 = fold(den.kind, next.1, event, den.value_property.as_deref());
                    }
                }
                (next, None)
            }
            (MetricKind::Mean, Side::After) => ((x + event.value_of(property), y + 1.0), None),
            (MetricKind::Quantile, Side::After) => ((x + 1.0, y), Some(event.value_of(property))),
            (MetricKind::Ratio | MetricKind::Mean | MetricKind::Quantile, Side::Before) => {
                ((x, y), None)
            }
            (kind, Side::After) => ((fold(kind, x, event, property), y), None),
            (kind, Side::Before) => ((x, fold(kind, y, event, property)), None),
        }
    }

    /// Whether folding reads event properties (a value property here or in a ratio's part).
    pub(crate) fn needs_properties(&self) -> bool {
        self.value_property.is_some()
            || self
                .parts
                .iter()
                .flatten()
                .any(|p| p.value_property.is_some())
    }

    /// `x` as the sums take it: winsorised at the metric's cap.
    fn capped(&self, x: f64) -> f64 {
        self.cap.map_or(x, |cap| x.min(cap))
    }

    /// Moves a day's sums by an entity's change from `before` to `after`.
    pub(crate) fn shift(&self, day: &mut metric_day::Model, before: (f64, f64), after: (f64, f64)) {
        let (x0, y0) = (self.capped(before.0), before.1);
        let (x1, y1) = (self.capped(after.0), after.1);
        day.sum_x += x1 - x0;
        day.sum_x_sq += x1 * x1 - x0 * x0;
        day.sum_y += y1 - y0;
        day.sum_y_sq += y1 * y1 - y0 * y0;
        day.sum_xy += x1 * y1 - x0 * y0;
        day.nonzero += i64::from(x1 != 0.0) - i64::from(x0 != 0.0);
    }
}

/// Adds `values` to a day's sketch (kept as JSON in the row).
pub(crate) fn sketch_add(day: &mut metric_day::Model, values: &[f64]) {
    if values.is_empty() {
        return;
    }
    let mut sketch: QuantileSketch = day
        .sketch
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    for v in values {
        sketch.add(*v);
    }
    day.sketch = serde_json::to_string(&sketch).ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: MetricKind) -> Rule {
        Rule {
            id: 1,
            kind,
            event: "buy".into(),
            value_property: None,
            window_ms: 1_000,
            cap: None,
            parts: None,
        }
    }

    fn seen(value: f64) -> Seen<'static> {
        Seen {
            key: "buy",
            value: Some(value),
            properties: None,
        }
    }

    #[test]
    fn events_fall_after_before_or_outside_the_window() {
        assert_eq!(side(10_000, 10_000, 1_000), Some(Side::After));
        assert_eq!(side(10_000, 10_999, 1_000), Some(Side::After));
        assert_eq!(side(10_000, 11_000, 1_000), None);
        assert_eq!(side(10_000, 9_999, 1_000), Some(Side::Before));
        assert_eq!(side(10_000, 9_000, 1_000), Some(Side::Before));
        assert_eq!(side(10_000, 8_999, 1_000), None);
    }

    #[test]
    fn each_kind_folds_events_its_way() {
        let conversion = rule(MetricKind::Conversion);
        let once = conversion.apply((0.0, 0.0), &seen(5.0), Side::After).0;
        assert_eq!(
            conversion.apply(once, &seen(5.0), Side::After).0,
            (1.0, 0.0)
        );
        assert_eq!(
            conversion.apply((0.0, 0.0), &seen(5.0), Side::Before).0,
            (0.0, 1.0)
        );
        let count = rule(MetricKind::Count);
        assert_eq!(
            count.apply((2.0, 0.0), &seen(5.0), Side::After).0,
            (3.0, 0.0)
        );
        let sum = rule(MetricKind::Sum);
        assert_eq!(sum.apply((2.0, 1.0), &seen(5.0), Side::After).0, (7.0, 1.0));
        assert_eq!(
            sum.apply((2.0, 1.0), &seen(5.0), Side::Before).0,
            (2.0, 6.0)
        );
        let mean = rule(MetricKind::Mean);
        assert_eq!(
            mean.apply((2.0, 1.0), &seen(5.0), Side::After).0,
            (7.0, 2.0)
        );
        assert_eq!(
            mean.apply((2.0, 1.0), &seen(5.0), Side::Before).0,
            (2.0, 1.0)
        );
        let quantile = rule(MetricKind::Quantile);
        assert_eq!(
            quantile.apply((0.0, 0.0), &seen(120.0), Side::After),
            ((1.0, 0.0), Some(120.0))
        );
    }

    #[test]
    fn a_ratio_folds_its_numerator_and_denominator_events() {
        let mut ratio = rule(MetricKind::Ratio);
        ratio.parts = Some([
            Part {
                kind: MetricKind::Sum,
                event: "buy".into(),
                value_property: Some("amount".into()),
            },
            Part {
                kind: MetricKind::Count,
                event: "visit".into(),
                value_property: None,
            },
        ]);
        let props = serde_json::json!({"amount": 30.0});
        let buy = Seen {
            key: "buy",
            value: None,
            properties: Some(&props),
        };
        let visit = Seen {
            key: "visit",
            value: None,
            properties: None,
        };
        assert!(ratio.reads("buy") && ratio.reads("visit") && !ratio.reads("other"));
        let after = ratio.apply((0.0, 0.0), &buy, Side::After).0;
        let after = ratio.apply(after, &visit, Side::After).0;
        assert_eq!(ratio.apply(after, &visit, Side::After).0, (30.0, 2.0));
    }

    #[test]
    fn sums_move_by_the_capped_change() {
        let mut count = rule(MetricKind::Count);
        count.cap = Some(3.0);
        let mut day = metric_day::Model {
            id: 0,
            tenant_id: 0,
            environment_id: 0,
            flag_id: 0,
            metric_id: 1,
            variant_id: 0,
            day: 0,
            sum_x: 0.0,
            sum_x_sq: 0.0,
            sum_y: 0.0,
            sum_y_sq: 0.0,
            sum_xy: 0.0,
            nonzero: 0,
            sketch: None,
        };
        count.shift(&mut day, (0.0, 2.0), (2.0, 2.0));
        count.shift(&mut day, (2.0, 2.0), (5.0, 2.0));
        // One entity: x = min(5, 3) = 3 and y = 2.
        assert_eq!(
            (day.sum_x, day.sum_x_sq, day.sum_y, day.sum_y_sq, day.sum_xy),
            (3.0, 9.0, 0.0, 0.0, 6.0)
        );
        assert_eq!(day.nonzero, 1);
    }
}
