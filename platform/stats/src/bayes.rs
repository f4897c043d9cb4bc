//! The Bayesian summary of a comparison: chance to beat control, expected loss and a credible
//! interval of the relative difference.
//!
//! The model follows the one GrowthBook documents for its engine: with an uninformative prior,
//! the posterior of the relative difference is approximated by a normal distribution whose mean
//! is t/c − 1 and whose standard deviation is the delta-method one of [`crate::relative`].

use crate::dist::{finite, normal_cdf, normal_pdf, two_sided_z};
use crate::estimate::Estimate;
use crate::frequentist::{Interval, relative_moments};

/// The Bayesian summary of treatment against control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bayes {
    /// The posterior probability that treatment is better than control.
    pub chance_to_beat: f64,
    /// The expected relative loss of choosing treatment, E[max(0, −D)] with D the relative
    /// difference signed so that positive is better.
    pub expected_loss: f64,
    /// The posterior mean of the relative difference t/c − 1 (unsigned).
    pub rel_mean: f64,
    /// The posterior standard deviation of the relative difference.
    pub rel_sd: f64,
    /// The central (1 − alpha) credible interval of the relative difference (unsigned).
    pub credible: Interval,
}

/// Bayesian comparison with an uninformative prior, as GrowthBook documents its engine: the
/// posterior of the relative difference is approximated by a normal with mean t.mean/c.mean − 1
/// and the delta-method sd above.
///
/// `higher_is_better` flips the sign of "better". chance_to_beat = P(treatment better than
/// control); expected_loss = E[max(0, −D)] where D is the relative difference signed so positive
/// is better, i.e. for D ~ N(μ, σ²): σ·φ(μ/σ) − μ·Φ(−μ/σ). credible = the central (1 − alpha)
/// interval of the relative difference (unsigned).
///
/// `None` when the control mean is 0, an estimate is not finite, the posterior standard deviation
/// is 0 (the probabilities are then undefined) or alpha lies outside (0, 1).
pub fn bayes(
    control: &Estimate,
    treatment: &Estimate,
    higher_is_better: bool,
    alpha: f64,
) -> Option<Bayes> {
    let z_crit = two_sided_z(alpha)?;
    let (rel_mean, variance) = relative_moments(control, treatment)?;
    let rel_sd = finite(variance.sqrt())?;
    if rel_sd <= 0.0 {
        return None;
    }
    let mu = if higher_is_better {
        rel_mean
    } else {
        -rel_mean
    };
    let standardised = mu / rel_sd;
    let chance_to_beat = normal_cdf(standardised);
    // For D ~ N(μ, σ²), E[max(0, −D)] = σ·φ(μ/σ) − μ·Φ(−μ/σ); rounding can make it a hair
    // negative far in the tail, where its true value is positive but tiny.
    let loss = rel_sd * normal_pdf(standardised) - mu * normal_cdf(-standardised);
    Some(Bayes {
        chance_to_beat: finite(chance_to_beat)?,
        expected_loss: finite(loss.max(0.0))?,
        rel_mean,
        rel_sd,
        credible: Interval::around(rel_mean, z_crit * rel_sd)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, variance: f64) -> Estimate {
        Estimate {
            mean,
            variance,
            n: 1000,
        }
    }

    #[test]
    fn undefined_inputs_give_none() {
        assert_eq!(bayes(&est(0.0, 0.01), &est(1.0, 0.01), true, 0.05), None);
        assert_eq!(bayes(&est(1.0, 0.0), &est(1.0, 0.0), true, 0.05), None);
        assert_eq!(
            bayes(&est(1.0, 0.01), &est(f64::NAN, 0.01), true, 0.05),
            None
        );
        assert_eq!(bayes(&est(1.0, 0.01), &est(1.1, 0.01), true, 1.0), None);
    }

    #[test]
    fn direction_flips_chance_but_not_the_interval() {
        let (c, t) = (est(0.10, 1e-5), est(0.11, 1e-5));
        let up = bayes(&c, &t, true, 0.05).unwrap();
        let down = bayes(&c, &t, false, 0.05).unwrap();
        assert!((up.chance_to_beat + down.chance_to_beat - 1.0).abs() < 1e-12);
        assert_eq!(up.credible, down.credible);
        assert!(up.chance_to_beat > 0.9);
        assert!(down.expected_loss > up.expected_loss);
        // The two losses differ by the mean, since E[max(0, −D)] − E[max(0, D)] = −E[D].
        assert!((down.expected_loss - up.expected_loss - up.rel_mean).abs() < 1e-12);
    }

    #[test]
    fn far_tails_stay_in_range() {
        let b = bayes(&est(1.0, 1e-12), &est(2.0, 1e-12), true, 0.05).unwrap();
        assert_eq!(b.chance_to_beat, 1.0);
        assert!(b.expected_loss >= 0.0);
        let b = bayes(&est(1.0, 1e-12), &est(2.0, 1e-12), false, 0.05).unwrap();
        assert_eq!(b.chance_to_beat, 0.0);
        assert!((b.expected_loss - 1.0).abs() < 1e-9);
    }
}
