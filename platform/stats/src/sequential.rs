//! Always-valid sequential inference: the normal-mixture sequential probability ratio test
//! (mSPRT), the mixing variance that tunes it, and running inference over successive looks.
//!
//! Unlike a fixed-horizon test, these p-values and confidence sequences stay valid however often
//! an experiment is looked at and whenever it is stopped.

use crate::dist::{check_alpha, finite};
use crate::frequentist::Interval;

/// An always-valid p-value and confidence interval of a difference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequential {
    /// The always-valid p-value of "no difference".
    pub p_value: f64,
    /// The (1 − alpha) confidence sequence of the difference at this look.
    pub ci: Interval,
}

/// The most Newton steps [`mixing_variance`] takes; it converges in far fewer.
const NEWTON_STEPS: usize = 100;

/// Always-valid inference by the normal mixture sequential probability ratio test (mSPRT;
/// Johari, Pekelis & Walsh, "Always valid inference", and Robbins' normal mixture).
///
/// For an estimated difference θ̂ with variance V and a N(0, τ²) mixing distribution, the
/// likelihood ratio against θ0 is Λ(θ0) = sqrt(V/(V+τ²)) · exp(τ²(θ̂−θ0)² / (2V(V+τ²))); the
/// always-valid p-value is min(1, 1/Λ(0)) and the (1−alpha) confidence sequence is
/// θ̂ ± sqrt( V(V+τ²)/τ² · (−2 ln alpha − ln(V/(V+τ²))) ), the set of θ0 with Λ(θ0) < 1/alpha.
///
/// The ratio is evaluated in logarithms, so a large statistic gives a p-value of 0 rather than an
/// overflow. `None` unless the difference is finite, V and τ² are positive and finite and alpha
/// lies in (0, 1).
pub fn msprt(diff: f64, variance: f64, tau_sq: f64, alpha: f64) -> Option<Sequential> {
    let alpha = check_alpha(alpha)?;
    let diff = finite(diff)?;
    let v = finite(variance).filter(|v| *v > 0.0)?;
    let tau_sq = finite(tau_sq).filter(|t| *t > 0.0)?;
    // ln((V + τ²)/V), computed as ln(1 + τ²/V) so that a small τ²/V keeps its precision.
    let log_inflation = (tau_sq / v).ln_1p();
    let log_lambda = -0.5 * log_inflation + tau_sq * diff * diff / (2.0 * v * (v + tau_sq));
    let p_value = if log_lambda <= 0.0 {
        1.0
    } else {
        (-log_lambda).exp()
    };
    let scale = v * (v + tau_sq) / tau_sq;
    let half_width = (scale * (-2.0 * alpha.ln() + log_inflation)).sqrt();
    Some(Sequential {
        p_value: finite(p_value)?,
        ci: Interval::around(diff, finite(half_width)?)?,
    })
}

/// The mixing variance that makes the confidence sequence tightest when each variant has `n_star`
/// entities, for data of per-entity variance sigma_sq (two variants, so V = 2σ²/n*).
///
/// Derivation. Write a = −2 ln alpha and r = τ²/V. The squared half-width of [`msprt`]'s interval
/// is V(V+τ²)/τ² · (a + ln((V+τ²)/V)) = V · g(r) with g(r) = (1 + r)/r · (a + ln(1 + r)).
/// Differentiating, g′(r) = (r − a − ln(1 + r)) / r². The numerator h(r) = r − ln(1 + r) − a is
/// −a < 0 at r = 0, strictly increasing (h′(r) = r/(1 + r) > 0) and unbounded, so g has exactly
/// one stationary point, a minimum, at the root r* of r − ln(1 + r) = a. In closed form
/// r* = −W₋₁(−e^−(a+1)) − 1 with W₋₁ the lower branch of the Lambert W function. On the scale of
/// sums the same boundary is √((m + ρ)(a + ln((m + ρ)/ρ))) at intrinsic time m with mixture
/// precision ρ = 1/τ² (per unit of intrinsic time), so r = m/ρ, and the first fixed-point step
/// r ≈ a + ln(1 + a) is the closed form ρ ≈ m/(−2 ln alpha + ln(1 − 2 ln alpha)) of Howard,
/// Ramdas, McAuliffe & Sekhon ("Time-uniform, nonparametric, nonasymptotic confidence sequences")
/// for a normal mixture boundary optimised at m. The exact answer is τ² = (2σ²/n*) · r*.
///
/// The root is found by Newton's method on h from r = 2a + 2, where h is positive. Because h is
/// increasing and convex (h″(r) = 1/(1 + r)² > 0), the iterates then decrease monotonically to the
/// root, and a fixed cap on the number of steps keeps the computation deterministic.
/// `None` unless sigma_sq and n_star are positive and finite and alpha lies in (0, 1).
pub fn mixing_variance(sigma_sq: f64, n_star: f64, alpha: f64) -> Option<f64> {
    let alpha = check_alpha(alpha)?;
    let sigma_sq = finite(sigma_sq).filter(|s| *s > 0.0)?;
    let n_star = finite(n_star).filter(|n| *n > 0.0)?;
    let a = -2.0 * alpha.ln();
    let mut r = 2.0 * a + 2.0;
    for _ in 0..NEWTON_STEPS {
        let h = r - r.ln_1p() - a;
        let step = h * (1.0 + r) / r;
        let next = r - step;
        if !(next > 0.0 && next < r) {
            break;
        }
        r = next;
        if step <= r * 1e-15 {
            break;
        }
    }
    finite(2.0 * sigma_sq / n_star * r).filter(|t| *t > 0.0)
}

/// Running always-valid inference over successive looks: p-values are the running minimum and
/// intervals the running intersection of each look's msprt answer (both stay valid at any
/// stopping time). Input: one (diff, variance) per look, oldest first.
///
/// `None` for no looks, when [`msprt`] gives `None` for any look, or when the intersection becomes
/// empty.
/// Under the model an empty intersection happens with probability at most alpha; it means the
/// looks contradict each other, and no interval is reported rather than an invented one.
pub fn sequential_over(looks: &[(f64, f64)], tau_sq: f64, alpha: f64) -> Option<Sequential> {
    let mut running: Option<Sequential> = None;
    for &(diff, variance) in looks {
        let look = msprt(diff, variance, tau_sq, alpha)?;
        running = Some(match running {
            None => look,
            Some(before) => Sequential {
                p_value: before.p_value.min(look.p_value),
                ci: Interval {
                    lo: before.ci.lo.max(look.ci.lo),
                    hi: before.ci.hi.min(look.ci.hi),
                },
            },
        });
    }
    running.filter(|s| s.ci.lo <= s.ci.hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_arguments_give_none() {
        assert_eq!(msprt(0.1, 0.0, 1.0, 0.05), None);
        assert_eq!(msprt(0.1, 1.0, 0.0, 0.05), None);
        assert_eq!(msprt(f64::NAN, 1.0, 1.0, 0.05), None);
        assert_eq!(msprt(0.1, f64::INFINITY, 1.0, 0.05), None);
        assert_eq!(msprt(0.1, 1.0, 1.0, 1.0), None);
        assert_eq!(mixing_variance(0.0, 10.0, 0.05), None);
        assert_eq!(mixing_variance(1.0, 0.0, 0.05), None);
        assert_eq!(mixing_variance(1.0, 10.0, 0.0), None);
        assert_eq!(sequential_over(&[], 1.0, 0.05), None);
        assert_eq!(sequential_over(&[(0.1, 1.0), (0.1, -1.0)], 1.0, 0.05), None);
    }

    #[test]
    fn huge_statistics_give_a_zero_p_value_not_an_overflow() {
        let s = msprt(1e6, 1e-6, 1.0, 0.05).unwrap();
        assert_eq!(s.p_value, 0.0);
        assert!(s.ci.lo < 1e6 && s.ci.hi > 1e6);
    }

    #[test]
    fn the_interval_ends_are_where_the_ratio_reaches_one_over_alpha() {
        let (diff, v, tau_sq, alpha) = (0.3, 0.02, 0.05, 0.05);
        let s = msprt(diff, v, tau_sq, alpha).unwrap();
        for end in [s.ci.lo, s.ci.hi] {
            let d = diff - end;
            let log_lambda =
                0.5 * (v / (v + tau_sq)).ln() + tau_sq * d * d / (2.0 * v * (v + tau_sq));
            assert!((log_lambda + alpha.ln()).abs() < 1e-9, "{log_lambda}");
        }
    }

    #[test]
    fn the_mixing_variance_minimises_the_half_width() {
        let (sigma_sq, n_star, alpha) = (3.0, 500.0, 0.05);
        let tau_sq = mixing_variance(sigma_sq, n_star, alpha).unwrap();
        let v = 2.0 * sigma_sq / n_star;
        let width = |t: f64| msprt(0.0, v, t, alpha).unwrap().ci.hi;
        let best = width(tau_sq);
        for factor in [0.9, 0.99, 0.999, 1.001, 1.01, 1.1] {
            assert!(width(tau_sq * factor) >= best, "factor {factor}");
        }
    }

    #[test]
    fn running_answers_only_tighten() {
        let looks = [(0.5, 0.2), (0.2, 0.1), (0.3, 0.05)];
        let s = sequential_over(&looks, 0.1, 0.05).unwrap();
        for end in 1..=looks.len() {
            let each = msprt(looks[end - 1].0, looks[end - 1].1, 0.1, 0.05).unwrap();
            assert!(s.p_value <= each.p_value);
            assert!(s.ci.lo >= each.ci.lo && s.ci.hi <= each.ci.hi);
        }
        assert_eq!(
            sequential_over(&[(5.0, 0.01), (-5.0, 0.01)], 0.1, 0.05),
            None
        );
    }
}
