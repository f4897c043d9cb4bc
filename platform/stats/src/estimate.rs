//! One variant's point estimate and the variance of that estimate, for proportions, means and
//! ratio metrics.
//!
//! An [`Estimate`] is the common currency of the comparisons: the frequentist z test, the relative
//! difference, the Bayesian summary and the sequential test all take two of them.

use crate::dist::finite;
use crate::moments::{Moments, Paired};

/// One variant's point estimate and the variance of that estimate (not of the data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub mean: f64,
    /// The variance of the point estimate (its squared standard error).
    pub variance: f64,
    /// The number of entities behind the estimate.
    pub n: u64,
}

impl Estimate {
    /// A conversion rate: the mean is p = successes / n and the variance p(1 − p)/n.
    ///
    /// `None` when n is 0 or there are more successes than entities.
    pub fn proportion(successes: u64, n: u64) -> Option<Estimate> {
        if n == 0 || successes > n {
            return None;
        }
        let count = n as f64;
        let p = successes as f64 / count;
        Some(Estimate {
            mean: p,
            variance: p * (1.0 - p) / count,
            n,
        })
    }

    /// The mean of a per-entity value: the sample mean, with variance s²/n.
    ///
    /// `None` for fewer than two entities or non-finite sums.
    pub fn mean_of(m: &Moments) -> Option<Estimate> {
        let mean = m.mean()?;
        let variance = m.variance()?;
        Some(Estimate {
            mean,
            variance: variance / m.n as f64,
            n: m.n,
        })
    }

    /// A ratio metric R = Σx / Σy (for example clicks per session) with the variance given by
    /// the delta method.
    ///
    /// With per-entity means μx and μy, sample variances s²x and s²y and sample covariance c, the
    /// first-order expansion of R around (μx, μy) gives
    /// Var(R) ≈ (s²x/μy² − 2·μx·c/μy³ + μx²·s²y/μy⁴) / n.
    /// `None` for fewer than two entities, a zero denominator mean or non-finite sums.
    pub fn ratio(p: &Paired) -> Option<Estimate> {
        let (x, y) = (p.x(), p.y());
        let (mx, my) = (x.mean()?, y.mean()?);
        if my == 0.0 {
            return None;
        }
        let (vx, vy, cov) = (x.variance()?, y.variance()?, p.covariance()?);
        let n = p.n as f64;
        let spread =
            vx / (my * my) - 2.0 * mx * cov / (my * my * my) + mx * mx * vy / (my * my * my * my);
        Some(Estimate {
            mean: finite(p.sum_x / p.sum_y)?,
            variance: finite((spread / n).max(0.0))?,
            n: p.n,
        })
    }

    /// Whether the estimate can enter a comparison: a finite mean and a finite, non-negative
    /// variance.
    pub(crate) fn is_valid(&self) -> bool {
        self.mean.is_finite() && self.variance.is_finite() && self.variance >= 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportion_edge_cases() {
        assert_eq!(Estimate::proportion(0, 0), None);
        assert_eq!(Estimate::proportion(3, 2), None);
        let zero = Estimate::proportion(0, 10).unwrap();
        assert_eq!((zero.mean, zero.variance), (0.0, 0.0));
        let all = Estimate::proportion(10, 10).unwrap();
        assert_eq!((all.mean, all.variance), (1.0, 0.0));
        let some = Estimate::proportion(25, 100).unwrap();
        assert!((some.variance - 0.25 * 0.75 / 100.0).abs() < 1e-15);
    }

    #[test]
    fn mean_needs_two_entities() {
        assert_eq!(Estimate::mean_of(&Moments::of(&[])), None);
        assert_eq!(Estimate::mean_of(&Moments::of(&[1.0])), None);
        let e = Estimate::mean_of(&Moments::of(&[1.0, 3.0])).unwrap();
        assert_eq!((e.mean, e.variance, e.n), (2.0, 1.0, 2));
        assert_eq!(Estimate::mean_of(&Moments::of(&[1.0, f64::NAN])), None);
    }

    #[test]
    fn ratio_edge_cases() {
        assert_eq!(Estimate::ratio(&Paired::of(&[1.0], &[1.0])), None);
        assert_eq!(Estimate::ratio(&Paired::of(&[1.0, 2.0], &[0.0, 0.0])), None);
        assert_eq!(
            Estimate::ratio(&Paired::of(&[1.0, 2.0], &[1.0, -1.0])),
            None
        );
        let constant = Estimate::ratio(&Paired::of(&[2.0, 4.0], &[1.0, 2.0])).unwrap();
        assert!((constant.mean - 2.0).abs() < 1e-15);
        assert!(constant.variance.abs() < 1e-15);
        assert_eq!(
            Estimate::ratio(&Paired::of(&[1.0, 2.0], &[1.0, f64::NAN])),
            None
        );
    }
}
