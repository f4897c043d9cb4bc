//! The metric definitions page (`/ui/t/{tenant}/metrics`): the project's metrics, the built-in ones
//! marked, with what each reads and how, and for those who may change them a form that defines a
//! metric (`POST /api/v1/metrics`) and a delete button per metric (`DELETE /api/v1/metrics/{key}`).
//!
//! Invariant: the create form sends only the fields the chosen kind takes (the others sit in disabled
//! fieldsets, which `app.js` leaves out), so what the API refuses is what was typed, shown at the field
//! the API names.

use crate::results::kind_label;
use crate::{Shell, enc};
use askama::Template;

/// The kinds the form offers: value, label, and the kinds' fields it shows.
pub const METRIC_KINDS: [(&str, &str); 6] = [
    ("conversion", "Conversion: did the event at least once"),
    ("count", "Count: events per entity"),
    ("sum", "Sum: total value per entity"),
    ("mean", "Mean: mean value per event"),
    ("ratio", "Ratio: one metric's sum over another's"),
    (
        "quantile",
        "Quantile: a quantile of the values (p95 latency)",
    ),
];

/// A metric as the page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricEntry {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Its kind, as the API writes it.
    pub kind: &'static str,
    /// The event it reads (none for a ratio).
    pub event: Option<String>,
    /// Whether more is better.
    pub increase: bool,
    /// The attribution window in hours.
    pub window_hours: i64,
    /// Whether it is a guardrail.
    pub guardrail: bool,
    /// Whether it is built in.
    pub built_in: bool,
    /// What else defines it (`value from amount`, `revenue / visits`, `p95`, `capped at 500`).
    pub details: Vec<String>,
}

impl MetricEntry {
    /// What its value is, in a few words.
    pub fn kind_label(&self) -> &'static str {
        kind_label(self.kind)
    }

    /// `higher is better` or `lower is better`.
    pub fn direction(&self) -> &'static str {
        if self.increase {
            "higher is better"
        } else {
            "lower is better"
        }
    }

    /// The window in days when whole (`7 days`), else in hours (`36 hours`).
    pub fn window(&self) -> String {
        window_label(self.window_hours)
    }

    /// The API path of this metric.
    pub fn api(&self) -> String {
        format!("/api/v1/metrics/{}", enc(&self.key))
    }
}

/// `hours` as the page writes a window: `1 day`, `7 days`, `1 hour`, `36 hours`.
pub fn window_label(hours: i64) -> String {
    let (count, unit) = if hours > 0 && hours % 24 == 0 {
        (hours / 24, "day")
    } else {
        (hours, "hour")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// What defines a metric besides its kind and event, in short phrases.
pub fn metric_details(
    value_property: Option<&str>,
    ratio: Option<(&str, &str)>,
    quantile: Option<f64>,
    winsorize_at: Option<f64>,
) -> Vec<String> {
    let mut details = Vec::new();
    if let Some(property) = value_property {
        details.push(format!("value from property {property}"));
    }
    if let Some((numerator, denominator)) = ratio {
        details.push(format!("{numerator} / {denominator}"));
    }
    if let Some(q) = quantile {
        details.push(format!("p{}", (q * 1000.0).round() / 10.0));
    }
    if let Some(cap) = winsorize_at {
        details.push(format!("each entity capped at {cap}"));
    }
    details
}

/// `/ui/t/{tenant}/metrics`.
#[derive(Debug, Template)]
#[template(path = "metrics.html")]
pub struct MetricsPage {
    /// The frame.
    pub shell: Shell,
    /// The project's metrics, built-ins first.
    pub metrics: Vec<MetricEntry>,
    /// The keys of the metrics a ratio may read (the project's conversion, count and sum metrics).
    pub ratio_parts: Vec<String>,
}

impl MetricsPage {
    /// How many metrics the project defined itself.
    pub fn own_count(&self) -> usize {
        self.metrics.iter().filter(|m| !m.built_in).count()
    }

    /// The kinds the form offers.
    pub fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &METRIC_KINDS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::shell;

    fn revenue() -> MetricEntry {
        MetricEntry {
            key: "revenue".into(),
            name: "Revenue".into(),
            description: "What was paid".into(),
            kind: "sum",
            event: Some("purchase".into()),
            increase: true,
            window_hours: 168,
            guardrail: false,
            built_in: false,
            details: metric_details(Some("amount"), None, None, Some(500.0)),
        }
    }

    #[test]
    fn windows_and_details_read_plainly() {
        assert_eq!(window_label(168), "7 days");
        assert_eq!(window_label(24), "1 day");
        assert_eq!(window_label(36), "36 hours");
        assert_eq!(window_label(1), "1 hour");
        assert_eq!(
            metric_details(None, Some(("revenue", "visits")), Some(0.95), None),
            ["revenue / visits", "p95"]
        );
        assert_eq!(
            revenue().details,
            ["value from property amount", "each entity capped at 500"]
        );
        assert_eq!(revenue().api(), "/api/v1/metrics/revenue");
    }

    #[test]
    fn writers_get_the_form_and_delete_buttons_and_readers_only_the_list() {
        let mut error_rate = revenue();
        error_rate.key = "error_rate".into();
        error_rate.built_in = true;
        let page = |can_write: bool| MetricsPage {
            shell: Shell {
                can_write_flags: can_write,
                ..shell("metrics")
            },
            metrics: vec![error_rate.clone(), revenue()],
            ratio_parts: vec!["revenue".into()],
        };
        let html = page(true).render().unwrap();
        assert!(html.contains(r#"data-api="/api/v1/metrics" data-method="POST""#));
        assert!(html.contains(r#"data-api="/api/v1/metrics/revenue" data-method="DELETE""#));
        assert!(!html.contains(r#"data-api="/api/v1/metrics/error_rate""#));
        assert!(html.contains("Built in"));
        assert!(html.contains("7 days"));
        let html = page(false).render().unwrap();
        assert!(!html.contains(r#"data-api="/api/v1/metrics"#));
        assert!(html.contains("Revenue"));
    }
}
