//! A flag's experiments view: the variant split its configuration asks for against the evaluations it
//! actually served, over time, drawn as SVG on the server (no script needed to display it), and a
//! sample-ratio check per segment (computed by the evaluation domain's statistics; this module only
//! shows them), followed by the results measured from exposures and events (`crate::results`).
//!
//! Invariant: every figure here is computed from the counts the handler passes; the chart's geometry
//! is plain numbers in attributes (no style attributes, colours come from CSS classes), so the page
//! keeps its strict Content-Security-Policy.

use crate::views::Shell;
use askama::Template;

/// The chart's drawing area, in SVG user units.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
/// Room for the axis labels.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;
const RIGHT: f64 = 12.0;

/// How many colours the series cycle through (`series-0` … in `app.css`).
pub const SERIES_COLOURS: usize = 8;

/// `/ui/t/{tenant}/flags/{id}/experiment`.
#[derive(Debug, Template)]
#[template(path = "experiment.html")]
pub struct ExperimentPage {
    /// The frame.
    pub shell: Shell,
    /// The flag's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Whether it is on in this environment.
    pub enabled: bool,
    /// The periods one can look at; the chosen one is marked.
    pub ranges: Vec<RangeLink>,
    /// Evaluations in the period, grouped for reading ("12,345").
    pub total: String,
    /// Evaluations that served no variant (flag off, no segment matched, rollout).
    pub unserved: String,
    /// Each variant: served, observed share, and the share the configuration predicts.
    pub variants: Vec<VariantShare>,
    /// The observed share of each variant per time bucket, against the predicted share.
    pub shares: Chart,
    /// Evaluations served per variant and time bucket.
    pub volume: Chart,
    /// The sample-ratio check of each segment that splits between variants.
    pub segments: Vec<SegmentCheck>,
    /// The experiment's results from exposures and events (`crate::results`).
    pub results: crate::ResultsView,
}

impl ExperimentPage {
    /// The flag's page, relative to the tenant.
    pub fn flag_page(&self) -> String {
        format!("flags/{}", self.id)
    }

    /// Whether anything was evaluated in the period.
    pub fn has_data(&self) -> bool {
        self.total != "0"
    }

    /// The crash groups of this environment with crashes under the flag.
    pub fn crash_groups(&self) -> String {
        crate::crashes_link(&self.shell, &self.key, None)
    }
}

/// A period to show.
#[derive(Debug, Clone)]
pub struct RangeLink {
    /// Its label ("Last 24 hours").
    pub label: &'static str,
    /// The page for it.
    pub href: String,
    /// Whether it is the one shown.
    pub current: bool,
}

/// One variant's figures over the period.
#[derive(Debug, Clone)]
pub struct VariantShare {
    /// Its key (or `#id (deleted)` for a variant that no longer exists).
    pub key: String,
    /// Its colour class.
    pub class: String,
    /// Evaluations that served it, grouped.
    pub served: String,
    /// Its share of the evaluations that served a variant ("48.9%").
    pub observed: String,
    /// The share the configuration predicts for the evaluations each segment matched, if any.
    pub expected: Option<String>,
}

/// The sample-ratio check of one segment.
#[derive(Debug, Clone)]
pub struct SegmentCheck {
    /// The segment's description (or `#id` for one that no longer exists).
    pub name: String,
    /// Evaluations it matched that served a variant, grouped.
    pub served: String,
    /// Per variant: key, colour class, configured percent, observed share.
    pub rows: Vec<(String, String, i64, String)>,
    /// What the check found.
    pub verdict: CheckVerdict,
}

/// What a segment's sample-ratio check found, as the page shows it (the check itself is
/// `flagent_evaluation::statistics::sample_ratio`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckVerdict {
    /// Too few evaluations to tell.
    pub too_few: bool,
    /// The observed split departs from the configured one (p < 0.001).
    pub mismatch: bool,
    /// The chi-square statistic, formatted (empty when too few).
    pub statistic: String,
}

impl CheckVerdict {
    /// A verdict from the check's outcome: too few, or the statistic and whether it is a mismatch.
    pub fn new(chi_square: Option<f64>, mismatch: bool) -> Self {
        CheckVerdict {
            too_few: chi_square.is_none(),
            mismatch,
            statistic: chi_square.map_or_else(String::new, |c| format!("{c:.2}")),
        }
    }

    /// Whether the check found a mismatch.
    pub fn is_mismatch(&self) -> bool {
        self.mismatch
    }

    /// Whether the check could not be made.
    pub fn is_too_few(&self) -> bool {
        self.too_few
    }

    /// The statistic, formatted, when the check was made.
    pub fn statistic(&self) -> String {
        self.statistic.clone()
    }
}

/// A line chart drawn as SVG.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// The `viewBox` width and height.
    pub width: f64,
    /// See `width`.
    pub height: f64,
    /// One polyline per series.
    pub series: Vec<Series>,
    /// Dashed horizontal lines (colour class, y).
    pub guides: Vec<(String, f64)>,
    /// Labels of the vertical axis (y, text).
    pub y_ticks: Vec<(f64, String)>,
    /// Labels of the horizontal axis (x, text, `text-anchor`: the first starts at its point, the
    /// last ends there, so neither leaves the picture).
    pub x_ticks: Vec<(f64, String, &'static str)>,
    /// The plot area's edges: left, right, top, bottom.
    pub frame: (f64, f64, f64, f64),
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its colour class.
    pub class: String,
    /// What it shows, for the legend and the SVG's title.
    pub label: String,
    /// The polyline's points (`x,y x,y …`); empty when it has none.
    pub points: String,
    /// The same points, each drawn as a dot (a lone point draws no line).
    pub dots: Vec<(f64, f64)>,
}

/// A line per series over `buckets` (values per bucket; `None` where there is nothing to show, which
/// breaks nothing but leaves the point out), on a vertical scale from 0 to `top`, with `guides` as
/// dashed lines and the axes labelled by `y_label` and `x_labels` (bucket index, text).
pub fn line_chart(
    series: Vec<(String, String, Vec<Option<f64>>)>,
    top: f64,
    guides: Vec<(String, f64)>,
    y_label: impl Fn(f64) -> String,
    x_labels: &[(usize, String)],
    buckets: usize,
) -> Chart {
    let top = if top > 0.0 { top } else { 1.0 };
    let (left, right, upper, lower) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let x = |i: usize| {
        if buckets <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (buckets - 1) as f64
        }
    };
    let y = |v: f64| lower - (lower - upper) * (v / top).clamp(0.0, 1.0);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    Chart {
        width: WIDTH,
        height: HEIGHT,
        series: series
            .into_iter()
            .map(|(class, label, values)| {
                let dots: Vec<(f64, f64)> = values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (round(x(i)), round(y(v)))))
                    .collect();
                Series {
                    class,
                    label,
                    points: dots
                        .iter()
                        .map(|(x, y)| format!("{x},{y}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    dots,
                }
            })
            .collect(),
        guides: guides
            .into_iter()
            .map(|(class, v)| (class, round(y(v))))
            .collect(),
        y_ticks: [0.0, 0.5, 1.0]
            .iter()
            .map(|f| (round(y(top * f)), y_label(top * f)))
            .collect(),
        x_ticks: x_labels
            .iter()
            .map(|(i, text)| {
                let anchor = match i {
                    0 => "start",
                    i if *i + 1 >= buckets => "end",
                    _ => "middle",
                };
                (round(x(*i)), text.clone(), anchor)
            })
            .collect(),
        frame: (left, right, upper, lower),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_shows_its_statistic_and_kind() {
        let mismatch = CheckVerdict::new(Some(16.0), true);
        assert!(mismatch.is_mismatch() && !mismatch.is_too_few());
        assert_eq!(mismatch.statistic(), "16.00");
        let too_few = CheckVerdict::new(None, false);
        assert!(too_few.is_too_few() && too_few.statistic().is_empty());
    }

    #[test]
    fn the_chart_maps_values_into_the_plot_area_and_skips_gaps() {
        let chart = line_chart(
            vec![(
                "series-0".into(),
                "on".into(),
                vec![Some(0.0), None, Some(1.0)],
            )],
            1.0,
            vec![("series-0".into(), 0.5)],
            |v| format!("{:.0}%", v * 100.0),
            &[(0, "a".into()), (2, "c".into())],
            3,
        );
        let (left, right, top, bottom) = chart.frame;
        assert_eq!(
            chart.series[0].points,
            format!("{left},{bottom} {right},{top}")
        );
        assert_eq!(chart.guides[0].1, (top + bottom) / 2.0);
        assert_eq!(chart.y_ticks[2], (top, "100%".to_owned()));
        assert_eq!(chart.x_ticks[1], (right, "c".to_owned(), "end"));
        assert_eq!(chart.series[0].dots, [(left, bottom), (right, top)]);
    }
}
