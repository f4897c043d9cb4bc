//! Sufficient statistics of per-entity values: counts, sums and sums of squares and products.
//!
//! These are what a pipeline accumulates per variant (and per day), because they can be added up
//! and merged without keeping the raw values. Every comparison in the crate starts from them.
//!
//! A non-finite value poisons the sums, and every statistic read from poisoned sums is `None`.
//! The variance is computed from raw sums, so values should be on a scale where their mean is not
//! many orders of magnitude larger than their spread (as is the case for experiment metrics).

use crate::dist::finite;

/// The largest relative size of a centred sum that is treated as rounding noise.
///
/// Summing n values and subtracting the squared mean can be off by up to about (n + 2)·ε of the
/// raw sum of squares (ε the machine epsilon). The bound is capped at 1e-9 so that for very large
/// samples, where the worst case is far above the usual error, a genuine but small spread is not
/// mistaken for none.
fn rounding_bound(n: f64) -> f64 {
    ((n + 2.0) * f64::EPSILON).min(1e-9)
}

/// Sufficient statistics of one per-entity value over n entities.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    /// The number of entities.
    pub n: u64,
    /// The sum of the values.
    pub sum: f64,
    /// The sum of the squared values.
    pub sum_sq: f64,
}

impl Moments {
    /// The moments of a slice of values.
    pub fn of(values: &[f64]) -> Moments {
        let mut moments = Moments::default();
        for value in values {
            moments.add(*value);
        }
        moments
    }

    /// Adds one entity's value.
    pub fn add(&mut self, value: f64) {
        self.n = self.n.saturating_add(1);
        self.sum += value;
        self.sum_sq += value * value;
    }

    /// The moments of the union of two disjoint sets of entities.
    pub fn merge(self, other: Moments) -> Moments {
        Moments {
            n: self.n.saturating_add(other.n),
            sum: self.sum + other.sum,
            sum_sq: self.sum_sq + other.sum_sq,
        }
    }

    /// The mean value, or `None` when there are no entities or the sums are not finite.
    pub fn mean(&self) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        finite(self.sum / self.n as f64)
    }

    /// The sample variance (with the n − 1 divisor), or `None` for fewer than two entities.
    ///
    /// The raw-sum formula Σv² − (Σv)²/n carries a rounding error of up to about (n + 2)·ε·Σv²
    /// (ε the machine epsilon), so for constant data it comes out as a tiny positive or negative
    /// number instead of 0. A centred sum within that bound (capped at 1e-9·Σv²) is
    /// indistinguishable from zero and is reported as exactly 0, which lets callers detect zero
    /// variance reliably.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let sum = finite(self.sum)?;
        let sum_sq = finite(self.sum_sq)?;
        let centred = sum_sq - sum * sum / n;
        if centred <= rounding_bound(n) * sum_sq {
            return Some(0.0);
        }
        finite(centred / (n - 1.0))
    }
}

/// Sufficient statistics of a pair of per-entity values (x, y) over n entities: used for ratio
/// metrics (x = numerator, y = denominator) and for CUPED (x = metric after exposure, y = the same
/// metric before exposure).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Paired {
    /// The number of entities.
    pub n: u64,
    /// The sum of x.
    pub sum_x: f64,
    /// The sum of x squared.
    pub sum_x_sq: f64,
    /// The sum of y.
    pub sum_y: f64,
    /// The sum of y squared.
    pub sum_y_sq: f64,
    /// The sum of the products x·y.
    pub sum_xy: f64,
}

impl Paired {
    /// The paired moments of two slices, zipped: extra values in the longer slice are ignored.
    pub fn of(xs: &[f64], ys: &[f64]) -> Paired {
        let mut paired = Paired::default();
        for (x, y) in xs.iter().zip(ys) {
            paired.add(*x, *y);
        }
        paired
    }

    /// Adds one entity's pair of values.
    pub fn add(&mut self, x: f64, y: f64) {
        self.n = self.n.saturating_add(1);
        self.sum_x += x;
        self.sum_x_sq += x * x;
        self.sum_y += y;
        self.sum_y_sq += y * y;
        self.sum_xy += x * y;
    }

    /// The paired moments of the union of two disjoint sets of entities.
    pub fn merge(self, o: Paired) -> Paired {
        Paired {
            n: self.n.saturating_add(o.n),
            sum_x: self.sum_x + o.sum_x,
            sum_x_sq: self.sum_x_sq + o.sum_x_sq,
            sum_y: self.sum_y + o.sum_y,
            sum_y_sq: self.sum_y_sq + o.sum_y_sq,
            sum_xy: self.sum_xy + o.sum_xy,
        }
    }

    /// The moments of x alone.
    pub fn x(&self) -> Moments {
        Moments {
            n: self.n,
            sum: self.sum_x,
            sum_sq: self.sum_x_sq,
        }
    }

    /// The moments of y alone.
    pub fn y(&self) -> Moments {
        Moments {
            n: self.n,
            sum: self.sum_y,
            sum_sq: self.sum_y_sq,
        }
    }

    /// The sample covariance of x and y (with the n − 1 divisor), or `None` for fewer than two
    /// entities or sums that are not finite.
    pub fn covariance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let (sum_x, sum_y) = (finite(self.sum_x)?, finite(self.sum_y)?);
        let centred = finite(self.sum_xy)? - sum_x * sum_y / n;
        // As for the variance, a centred sum within the rounding bound of the raw sums (here
        // scaled by √(Σx²·Σy²), which bounds |Σxy|) is reported as exactly 0.
        let scale = (finite(self.sum_x_sq)? * finite(self.sum_y_sq)?).sqrt();
        if centred.abs() <= rounding_bound(n) * scale {
            return Some(0.0);
        }
        finite(centred / (n - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_single_entity_moments_are_undefined_where_they_should_be() {
        let empty = Moments::of(&[]);
        assert_eq!(empty.mean(), None);
        assert_eq!(empty.variance(), None);
        let one = Moments::of(&[3.0]);
        assert_eq!(one.mean(), Some(3.0));
        assert_eq!(one.variance(), None);
        assert_eq!(Paired::of(&[1.0], &[2.0]).covariance(), None);
    }

    #[test]
    fn constant_data_has_exactly_zero_variance_and_covariance() {
        for value in [0.1, 1e-7, 3.3, 12345.678, -0.7] {
            let m = Moments::of(&[value; 1000]);
            assert_eq!(m.variance(), Some(0.0), "{value}");
            let p = Paired::of(&[value; 77], &[0.3; 77]);
            assert_eq!(p.covariance(), Some(0.0), "{value}");
        }
    }

    #[test]
    fn a_huge_sample_keeps_a_small_genuine_variance() {
        let n = 1e12;
        let m = Moments {
            n: n as u64,
            sum: 0.5 * n,
            sum_sq: (0.25 + 1e-4) * n,
        };
        let variance = m.variance().unwrap();
        assert!((variance / 1e-4 - 1.0).abs() < 1e-6, "{variance}");
    }

    #[test]
    fn sample_variance_and_covariance_use_n_minus_one() {
        let m = Moments::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.mean(), Some(2.5));
        assert!((m.variance().unwrap() - 5.0 / 3.0).abs() < 1e-12);
        let p = Paired::of(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0]);
        assert!((p.covariance().unwrap() - 2.5).abs() < 1e-12);
        assert_eq!(p.x(), Moments::of(&[1.0, 2.0, 3.0]));
        assert_eq!(p.y(), Moments::of(&[2.0, 4.0, 7.0]));
    }

    #[test]
    fn merging_parts_equals_the_whole() {
        let whole = Moments::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let parts = Moments::of(&[1.0, 2.0]).merge(Moments::of(&[3.0, 4.0, 5.0]));
        assert_eq!(whole, parts);
        let whole = Paired::of(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]);
        let parts = Paired::of(&[1.0], &[3.0]).merge(Paired::of(&[2.0, 3.0], &[1.0, 2.0]));
        assert_eq!(whole, parts);
    }

    #[test]
    fn non_finite_values_make_every_statistic_none() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let m = Moments::of(&[1.0, bad, 2.0]);
            assert_eq!(m.mean(), None);
            assert_eq!(m.variance(), None);
            let p = Paired::of(&[1.0, 2.0, 3.0], &[1.0, bad, 2.0]);
            assert_eq!(p.covariance(), None);
            assert_eq!(p.y().variance(), None);
        }
    }

    #[test]
    fn paired_of_ignores_the_tail_of_the_longer_slice() {
        let p = Paired::of(&[1.0, 2.0, 3.0], &[1.0, 2.0]);
        assert_eq!(p.n, 2);
    }

    #[test]
    fn moments_round_trip_through_json() {
        let m = Moments::of(&[1.5, 2.5]);
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Moments>(&text).unwrap(), m);
    }
}
