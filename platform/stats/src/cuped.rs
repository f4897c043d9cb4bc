//! CUPED variance reduction: adjusting each variant's mean by the same metric measured before
//! exposure.
//!
//! The adjustment removes the part of each entity's value that its pre-exposure value predicts,
//! which leaves the difference between variants unbiased (randomisation makes the pre-exposure
//! means agree in expectation) while shrinking its variance.

use crate::dist::finite;
use crate::estimate::Estimate;
use crate::moments::Paired;

/// The CUPED-adjusted estimates of both variants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cuped {
    /// The adjustment coefficient, pooled cov(x, y)/var(y).
    pub theta: f64,
    /// The adjusted control estimate.
    pub control: Estimate,
    /// The adjusted treatment estimate.
    pub treatment: Estimate,
    /// 1 − adjusted variance / unadjusted variance of the difference.
    pub variance_reduction: f64,
}

/// CUPED (Deng, Xu, Kohavi & Walker 2013): each variant's pairs are (x = metric after exposure,
/// y = the same metric before exposure).
///
/// θ = pooled cov(x, y)/var(y) over both variants' pooled pairs (one θ for both, from the merged
/// Paired); adjusted mean_i = x̄_i − θ(ȳ_i − ȳ_pooled); variance of the adjusted mean_i =
/// (s²_x,i − 2θ cov_i + θ² s²_y,i)/n_i. `None` when var(y) == 0 or n < 2 in a variant, when the
/// unadjusted variance of the difference is 0, or when a sum is not finite.
pub fn cuped(control: &Paired, treatment: &Paired) -> Option<Cuped> {
    if control.n < 2 || treatment.n < 2 {
        return None;
    }
    let pooled = control.merge(*treatment);
    let pooled_var_y = pooled.y().variance()?;
    if pooled_var_y <= 0.0 {
        return None;
    }
    let theta = finite(pooled.covariance()? / pooled_var_y)?;
    let pooled_mean_y = pooled.y().mean()?;
    let (c, c_raw) = adjust(control, theta, pooled_mean_y)?;
    let (t, t_raw) = adjust(treatment, theta, pooled_mean_y)?;
    let unadjusted = c_raw + t_raw;
    if unadjusted <= 0.0 {
        return None;
    }
    Some(Cuped {
        theta,
        control: c,
        treatment: t,
        variance_reduction: finite(1.0 - (c.variance + t.variance) / unadjusted)?,
    })
}

/// One variant's adjusted estimate, and the unadjusted variance of its mean for comparison.
fn adjust(arm: &Paired, theta: f64, pooled_mean_y: f64) -> Option<(Estimate, f64)> {
    let (x, y) = (arm.x(), arm.y());
    let n = arm.n as f64;
    let (var_x, var_y, cov) = (x.variance()?, y.variance()?, arm.covariance()?);
    let mean = x.mean()? - theta * (y.mean()? - pooled_mean_y);
    let variance = (var_x - 2.0 * theta * cov + theta * theta * var_y).max(0.0) / n;
    let estimate = Estimate {
        mean: finite(mean)?,
        variance: finite(variance)?,
        n: arm.n,
    };
    Some((estimate, var_x / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_inputs_give_none() {
        let one = Paired::of(&[1.0], &[1.0]);
        let ok = Paired::of(&[1.0, 2.0, 4.0], &[1.0, 3.0, 2.0]);
        let flat_y = Paired::of(&[1.0, 2.0], &[5.0, 5.0]);
        let flat_x = Paired::of(&[7.0, 7.0], &[1.0, 2.0]);
        assert_eq!(cuped(&one, &ok), None);
        assert_eq!(cuped(&flat_y, &flat_y), None);
        assert_eq!(cuped(&flat_x, &flat_x), None);
        assert_eq!(cuped(&Paired::of(&[1.0, f64::NAN], &[1.0, 2.0]), &ok), None);
    }

    #[test]
    fn a_perfect_predictor_removes_all_variance() {
        let c = Paired::of(&[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0]);
        let t = Paired::of(&[2.0, 4.0, 6.0, 8.0], &[1.0, 2.0, 3.0, 4.0]);
        let result = cuped(&c, &t).unwrap();
        assert!((result.theta - 2.0).abs() < 1e-12);
        assert!(result.control.variance < 1e-12);
        assert!((result.variance_reduction - 1.0).abs() < 1e-9);
    }

    #[test]
    fn an_unrelated_covariate_changes_little() {
        let c = Paired::of(&[1.0, 3.0, 3.0, 1.0], &[1.0, 1.0, 2.0, 2.0]);
        let result = cuped(&c, &c).unwrap();
        assert!(result.theta.abs() < 1e-12);
        assert!(result.variance_reduction.abs() < 1e-12);
        assert!((result.control.mean - 2.0).abs() < 1e-12);
    }
}
