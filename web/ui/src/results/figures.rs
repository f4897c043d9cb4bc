//! The figures of the results tables as text, and the interval bar each treatment's lift is drawn
//! with: a horizontal SVG bar for the 95% interval of the relative difference on an axis centred at 0,
//! with a tick at the point estimate.
//!
//! Invariant: pure functions of the numbers passed; coordinates are rounded to a tenth of a unit and
//! every value is clamped into the picture, so a huge or infinite interval still draws inside it.

/// The bar's picture, in SVG user units.
pub(crate) const BAR_WIDTH: f64 = 160.0;
/// See [`BAR_WIDTH`].
pub(crate) const BAR_HEIGHT: f64 = 20.0;
/// Room left at each end of the axis.
const BAR_PAD: f64 = 4.0;
/// The axis extents offered (a relative difference of ±1%, ±2%, … ±1000%).
const EXTENTS: [f64; 10] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];

/// How a treatment compares with the control, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Too few entities or conversions yet.
    Collecting,
    /// Significantly better.
    Better,
    /// Significantly worse.
    Worse,
    /// No difference shown.
    Inconclusive,
}

impl Verdict {
    /// The badge's text.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Collecting => "Collecting data",
            Verdict::Better => "Treatment is better",
            Verdict::Worse => "Treatment is worse",
            Verdict::Inconclusive => "Inconclusive",
        }
    }

    /// The CSS class of its badge and bar (`better`, `worse`, or `neutral`).
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Collecting => "collecting",
            Verdict::Inconclusive => "neutral",
        }
    }
}

/// The interval bar of one treatment.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalBar {
    /// The `viewBox` width.
    pub width: f64,
    /// The `viewBox` height.
    pub height: f64,
    /// Where 0 is (the axis line).
    pub zero: f64,
    /// Where the interval starts.
    pub x: f64,
    /// How long it is (at least 1, so a very narrow interval stays visible).
    pub span: f64,
    /// Where the point estimate is (the tick).
    pub point: f64,
    /// `better`, `worse` or `neutral`: green, red or grey.
    pub class: &'static str,
    /// The numbers, for the SVG's `<title>` and label.
    pub title: String,
}

/// A relative difference with its sign: `+12.3%`, `−4.5%`, `0.0%`.
pub(crate) fn signed_percent(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 10.0;
    if rounded > 0.0 {
        format!("+{rounded:.1}%")
    } else if rounded < 0.0 {
        format!("\u{2212}{:.1}%", -rounded)
    } else {
        "0.0%".to_owned()
    }
}

/// A share or a probability as a percentage, one decimal (`97.5%`), two under 1% (`0.52%`).
pub(crate) fn percent(value: f64) -> String {
    let p = value * 100.0;
    if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A share of a split without a needless decimal: `50%`, `33.3%`.
pub(crate) fn share(value: f64) -> String {
    let text = format!("{:.1}", value * 100.0);
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

/// A p-value: four decimals under 0.01, three under 0.1, two above, and `< 0.0001` below that.
pub(crate) fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".to_owned()
    } else if p < 0.01 {
        format!("{p:.4}")
    } else if p < 0.1 {
        format!("{p:.3}")
    } else {
        format!("{p:.2}")
    }
}

/// `p = 0.0004`, or `p < 0.0001`.
pub(crate) fn p_statement(p: f64) -> String {
    let text = p_value(p);
    if text.starts_with('<') {
        format!("p {text}")
    } else {
        format!("p = {text}")
    }
}

/// A mean, count, ratio or quantile with about four significant digits: `12,346`, `123.5`, `1.25`,
/// `0.0123`.
pub(crate) fn number(value: f64) -> String {
    let a = value.abs();
    let sign = if value < 0.0 { "\u{2212}" } else { "" };
    if !value.is_finite() {
        return "—".to_owned();
    }
    if a == 0.0 {
        return "0".to_owned();
    }
    if a >= 1000.0 {
        return format!("{sign}{}", crate::grouped(a.round() as u64));
    }
    let decimals = if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        ((-a.log10()).floor() as usize + 3).min(6)
    };
    format!("{sign}{a:.decimals$}")
}

/// The axis extent for intervals reaching `bounds`: the smallest of ±1%, ±2%, ±5% … ±1000% that
/// holds them all (±1000% when none does, and ±10% when there is nothing to hold).
pub fn axis_extent(bounds: impl IntoIterator<Item = f64>) -> f64 {
    let widest = bounds
        .into_iter()
        .filter(|b| b.is_finite())
        .map(f64::abs)
        .fold(0.0, f64::max);
    if widest == 0.0 {
        return 0.1;
    }
    EXTENTS
        .into_iter()
        .find(|e| *e >= widest)
        .unwrap_or(EXTENTS[EXTENTS.len() - 1])
}

/// The bar of a lift `lift` with the 95% interval `interval` on an axis from −`extent` to
/// +`extent`, coloured by `verdict`.
pub fn interval_bar(lift: f64, interval: [f64; 2], extent: f64, verdict: Verdict) -> IntervalBar {
    let half = BAR_WIDTH / 2.0 - BAR_PAD;
    let x = |v: f64| {
        let at = if v.is_nan() { 0.0 } else { v / extent };
        round(BAR_WIDTH / 2.0 + at.clamp(-1.0, 1.0) * half)
    };
    let (lo, hi) = (
        x(interval[0].min(interval[1])),
        x(interval[0].max(interval[1])),
    );
    let span = (hi - lo).max(1.0);
    IntervalBar {
        width: BAR_WIDTH,
        height: BAR_HEIGHT,
        zero: BAR_WIDTH / 2.0,
        x: round(lo.min(BAR_WIDTH - BAR_PAD - span)),
        span: round(span),
        point: x(lift),
        class: match verdict {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Collecting | Verdict::Inconclusive => "neutral",
        },
        title: format!(
            "Lift {}, 95% interval {} to {} (axis ±{})",
            signed_percent(lift),
            signed_percent(interval[0]),
            signed_percent(interval[1]),
            share(extent)
        ),
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_with_sensible_precision() {
        assert_eq!(signed_percent(1.0), "+100.0%");
        assert_eq!(signed_percent(-0.0451), "\u{2212}4.5%");
        assert_eq!(signed_percent(-0.00001), "0.0%");
        assert_eq!(percent(0.975_069_898), "97.5%");
        assert_eq!(percent(0.1), "10.0%");
        assert_eq!(percent(0.0052), "0.52%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(share(0.5), "50%");
        assert_eq!(share(1.0 / 3.0), "33.3%");
        assert_eq!(p_value(0.005_101_399), "0.0051");
        assert_eq!(p_value(0.692_736), "0.69");
        assert_eq!(p_value(0.0512), "0.051");
        assert_eq!(p_value(1.5e-23), "< 0.0001");
        assert_eq!(p_statement(0.000_42), "p = 0.0004");
        assert_eq!(p_statement(1e-9), "p < 0.0001");
        assert_eq!(number(12_345.678), "12,346");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(1.254), "1.25");
        assert_eq!(number(0.5), "0.500");
        assert_eq!(number(0.012_34), "0.0123");
        assert_eq!(number(-2.5), "\u{2212}2.50");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::INFINITY), "—");
    }

    #[test]
    fn the_axis_is_the_smallest_round_extent_holding_every_interval() {
        assert_eq!(axis_extent([0.2, 1.8, -0.3]), 2.0);
        assert_eq!(axis_extent([-0.04, 0.01]), 0.05);
        assert_eq!(axis_extent([0.5]), 0.5);
        assert_eq!(axis_extent([40.0, f64::INFINITY]), 10.0);
        assert_eq!(axis_extent([]), 0.1);
    }

    #[test]
    fn the_bar_spans_the_interval_around_zero_with_a_tick_at_the_lift() {
        // ±2 over 76 units each side of 80: 0.2 → 87.6, 1.8 → 148.4, 1.0 → 118.
        let bar = interval_bar(1.0, [0.2, 1.8], 2.0, Verdict::Better);
        assert_eq!(
            bar,
            IntervalBar {
                width: 160.0,
                height: 20.0,
                zero: 80.0,
                x: 87.6,
                span: 60.8,
                point: 118.0,
                class: "better",
                title: "Lift +100.0%, 95% interval +20.0% to +180.0% (axis ±200%)".to_owned(),
            }
        );
    }

    #[test]
    fn the_bar_stays_in_the_picture_and_is_grey_unless_significant() {
        let bar = interval_bar(-0.5, [-3.0, 0.25], 0.5, Verdict::Inconclusive);
        assert_eq!((bar.x, bar.span, bar.point), (4.0, 114.0, 4.0));
        assert_eq!(bar.class, "neutral");
        let worse = interval_bar(-0.1, [-0.1, -0.1], 0.1, Verdict::Worse);
        assert_eq!((worse.x, worse.span, worse.class), (4.0, 1.0, "worse"));
        assert_eq!(
            interval_bar(0.0, [0.0, 0.0], 0.1, Verdict::Collecting).class,
            "neutral"
        );
    }

    #[test]
    fn verdicts_read_in_plain_language() {
        assert_eq!(Verdict::Collecting.label(), "Collecting data");
        assert_eq!(Verdict::Better.label(), "Treatment is better");
        assert_eq!(Verdict::Worse.label(), "Treatment is worse");
        assert_eq!(Verdict::Inconclusive.label(), "Inconclusive");
        assert_eq!(Verdict::Better.class(), "better");
    }
}
