//! Fixed-horizon frequentist comparisons: the two-proportion z test, Welch's t test, the z test
//! of two estimates, the relative difference and the Wilson interval of a proportion.
//!
//! Every test is two-sided and every difference is treatment minus control.

use crate::dist::{
    check_alpha, finite, normal_two_sided_p, t_two_sided_p, t_two_sided_quantile, two_sided_z,
};
use crate::estimate::Estimate;
use crate::moments::Moments;

/// A closed interval [lo, hi].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    /// The lower end.
    pub lo: f64,
    /// The upper end.
    pub hi: f64,
}

impl Interval {
    /// The interval centre ± half_width, or `None` when either end is not finite.
    pub(crate) fn around(centre: f64, half_width: f64) -> Option<Interval> {
        Some(Interval {
            lo: finite(centre - half_width)?,
            hi: finite(centre + half_width)?,
        })
    }
}

/// The result of a two-sided test of treatment against control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Test {
    /// The test statistic (z or t), positive when treatment is above control.
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// The estimated difference, treatment − control.
    pub diff: f64,
    /// The (1 − alpha) confidence interval of treatment − control.
    pub ci: Interval,
    /// The degrees of freedom of a t test, `None` for a z test.
    pub df: Option<f64>,
}

/// Two-sided two-proportion z-test: statistic and p-value use the pooled proportion (as
/// statsmodels `proportions_ztest`), the interval of the difference is the unpooled Wald interval
/// (as statsmodels `confint_proportions_2indep(compare="diff", method="wald")`).
///
/// Each argument is (successes, n). `None` when a variant is empty, has more successes than
/// entities, or the pooled proportion is 0 or 1 (the statistic is then undefined).
pub fn two_proportion(control: (u64, u64), treatment: (u64, u64), alpha: f64) -> Option<Test> {
    let z_crit = two_sided_z(alpha)?;
    let c = Estimate::proportion(control.0, control.1)?;
    let t = Estimate::proportion(treatment.0, treatment.1)?;
    let (nc, nt) = (control.1 as f64, treatment.1 as f64);
    let pooled = (control.0 as f64 + treatment.0 as f64) / (nc + nt);
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt)).sqrt();
    if pooled_se <= 0.0 || !pooled_se.is_finite() {
        return None;
    }
    let diff = t.mean - c.mean;
    let statistic = diff / pooled_se;
    let wald_se = (c.variance + t.variance).sqrt();
    Some(Test {
        statistic,
        p_value: normal_two_sided_p(statistic)?,
        diff,
        ci: Interval::around(diff, z_crit * wald_se)?,
        df: None,
    })
}

/// Welch's unequal-variance t-test (two-sided) with Welch–Satterthwaite degrees of freedom, as
/// scipy `ttest_ind_from_stats(equal_var=False)`, and the t interval of the difference (as
/// statsmodels `CompareMeans(...).tconfint_diff(usevar="unequal")`, sign: treatment − control).
///
/// With vᵢ = s²ᵢ/nᵢ the statistic is (x̄t − x̄c)/√(vc + vt) and the degrees of freedom are
/// (vc + vt)² / (vc²/(nc − 1) + vt²/(nt − 1)). `None` for fewer than two entities in a variant or
/// zero variance in both.
pub fn welch(control: &Moments, treatment: &Moments, alpha: f64) -> Option<Test> {
    let alpha = check_alpha(alpha)?;
    let c = Estimate::mean_of(control)?;
    let t = Estimate::mean_of(treatment)?;
    let total = c.variance + t.variance;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let spread = |e: &Estimate| e.variance * e.variance / (e.n as f64 - 1.0);
    let df = finite(total * total / (spread(&c) + spread(&t)))?;
    let se = total.sqrt();
    let diff = t.mean - c.mean;
    let statistic = finite(diff / se)?;
    let t_crit = t_two_sided_quantile(alpha, df)?;
    Some(Test {
        statistic,
        p_value: t_two_sided_p(statistic, df)?,
        diff,
        ci: Interval::around(diff, t_crit * se)?,
        df: Some(df),
    })
}

/// Large-sample z test of two estimates (used for ratio, CUPED-adjusted and quantile estimates):
/// diff = t.mean − c.mean, se = sqrt(c.variance + t.variance).
///
/// `None` when an estimate is not finite or the standard error is zero.
pub fn z_test(control: &Estimate, treatment: &Estimate, alpha: f64) -> Option<Test> {
    let z_crit = two_sided_z(alpha)?;
    if !control.is_valid() || !treatment.is_valid() {
        return None;
    }
    let se = finite((control.variance + treatment.variance).sqrt())?;
    if se <= 0.0 {
        return None;
    }
    let diff = finite(treatment.mean - control.mean)?;
    let statistic = finite(diff / se)?;
    Some(Test {
        statistic,
        p_value: normal_two_sided_p(statistic)?,
        diff,
        ci: Interval::around(diff, z_crit * se)?,
        df: None,
    })
}

/// The relative difference t/c − 1 and its delta-method variance
/// t.var/c.mean² + t.mean²·c.var/c.mean⁴, shared by [`relative`] and the Bayesian summary.
pub(crate) fn relative_moments(control: &Estimate, treatment: &Estimate) -> Option<(f64, f64)> {
    if !control.is_valid() || !treatment.is_valid() || control.mean == 0.0 {
        return None;
    }
    let (c, t) = (control.mean, treatment.mean);
    let c_sq = c * c;
    let variance = treatment.variance / c_sq + t * t * control.variance / (c_sq * c_sq);
    Some((finite(t / c - 1.0)?, finite(variance)?))
}

/// The relative difference t/c − 1 and its interval by the delta method: var_rel = t.var/c.mean²
/// + t.mean² c.var / c.mean⁴, normal quantile. None when c.mean == 0.
///
/// A zero variance gives the degenerate interval [rel, rel], which is still well defined.
pub fn relative(control: &Estimate, treatment: &Estimate, alpha: f64) -> Option<(f64, Interval)> {
    let z_crit = two_sided_z(alpha)?;
    let (rel, variance) = relative_moments(control, treatment)?;
    Some((rel, Interval::around(rel, z_crit * variance.sqrt())?))
}

/// Wilson score interval of a proportion (as statsmodels `proportion_confint(method="wilson")`).
///
/// With p̂ = successes/n and z the two-sided critical value, the interval is
/// (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n), kept inside [0, 1] against rounding.
/// `None` when n is 0 or there are more successes than entities.
pub fn wilson(successes: u64, n: u64, alpha: f64) -> Option<Interval> {
    let z = two_sided_z(alpha)?;
    let p = Estimate::proportion(successes, n)?.mean;
    let count = n as f64;
    let z_sq = z * z;
    let denominator = 1.0 + z_sq / count;
    let centre = (p + z_sq / (2.0 * count)) / denominator;
    let half = z * (p * (1.0 - p) / count + z_sq / (4.0 * count * count)).sqrt() / denominator;
    // At 0 successes the lower end is exactly 0 and at n successes the upper end is exactly 1;
    // setting them directly keeps rounding from moving them off the boundary.
    let lo = if successes == 0 { 0.0 } else { centre - half };
    let hi = if successes == n { 1.0 } else { centre + half };
    Some(Interval {
        lo: finite(lo.max(0.0))?,
        hi: finite(hi.min(1.0))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, variance: f64) -> Estimate {
        Estimate {
            mean,
            variance,
            n: 100,
        }
    }

    #[test]
    fn degenerate_proportions_give_none() {
        assert_eq!(two_proportion((0, 0), (1, 10), 0.05), None);
        assert_eq!(two_proportion((0, 10), (0, 10), 0.05), None);
        assert_eq!(two_proportion((10, 10), (20, 20), 0.05), None);
        assert_eq!(two_proportion((11, 10), (2, 20), 0.05), None);
        assert_eq!(two_proportion((1, 10), (2, 20), 0.0), None);
        let opposite = two_proportion((0, 10), (10, 10), 0.05).unwrap();
        assert_eq!(opposite.ci, Interval { lo: 1.0, hi: 1.0 });
    }

    #[test]
    fn welch_needs_two_entities_and_some_variance() {
        let one = Moments::of(&[1.0]);
        let two = Moments::of(&[1.0, 2.0]);
        let flat = Moments::of(&[3.0, 3.0, 3.0]);
        assert_eq!(welch(&one, &two, 0.05), None);
        assert_eq!(welch(&flat, &flat, 0.05), None);
        assert_eq!(welch(&two, &two, 1.0), None);
        let half_flat = welch(&flat, &two, 0.05).unwrap();
        assert_eq!(half_flat.df, Some(1.0));
        assert_eq!(welch(&Moments::of(&[1.0, f64::NAN]), &two, 0.05), None);
    }

    #[test]
    fn welch_handles_samples_of_billions() {
        let control = Moments {
            n: 3_000_000_000,
            sum: 3.0e9,
            sum_sq: 6.0e9,
        };
        let treatment = Moments {
            sum: 3.0001e9,
            ..control
        };
        let test = welch(&control, &treatment, 0.05).unwrap();
        assert!(test.df.unwrap() > 5.9e9);
        assert!(test.p_value > 0.1 && test.p_value < 0.3, "{test:?}");
    }

    #[test]
    fn z_test_and_relative_reject_undefined_inputs() {
        assert_eq!(z_test(&est(1.0, 0.0), &est(2.0, 0.0), 0.05), None);
        assert_eq!(z_test(&est(f64::NAN, 1.0), &est(2.0, 1.0), 0.05), None);
        assert_eq!(z_test(&est(1.0, -1.0), &est(2.0, 1.0), 0.05), None);
        assert_eq!(relative(&est(0.0, 1.0), &est(2.0, 1.0), 0.05), None);
        assert_eq!(
            relative(&est(1.0, 1.0), &est(2.0, f64::INFINITY), 0.05),
            None
        );
        assert_eq!(relative(&est(1.0, 1.0), &est(2.0, 1.0), -0.5), None);
        let (rel, ci) = relative(&est(2.0, 0.0), &est(3.0, 0.0), 0.05).unwrap();
        assert_eq!((rel, ci.lo, ci.hi), (0.5, 0.5, 0.5));
    }

    #[test]
    fn z_test_is_antisymmetric() {
        let (a, b) = (est(1.0, 0.04), est(1.3, 0.09));
        let forward = z_test(&a, &b, 0.05).unwrap();
        let backward = z_test(&b, &a, 0.05).unwrap();
        assert_eq!(forward.statistic, -backward.statistic);
        assert_eq!(forward.p_value, backward.p_value);
        assert_eq!(forward.ci.lo, -backward.ci.hi);
    }

    #[test]
    fn wilson_edges_stay_inside_the_unit_interval() {
        assert_eq!(wilson(0, 0, 0.05), None);
        assert_eq!(wilson(5, 4, 0.05), None);
        assert_eq!(wilson(1, 2, f64::NAN), None);
        let none = wilson(0, 20, 0.05).unwrap();
        assert_eq!(none.lo, 0.0);
        let all = wilson(20, 20, 0.05).unwrap();
        assert_eq!(all.hi, 1.0);
        assert!(all.lo > 0.8);
    }
}
