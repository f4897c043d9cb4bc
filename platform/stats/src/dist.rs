//! The distribution functions the crate needs (normal, Student's t, chi-square), as thin
//! wrappers over statrs that check their arguments first.
//!
//! Some statrs functions assert on arguments outside their domain, so every wrapper here returns
//! `None` for such arguments instead, which keeps the crate free of panics.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

/// Returns the value when it is finite, and `None` for NaN and the infinities.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Returns the significance level when it lies strictly between 0 and 1.
pub(crate) fn check_alpha(alpha: f64) -> Option<f64> {
    (alpha.is_finite() && alpha > 0.0 && alpha < 1.0).then_some(alpha)
}

/// The standard normal distribution function Φ(x).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// The standard normal density φ(x).
pub(crate) fn normal_pdf(x: f64) -> f64 {
    Normal::standard().pdf(x)
}

/// The standard normal quantile Φ⁻¹(p), for p strictly between 0 and 1.
pub(crate) fn normal_quantile(p: f64) -> Option<f64> {
    let p = check_alpha(p)?;
    finite(Normal::standard().inverse_cdf(p))
}

/// The two-sided critical value z with P(|Z| > z) = alpha, that is Φ⁻¹(1 − alpha/2).
///
/// It is computed as −Φ⁻¹(alpha/2), which keeps full precision when alpha is small.
pub(crate) fn two_sided_z(alpha: f64) -> Option<f64> {
    let alpha = check_alpha(alpha)?;
    normal_quantile(alpha / 2.0).map(|q| -q)
}

/// The two-sided normal p-value 2·Φ(−|z|) of a finite statistic.
pub(crate) fn normal_two_sided_p(z: f64) -> Option<f64> {
    let z = finite(z)?;
    Some((2.0 * normal_cdf(-z.abs())).min(1.0))
}

/// Up to this many degrees of freedom statrs's Student's t quantile agrees with scipy to about
/// 1e-9; beyond it the quantile drifts (by 3e-6 at 10⁵) and for tens of millions it does not
/// return, so larger degrees of freedom use the Cornish–Fisher expansion instead.
const T_QUANTILE_DIRECT_MAX_DF: f64 = 1e4;

/// Up to this many degrees of freedom statrs's Student's t tail probability agrees with scipy to
/// about 1e-9; beyond it the error grows (to 1e-6 at 10¹⁰), so larger degrees of freedom use the
/// asymptotic normalising transformation instead.
const T_TAIL_DIRECT_MAX_DF: f64 = 1e6;

fn students_t(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

/// The degrees of freedom when they are positive and finite.
fn check_df(df: f64) -> Option<f64> {
    finite(df).filter(|df| *df > 0.0)
}

/// The Student's t upper tail P(T > t), for t ≥ 0.
///
/// For large ν it uses the expansion z = t − (t³ + t)/(4ν) + (13t⁵ + 8t³ + 3t)/(96ν²), the inverse
/// of the Cornish–Fisher series below, with P(T > t) ≈ P(Z > z); its error is O(t⁷/ν³), below
/// 1e-9 relative for ν > 10⁶ wherever the tail does not underflow.
fn t_upper_tail(t: f64, df: f64) -> Option<f64> {
    if df <= T_TAIL_DIRECT_MAX_DF {
        return finite(students_t(df)?.sf(t));
    }
    let t2 = t * t;
    let z = t - (t2 * t + t) / (4.0 * df)
        + (13.0 * t2 * t2 * t + 8.0 * t2 * t + 3.0 * t) / (96.0 * df * df);
    finite(normal_cdf(-z))
}

/// The Student's t quantile for a lower-tail probability p in (0, 1/2].
///
/// For large ν it uses the Cornish–Fisher expansion of the t quantile around the normal quantile
/// z: t = z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²) + (3z⁷ + 19z⁵ + 17z³ − 15z)/(384ν³),
/// which agrees with scipy to about 1e-12 for ν > 10⁴.
fn t_lower_quantile(p: f64, df: f64) -> Option<f64> {
    if df <= T_QUANTILE_DIRECT_MAX_DF {
        return finite(students_t(df)?.inverse_cdf(p));
    }
    let z = normal_quantile(p)?;
    let z2 = z * z;
    let (z3, z5) = (z2 * z, z2 * z2 * z);
    let z7 = z5 * z2;
    let t = z
        + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df * df * df);
    finite(t)
}

/// The two-sided Student's t p-value 2·P(T > |t|) with `df` degrees of freedom.
pub(crate) fn t_two_sided_p(t: f64, df: f64) -> Option<f64> {
    let t = finite(t)?;
    let df = check_df(df)?;
    Some((2.0 * t_upper_tail(t.abs(), df)?).min(1.0))
}

/// The two-sided Student's t critical value q with P(|T| > q) = alpha.
pub(crate) fn t_two_sided_quantile(alpha: f64, df: f64) -> Option<f64> {
    let alpha = check_alpha(alpha)?;
    let df = check_df(df)?;
    t_lower_quantile(alpha / 2.0, df).map(|q| -q)
}

/// The chi-square upper tail P(X > x) with `df` degrees of freedom.
pub(crate) fn chi_square_sf(x: f64, df: f64) -> Option<f64> {
    let x = finite(x).filter(|x| *x >= 0.0)?;
    let df = finite(df).filter(|df| *df > 0.0)?;
    let dist = ChiSquared::new(df).ok()?;
    finite(dist.sf(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_must_lie_strictly_inside_the_unit_interval() {
        for alpha in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(check_alpha(alpha), None, "alpha {alpha}");
            assert_eq!(two_sided_z(alpha), None, "alpha {alpha}");
            assert_eq!(t_two_sided_quantile(alpha, 10.0), None, "alpha {alpha}");
        }
        let z = two_sided_z(0.05).expect("z");
        assert!((z - 1.959_963_984_540_054).abs() < 1e-12, "{z}");
    }

    /// Reference values from scipy 1.17 (`stats.t.ppf` and `stats.t.sf`), on both sides of the
    /// switch from statrs to the expansions.
    #[test]
    fn students_t_stays_accurate_for_large_degrees_of_freedom() {
        let quantiles = [
            (24.99, -2.059_580_342_368_777),
            (3e4, -1.960_043_063_383_934_7),
            (1e5, -1.959_987_707_534_61),
            (1e12, -1.959_963_984_542_426_4),
        ];
        for (df, want) in quantiles {
            let got = -t_two_sided_quantile(0.05, df).expect("quantile");
            assert!(
                (got / want - 1.0).abs() < 1e-9,
                "df {df}: {got} against {want}"
            );
        }
        let tails = [
            (1e6, 0.024_998_033_792_634_926),
            (1e7, 0.024_997_909_012_657_114),
            (1e10, 0.024_997_895_162_084_886),
        ];
        for (df, want) in tails {
            let got = t_two_sided_p(1.96, df).expect("tail") / 2.0;
            assert!(
                (got / want - 1.0).abs() < 1e-9,
                "df {df}: {got} against {want}"
            );
        }
        assert!(t_two_sided_quantile(0.05, 1e300).is_some());
    }

    #[test]
    fn out_of_domain_arguments_give_none() {
        assert_eq!(t_two_sided_p(f64::NAN, 5.0), None);
        assert_eq!(t_two_sided_p(1.0, 0.0), None);
        assert_eq!(t_two_sided_p(1.0, f64::NAN), None);
        assert_eq!(chi_square_sf(-1.0, 2.0), None);
        assert_eq!(chi_square_sf(1.0, 0.0), None);
        assert_eq!(normal_two_sided_p(f64::INFINITY), None);
        assert_eq!(normal_quantile(0.0), None);
    }
}
