//! The funnel chart: per step a group of vertical bars, one per variant, whose height is the share
//! of the variant's exposed entities that reached the step, with the Wilson 95% interval as a whisker
//! and the step-to-step rate written above it.
//!
//! Invariant: pure functions of the figures passed; coordinates are rounded to a tenth of a unit and
//! every share is clamped into the scale, so an interval reaching past it still draws inside the
//! picture.

use super::{FunnelFigures, axis_top};
use crate::SERIES_COLOURS;
use crate::results::{percent, share};

/// The picture, in SVG user units.
pub(crate) const WIDTH: f64 = 720.0;
/// See [`WIDTH`].
pub(crate) const HEIGHT: f64 = 260.0;
/// Room for the vertical axis' labels.
const LEFT: f64 = 48.0;
/// Room after the last group.
const RIGHT: f64 = 12.0;
/// Room above the tallest bar for its rate label.
const TOP: f64 = 24.0;
/// Room for the steps' names.
const BOTTOM: f64 = 28.0;
/// The widest a bar gets.
const MAX_BAR: f64 = 56.0;
/// The space between two bars of a group.
const GAP: f64 = 4.0;
/// The share of each group's width left empty on either side.
const GROUP_PAD: f64 = 0.12;

/// One variant's bar at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelBar {
    /// The variant's key.
    pub variant: String,
    /// The step's metric key.
    pub step: String,
    /// The colour class (`series-0` …).
    pub class: String,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height (0 when no entity was exposed).
    pub height: f64,
    /// The whisker's horizontal position (the bar's middle).
    pub centre: f64,
    /// The whisker's ends (top, bottom), when there is an interval.
    pub whisker: Option<(f64, f64)>,
    /// Where the rate label's baseline is.
    pub label_y: f64,
    /// The step-to-step rate (`50.0%`), or `—`.
    pub label: String,
    /// What the bar shows, for its `<title>`.
    pub title: String,
}

/// The chart: the bars and the axes' labels.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelChart {
    /// The `viewBox` width.
    pub width: f64,
    /// The `viewBox` height.
    pub height: f64,
    /// The plot area's edges: left, right, top, bottom.
    pub frame: (f64, f64, f64, f64),
    /// Labels of the vertical axis (y, text).
    pub y_ticks: Vec<(f64, String)>,
    /// Each step's name under its group (x, text).
    pub x_ticks: Vec<(f64, String)>,
    /// Every bar, step by step, variants in order.
    pub bars: Vec<FunnelBar>,
    /// The legend: colour class and variant key.
    pub legend: Vec<(String, String)>,
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The optional share `value` as text, or `—`.
fn or_dash(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), percent)
}

/// The chart of `figures`.
pub fn funnel_chart(figures: &FunnelFigures) -> FunnelChart {
    let top = axis_top(figures);
    let (left, right, upper, lower) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let y = |v: f64| round(lower - (lower - upper) * (v / top).clamp(0.0, 1.0));
    let steps = figures.steps.len().max(1);
    let variants = figures.variants.len().max(1);
    let group = (right - left) / steps as f64;
    let inner = group * (1.0 - 2.0 * GROUP_PAD);
    let bar = ((inner - GAP * (variants - 1) as f64) / variants as f64).min(MAX_BAR);
    let used = bar * variants as f64 + GAP * (variants - 1) as f64;
    let mut bars = Vec::new();
    for (s, step) in figures.steps.iter().enumerate() {
        let start = left + group * s as f64 + (group - used) / 2.0;
        for (v, variant) in figures.variants.iter().enumerate() {
            let Some(figure) = variant.steps.get(s) else {
                continue;
            };
            let x = start + (bar + GAP) * v as f64;
            let overall = figure.overall.unwrap_or(0.0);
            let whisker = figure
                .overall_ci95
                .map(|[lo, hi]| (y(hi.max(lo)), y(lo.min(hi))));
            let top_y = whisker.map_or(y(overall), |(hi, _)| hi.min(y(overall)));
            let title = format!(
                "{}, {}: {} of the exposed (95% interval {}), {} of the step before",
                variant.variant,
                step,
                or_dash(figure.overall),
                figure.overall_ci95.map_or_else(
                    || "—".to_owned(),
                    |[lo, hi]| format!("{} to {}", percent(lo), percent(hi))
                ),
                or_dash(figure.rate),
            );
            bars.push(FunnelBar {
                variant: variant.variant.clone(),
                step: step.clone(),
                class: format!("series-{}", v % SERIES_COLOURS),
                x: round(x),
                y: y(overall),
                width: round(bar),
                height: round(lower - y(overall)),
                centre: round(x + bar / 2.0),
                whisker,
                label_y: round(top_y - 6.0),
                label: or_dash(figure.rate),
                title,
            });
        }
    }
    FunnelChart {
        width: WIDTH,
        height: HEIGHT,
        frame: (left, right, upper, lower),
        y_ticks: [0.0, 0.5, 1.0]
            .iter()
            .map(|f| (y(top * f), share(top * f)))
            .collect(),
        x_ticks: figures
            .steps
            .iter()
            .enumerate()
            .map(|(s, step)| (round(left + group * (s as f64 + 0.5)), step.clone()))
            .collect(),
        bars,
        legend: figures
            .variants
            .iter()
            .enumerate()
            .map(|(v, variant)| {
                (
                    format!("series-{}", v % SERIES_COLOURS),
                    variant.variant.clone(),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funnel::{StepFigures, VariantFigures};

    fn step(entities: u64, rate: f64, overall: f64, ci: [f64; 2]) -> StepFigures {
        StepFigures {
            entities,
            rate: Some(rate),
            rate_ci95: None,
            overall: Some(overall),
            overall_ci95: Some(ci),
        }
    }

    fn figures() -> FunnelFigures {
        FunnelFigures {
            steps: vec!["visit".into(), "buy".into()],
            variants: vec![
                VariantFigures {
                    variant: "control".into(),
                    control: true,
                    exposed: 100,
                    steps: vec![
                        step(60, 0.6, 0.6, [0.5, 0.7]),
                        step(30, 0.5, 0.3, [0.2, 0.4]),
                    ],
                    completion: None,
                },
                VariantFigures {
                    variant: "treatment".into(),
                    control: false,
                    exposed: 100,
                    steps: vec![
                        step(80, 0.8, 0.8, [0.7, 0.9]),
                        step(20, 0.25, 0.2, [0.1, 0.3]),
                    ],
                    completion: None,
                },
            ],
        }
    }

    #[test]
    fn bars_are_grouped_by_step_and_as_tall_as_the_overall_share() {
        let chart = funnel_chart(&figures());
        // The scale is 0 to 100%: the plot is 24 to 232, 208 units for 100%.
        assert_eq!(chart.frame, (48.0, 708.0, 24.0, 232.0));
        assert_eq!(
            chart.y_ticks,
            vec![
                (232.0, "0%".to_owned()),
                (128.0, "50%".to_owned()),
                (24.0, "100%".to_owned())
            ]
        );
        // Two groups of 330 units; each bar 56 wide, the pair 116 wide, centred in its group.
        assert_eq!(
            chart.x_ticks,
            vec![(213.0, "visit".to_owned()), (543.0, "buy".to_owned())]
        );
        let bars = &chart.bars;
        assert_eq!(bars.len(), 4);
        let first = &bars[0];
        assert_eq!(
            (first.variant.as_str(), first.step.as_str()),
            ("control", "visit")
        );
        // 0.6 → 232 − 124.8 = 107.2.
        assert_eq!(
            (first.x, first.width, first.y, first.height),
            (155.0, 56.0, 107.2, 124.8)
        );
        assert_eq!(first.centre, 183.0);
        assert_eq!(first.whisker, Some((86.4, 128.0)));
        assert_eq!((first.label.as_str(), first.label_y), ("60.0%", 80.4));
        assert_eq!(first.class, "series-0");
        let treatment_buy = &bars[3];
        assert_eq!(treatment_buy.x, 545.0);
        assert_eq!((treatment_buy.y, treatment_buy.height), (190.4, 41.6));
        assert_eq!(treatment_buy.class, "series-1");
        assert_eq!(treatment_buy.label, "25.0%");
        assert_eq!(
            treatment_buy.title,
            "treatment, buy: 20.0% of the exposed (95% interval 10.0% to 30.0%), 25.0% of the step before"
        );
        assert_eq!(
            chart.legend,
            vec![
                ("series-0".to_owned(), "control".to_owned()),
                ("series-1".to_owned(), "treatment".to_owned())
            ]
        );
    }

    #[test]
    fn a_small_funnel_gets_a_finer_scale_and_nothing_leaves_the_picture() {
        let mut small = figures();
        for v in &mut small.variants {
            for s in &mut v.steps {
                s.overall = s.overall.map(|o| o / 10.0);
                s.overall_ci95 = s.overall_ci95.map(|[lo, hi]| [lo / 10.0, hi / 10.0]);
            }
        }
        // The highest bound is 9%: the scale is 0 to 10%.
        let chart = funnel_chart(&small);
        assert_eq!(chart.y_ticks[2], (24.0, "10%".to_owned()));
        assert_eq!(chart.bars[0].y, 107.2);
        // An interval past the scale is clamped to its top.
        small.variants[0].steps[0].overall_ci95 = Some([0.05, 2.0]);
        let clamped = funnel_chart(&small);
        assert_eq!(clamped.bars[0].whisker.map(|w| w.0), Some(24.0));
    }

    #[test]
    fn nobody_exposed_draws_empty_bars_and_dashes() {
        let mut empty = figures();
        empty.variants[1].steps = vec![StepFigures::default(), StepFigures::default()];
        let chart = funnel_chart(&empty);
        let bar = &chart.bars[1];
        assert_eq!((bar.height, bar.y, bar.whisker), (0.0, 232.0, None));
        assert_eq!(bar.label, "—");
        assert!(bar.title.contains("— of the exposed (95% interval —)"));
    }
}
