//! One metric's comparison of a treatment variant with the control, from the two variants' sums:
//! which test the metric's kind calls for, CUPED when there is data from before exposure, the
//! Bayesian and sequential summaries, and the plain-language status.

use crate::metrics::{Direction, MetricKind};
use flagent_stats::{
    Estimate, Interval, Paired, QuantileSketch, bayes, cuped, mixing_variance, msprt, relative,
    two_proportion, welch, z_test,
};
use serde::Serialize;

/// The two-sided significance level.
pub const ALPHA: f64 = 0.05;
/// Entities each variant needs before a status other than `collecting`.
pub const MIN_EXPOSED: u64 = 100;
/// Conversions each variant needs, for a conversion metric.
pub const MIN_CONVERSIONS: u64 = 10;
/// The per-variant sample size the sequential interval is tuned to be tightest at.
pub const SEQUENTIAL_TUNED_AT: f64 = 10_000.0;

/// One variant's sums of one metric.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    /// Entities exposed.
    pub(crate) exposed: u64,
    /// Sums of (x, y) over the exposed entities.
    pub(crate) paired: Paired,
    /// Entities whose value is not zero.
    pub(crate) nonzero: u64,
    /// Event values, for a quantile metric.
    pub(crate) sketch: QuantileSketch,
}

/// What a metric is, for comparing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) kind: MetricKind,
    pub(crate) direction: Direction,
    pub(crate) quantile: Option<f64>,
}

/// The plain-language verdict of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Too few entities (or conversions) to say anything yet.
    Collecting,
    /// The treatment is better, at the significance level.
    SignificantBetter,
    /// The treatment is worse, at the significance level.
    SignificantWorse,
    /// No difference shown yet.
    Inconclusive,
}

/// The sequential (always-valid) summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SequentialView {
    /// Its interval of the absolute difference.
    pub ci95: [f64; 2],
    /// Its p-value.
    pub p_value: f64,
}

/// A treatment against the control on one metric.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Treatment − control.
    pub abs_diff: f64,
    /// Treatment / control − 1.
    pub rel_diff: Option<f64>,
    /// The 95% interval of the absolute difference.
    pub ci95: [f64; 2],
    /// The 95% interval of the relative difference.
    pub rel_ci95: Option<[f64; 2]>,
    /// The fixed-horizon two-sided p-value.
    pub p_value: f64,
    /// The always-valid p-value and interval.
    pub sequential: SequentialView,
    /// The Bayesian chance that the treatment is better.
    pub chance_to_beat: Option<f64>,
    /// The Bayesian expected loss (relative) of choosing the treatment.
    pub expected_loss: Option<f64>,
    /// Whether CUPED adjusted the estimates.
    pub cuped: bool,
    /// The relative variance reduction CUPED achieved.
    pub variance_reduction: Option<f64>,
}

/// A variant's value on a metric: the rate or mean (or ratio, or quantile) and its spread.
pub(crate) fn value(shape: Shape, sums: &Sums) -> (Option<f64>, Option<f64>) {
    match shape.kind {
        MetricKind::Mean | MetricKind::Ratio => {
            let e = Estimate::ratio(&sums.paired);
            (e.map(|e| e.mean), None)
        }
        MetricKind::Quantile => (sums.sketch.quantile(shape.quantile.unwrap_or(0.5)), None),
        _ => {
            let m = sums.paired.x();
            (m.mean(), m.variance().map(f64::sqrt))
        }
    }
}

/// Compares `t` with `c`; `None` when the data cannot support a comparison yet.
pub(crate) fn compare(
    shape: Shape,
    c: &Sums,
    t: &Sums,
) -> Option<(Comparison, Estimate, Estimate)> {
    let (control, treatment, test, adjusted) = estimates(shape, c, t)?;
    let better = shape.direction == Direction::Increase;
    let rel = relative(&control, &treatment, ALPHA);
    let bayes = bayes(&control, &treatment, better, ALPHA);
    let variance = control.variance + treatment.variance;
    let per_entity = control.variance * control.n as f64;
    let tau_sq = mixing_variance(per_entity, SEQUENTIAL_TUNED_AT, ALPHA)?;
    let sequential = msprt(test.diff, variance, tau_sq, ALPHA)?;
    let comparison = Comparison {
        abs_diff: test.diff,
        rel_diff: rel.map(|r| r.0),
        ci95: pair(test.ci),
        rel_ci95: rel.map(|r| pair(r.1)),
        p_value: test.p_value,
        sequential: SequentialView {
            ci95: pair(sequential.ci),
            p_value: sequential.p_value,
        },
        chance_to_beat: bayes.map(|b| b.chance_to_beat),
        expected_loss: bayes.map(|b| b.expected_loss),
        cuped: adjusted.is_some(),
        variance_reduction: adjusted,
    };
    Some((comparison, control, treatment))
}

fn pair(ci: Interval) -> [f64; 2] {
    [ci.lo, ci.hi]
}

type Estimates = (Estimate, Estimate, flagent_stats::Test, Option<f64>);

/// The two variants' estimates and the fixed-horizon test their kind calls for, CUPED-adjusted
/// (with the variance reduction) when both have data from before exposure.
fn estimates(shape: Shape, c: &Sums, t: &Sums) -> Option<Estimates> {
    match shape.kind {
        MetricKind::Mean | MetricKind::Ratio => {
            let (ce, te) = (Estimate::ratio(&c.paired)?, Estimate::ratio(&t.paired)?);
            Some((ce, te, z_test(&ce, &te, ALPHA)?, None))
        }
        MetricKind::Quantile => {
            let q = shape.quantile?;
            let (ce, te) = (c.sketch.estimate(q, ALPHA)?, t.sketch.estimate(q, ALPHA)?);
            Some((ce, te, z_test(&ce, &te, ALPHA)?, None))
        }
        MetricKind::Conversion | MetricKind::Count | MetricKind::Sum => {
            if let Some(adjusted) = with_cuped(c, t) {
                return Some(adjusted);
            }
            if shape.kind == MetricKind::Conversion {
                let (ce, te) = (
                    Estimate::proportion(c.nonzero, c.exposed)?,
                    Estimate::proportion(t.nonzero, t.exposed)?,
                );
                let test = two_proportion((c.nonzero, c.exposed), (t.nonzero, t.exposed), ALPHA)?;
                return Some((ce, te, test, None));
            }
            let (cm, tm) = (c.paired.x(), t.paired.x());
            let test = welch(&cm, &tm, ALPHA)?;
            Some((Estimate::mean_of(&cm)?, Estimate::mean_of(&tm)?, test, None))
        }
    }
}

/// CUPED, when both variants carry data from before exposure that explains some variance.
fn with_cuped(c: &Sums, t: &Sums) -> Option<Estimates> {
    if c.paired.sum_y_sq <= 0.0 || t.paired.sum_y_sq <= 0.0 {
        return None;
    }
    let adjusted = cuped(&c.paired, &t.paired)?;
    if adjusted.variance_reduction <= 0.0 {
        return None;
    }
    let test = z_test(&adjusted.control, &adjusted.treatment, ALPHA)?;
    Some((
        adjusted.control,
        adjusted.treatment,
        test,
        Some(adjusted.variance_reduction),
    ))
}

/// The verdict for a comparison whose deciding p-value is `p` (the sequential one, corrected for
/// several metrics where that applies).
pub(crate) fn status(shape: Shape, c: &Sums, t: &Sums, cmp: Option<&Comparison>, p: f64) -> Status {
    let few = |s: &Sums| {
        s.exposed < MIN_EXPOSED
            || (shape.kind == MetricKind::Conversion && s.nonzero < MIN_CONVERSIONS)
    };
    let Some(cmp) = cmp else {
        return Status::Collecting;
    };
    if few(c) || few(t) {
        return Status::Collecting;
    }
    if p >= ALPHA {
        return Status::Inconclusive;
    }
    let up = cmp.abs_diff > 0.0;
    if up == (shape.direction == Direction::Increase) {
        Status::SignificantBetter
    } else {
        Status::SignificantWorse
    }
}
