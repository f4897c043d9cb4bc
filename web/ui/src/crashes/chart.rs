//! The crash rate chart of one flag on a crash group's page: a horizontal SVG bar per variant, its
//! length the group's crashes per entity exposed to that variant, on an axis from 0 to a round
//! maximum, with the variant's key before the bar and its rate after it.
//!
//! Invariant: pure functions of the numbers passed; coordinates are rounded to a tenth of a unit and
//! every bar stays inside the picture. A variant without exposures has no rate and so no bar.

use crate::results::number;
use crate::{SERIES_COLOURS, grouped};

/// The picture, in SVG user units.
const WIDTH: f64 = 560.0;
/// Room for the variants' keys before the bars.
const LABELS: f64 = 128.0;
/// Room for the rates after the bars.
const VALUES: f64 = 96.0;
/// One variant's row and its bar.
const ROW: f64 = 28.0;
const BAR: f64 = 16.0;
/// Room above the first row and for the axis labels below the last.
const TOP: f64 = 8.0;
const AXIS: f64 = 24.0;
/// Characters of a variant key written before its bar (the whole key is in the bar's title).
const LABEL_CHARS: usize = 18;

/// One variant's figures, as the crash rates use case computed them.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRate {
    /// The variant's key.
    pub variant: String,
    /// The group's crashes with it active.
    pub crashes: u64,
    /// Entities exposed to it.
    pub exposed: u64,
    /// Crashes per exposed entity; none without exposures.
    pub rate: Option<f64>,
}

/// One flag's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagRates {
    /// The flag's key.
    pub flag_key: String,
    /// The flag's results page, when the project has the flag.
    pub link: Option<String>,
    /// Its variants in the flag's order.
    pub variants: Vec<VariantRate>,
}

/// One variant's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct RateBar {
    /// The variant's key.
    pub variant: String,
    /// The key as written before the bar (shortened when long).
    pub label: String,
    /// Its colour class (`series-N`).
    pub class: String,
    /// The bar's top.
    pub y: f64,
    /// The baseline of its texts.
    pub text_y: f64,
    /// The bar's length; none without exposures.
    pub width: Option<f64>,
    /// Where the rate is written.
    pub value_x: f64,
    /// The rate (`0.120`), or `no exposures`.
    pub rate: String,
    /// Crashes, grouped.
    pub crashes: String,
    /// Entities exposed, grouped.
    pub exposed: String,
    /// The figures in words, for the bar's `<title>`.
    pub title: String,
}

/// One flag's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RateChart {
    /// The flag's key.
    pub flag_key: String,
    /// The flag's results page, when the project has the flag.
    pub link: Option<String>,
    /// The `viewBox` width.
    pub width: f64,
    /// The `viewBox` height.
    pub height: f64,
    /// Where the bars start (the axis).
    pub left: f64,
    /// Where the axis's maximum is.
    pub right: f64,
    /// The top of the plot.
    pub top: f64,
    /// The bottom of the plot.
    pub bottom: f64,
    /// Each bar's height.
    pub bar_height: f64,
    /// Where each axis label goes, and its text.
    pub ticks: Vec<(f64, String)>,
    /// One bar per variant.
    pub bars: Vec<RateBar>,
    /// What the chart shows, for its `<title>`.
    pub title: String,
}

impl RateChart {
    /// The chart of `flag`.
    pub fn new(flag: FlagRates) -> RateChart {
        let highest = flag
            .variants
            .iter()
            .filter_map(|v| v.rate)
            .fold(0.0, f64::max);
        let extent = nice_ceiling(highest);
        let span = WIDTH - LABELS - VALUES;
        let bottom = TOP + ROW * flag.variants.len() as f64;
        let ticks = [0.0, 0.5, 1.0]
            .into_iter()
            .map(|at| (round(LABELS + span * at), tick_text(extent * at)))
            .collect();
        let bars = flag
            .variants
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let row = TOP + ROW * i as f64;
                let width = v
                    .rate
                    .map(|r| round(span * (r / extent).clamp(0.0, 1.0)))
                    .map(|w| if v.crashes > 0 { w.max(1.0) } else { w });
                RateBar {
                    label: shortened(&v.variant),
                    class: format!("series-{}", i % SERIES_COLOURS),
                    y: round(row + (ROW - BAR) / 2.0),
                    text_y: round(row + ROW / 2.0 + 4.0),
                    value_x: round(LABELS + width.unwrap_or(0.0) + 6.0),
                    rate: rate_text(v.rate),
                    crashes: grouped(v.crashes),
                    exposed: grouped(v.exposed),
                    title: bar_title(&v),
                    width,
                    variant: v.variant,
                }
            })
            .collect();
        RateChart {
            title: format!(
                "Crashes of this group per exposed entity, by variant of {}",
                flag.flag_key
            ),
            flag_key: flag.flag_key,
            link: flag.link,
            width: WIDTH,
            height: bottom + AXIS,
            left: LABELS,
            right: LABELS + span,
            top: TOP,
            bottom,
            bar_height: BAR,
            ticks,
            bars,
        }
    }
}

/// A rate as the page writes it (`0.120`, `0`), or `no exposures`.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "no exposures".to_owned(), number)
}

/// An axis label without needless zeros: `0`, `0.025`, `0.1`, `2.5`.
pub fn tick_text(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

/// The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `value` (1 for nothing to
/// hold), so the axis ends on a round number.
pub fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powi(value.log10().floor() as i32);
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|c| *c >= value * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// The figures of `v` in words.
fn bar_title(v: &VariantRate) -> String {
    let crashes = match v.crashes {
        1 => "1 crash".to_owned(),
        n => format!("{} crashes", grouped(n)),
    };
    let exposed = match v.exposed {
        1 => "1 exposed entity".to_owned(),
        n => format!("{} exposed entities", grouped(n)),
    };
    match v.rate {
        Some(rate) => format!(
            "{}: {crashes} among {exposed}, {} per entity",
            v.variant,
            number(rate)
        ),
        None => format!("{}: {crashes}, no exposures", v.variant),
    }
}

/// `key`, cut to [`LABEL_CHARS`] characters with an ellipsis when longer.
fn shortened(key: &str) -> String {
    if key.chars().count() <= LABEL_CHARS {
        key.to_owned()
    } else {
        let cut: String = key.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(key: &str, crashes: u64, exposed: u64) -> VariantRate {
        VariantRate {
            variant: key.into(),
            crashes,
            exposed,
            rate: (exposed > 0).then(|| crashes as f64 / exposed as f64),
        }
    }

    #[test]
    fn the_axis_ends_on_a_round_number_holding_the_highest_rate() {
        assert_eq!(nice_ceiling(0.12), 0.2);
        assert_eq!(nice_ceiling(0.03), 0.05);
        assert_eq!(nice_ceiling(0.1), 0.1);
        assert_eq!(nice_ceiling(0.2), 0.2);
        assert_eq!(nice_ceiling(0.021), 0.025);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(7.5), 10.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::INFINITY), 1.0);
        assert_eq!(tick_text(0.0), "0");
        assert_eq!(tick_text(0.1), "0.1");
        assert_eq!(tick_text(0.025), "0.025");
        assert_eq!(tick_text(2.5), "2.5");
        assert_eq!(tick_text(10.0), "10");
        assert_eq!(rate_text(Some(0.12)), "0.120");
        assert_eq!(rate_text(Some(0.0)), "0");
        assert_eq!(rate_text(None), "no exposures");
    }

    #[test]
    fn each_bar_is_its_rate_on_the_axis_with_its_figures() {
        // 3 of 100 and 12 of 100 on an axis to 0.2: 336 units hold 0.2, so 0.03 → 50.4, 0.12 → 201.6.
        let chart = RateChart::new(FlagRates {
            flag_key: "checkout".into(),
            link: Some("/ui/t/acme/flags/7/experiment".into()),
            variants: vec![variant("control", 3, 100), variant("treatment", 12, 100)],
        });
        assert_eq!(
            (
                chart.left,
                chart.right,
                chart.top,
                chart.bottom,
                chart.height
            ),
            (128.0, 464.0, 8.0, 64.0, 88.0)
        );
        assert_eq!(
            chart.ticks,
            vec![
                (128.0, "0".into()),
                (296.0, "0.1".into()),
                (464.0, "0.2".into())
            ]
        );
        let control = &chart.bars[0];
        assert_eq!(
            (control.width, control.y, control.text_y, control.value_x),
            (Some(50.4), 14.0, 26.0, 184.4)
        );
        assert_eq!(
            (control.rate.as_str(), control.class.as_str()),
            ("0.0300", "series-0")
        );
        assert_eq!(
            control.title,
            "control: 3 crashes among 100 exposed entities, 0.0300 per entity"
        );
        let treatment = &chart.bars[1];
        assert_eq!((treatment.width, treatment.y), (Some(201.6), 42.0));
        assert_eq!(
            (treatment.rate.as_str(), treatment.class.as_str()),
            ("0.120", "series-1")
        );
        assert_eq!(
            chart.title,
            "Crashes of this group per exposed entity, by variant of checkout"
        );
    }

    #[test]
    fn variants_without_exposures_or_crashes_draw_no_bar_or_an_empty_one() {
        let chart = RateChart::new(FlagRates {
            flag_key: "theme".into(),
            link: None,
            variants: vec![
                variant("dark", 1, 0),
                variant("light", 0, 1_500),
                variant("rare", 1, 1_000_000),
                variant("a-very-long-variant-key-indeed", 2, 4),
            ],
        });
        let dark = &chart.bars[0];
        assert_eq!((dark.width, dark.rate.as_str()), (None, "no exposures"));
        assert_eq!(dark.title, "dark: 1 crash, no exposures");
        assert_eq!(dark.value_x, 134.0);
        let light = &chart.bars[1];
        assert_eq!((light.width, light.rate.as_str()), (Some(0.0), "0"));
        assert_eq!(light.exposed, "1,500");
        // A crash among a million still shows as a sliver.
        assert_eq!(chart.bars[2].width, Some(1.0));
        let long = &chart.bars[3];
        assert_eq!(long.label, "a-very-long-varia…");
        assert_eq!(long.width, Some(336.0));
        assert_eq!(chart.ticks[2].1, "0.5");
    }
}
