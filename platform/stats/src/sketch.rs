//! A mergeable quantile sketch with relative accuracy, for non-negative values such as latencies,
//! and the order-statistic interval of a quantile read from it.
//!
//! The sketch keeps logarithmic buckets in the manner of DDSketch: bucket i holds the values in
//! (γ^(i−1), γ^i] with γ = (1 + a)/(1 − a), and reports 2γ^i/(γ + 1) for them, which is within a
//! relative error a of every value in the bucket. Merging adds bucket counts, so the sketch of the
//! parts merged equals the sketch of the whole, which is what lets daily sketches be stored and
//! combined.

use std::cmp::Ordering;

use crate::dist::{check_alpha, finite, two_sided_z};
use crate::estimate::Estimate;
use crate::frequentist::Interval;

/// The relative accuracy a of the sketch.
const ACCURACY: f64 = 0.01;

/// The bucket growth factor γ = (1 + a)/(1 − a).
fn gamma() -> f64 {
    (1.0 + ACCURACY) / (1.0 - ACCURACY)
}

/// The bucket holding a positive finite value: ⌈ln v / ln γ⌉.
fn bucket_of(value: f64) -> i32 {
    // Positive finite doubles give indices within about ±37,000, far inside i32.
    (value.ln() / gamma().ln()).ceil() as i32
}

/// The value the sketch reports for a bucket: 2γ^i/(γ + 1), computed in logarithms and capped at
/// the largest double, so that the bucket of the largest values does not overflow.
fn value_of(bucket: i32) -> f64 {
    let g = gamma();
    (f64::from(bucket) * g.ln() + (2.0 / (g + 1.0)).ln())
        .exp()
        .min(f64::MAX)
}

/// A mergeable quantile sketch with relative accuracy (DDSketch-style logarithmic buckets,
/// gamma = (1+a)/(1−a), a = 0.01), for non-negative values (latencies); zero kept in its own
/// count; negative values clamp to zero.
///
/// Compact: a sorted `Vec<(i32 bucket index, u64 count)>`, serde-serialisable (this is what gets
/// stored per day and merged across days), plus a count of zeros and the total. Merge is exact
/// (bucket-wise sum), so merging sketches of parts equals the sketch of the whole. Deserialising
/// checks that the buckets are strictly increasing and that the counts add up.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "SketchParts")]
pub struct QuantileSketch {
    /// The non-empty buckets, by strictly increasing index.
    bins: Vec<(i32, u64)>,
    /// The number of values that were zero (or negative, clamped to zero).
    zeros: u64,
    /// The number of values added: zeros plus the bucket counts.
    count: u64,
}

/// The serialised form of a sketch, checked before it becomes one.
#[derive(serde::Deserialize)]
struct SketchParts {
    bins: Vec<(i32, u64)>,
    zeros: u64,
    count: u64,
}

impl TryFrom<SketchParts> for QuantileSketch {
    type Error = &'static str;

    fn try_from(parts: SketchParts) -> Result<Self, Self::Error> {
        if parts.bins.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return Err("sketch buckets must be strictly increasing");
        }
        let total = parts
            .bins
            .iter()
            .try_fold(parts.zeros, |sum, (_, c)| sum.checked_add(*c));
        if total != Some(parts.count) {
            return Err("sketch counts do not add up to its total");
        }
        Ok(QuantileSketch {
            bins: parts.bins,
            zeros: parts.zeros,
            count: parts.count,
        })
    }
}

impl QuantileSketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value. Negative values count as zero; NaN and the infinities are ignored.
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.count = self.count.saturating_add(1);
        if v <= 0.0 {
            self.zeros = self.zeros.saturating_add(1);
            return;
        }
        let bucket = bucket_of(v);
        match self.bins.binary_search_by_key(&bucket, |(b, _)| *b) {
            Ok(at) => self.bins[at].1 = self.bins[at].1.saturating_add(1),
            Err(at) => self.bins.insert(at, (bucket, 1)),
        }
    }

    /// Adds every value of another sketch to this one.
    pub fn merge(&mut self, o: &QuantileSketch) {
        let (a, b) = (&self.bins, &o.bins);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    merged.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    merged.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    merged.push((a[i].0, a[i].1.saturating_add(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.bins = merged;
        self.zeros = self.zeros.saturating_add(o.zeros);
        self.count = self.count.saturating_add(o.count);
    }

    /// The number of values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at rank ceil(q·n) (the "inverted_cdf" definition), within relative accuracy a.
    ///
    /// The rank is computed as numpy does for `method="inverted_cdf"`, so that the same q picks
    /// the same order statistic. `None` for an empty sketch or q outside [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let q = finite(q).filter(|q| (0.0..=1.0).contains(q))?;
        let n = self.count as f64;
        let index = n * q - 1.0;
        let below = index.floor();
        let zero_based = if index - below > 0.0 {
            below + 1.0
        } else {
            below
        };
        self.value_at_rank(zero_based + 1.0)
    }

    /// Distribution-free interval of the q-quantile from order statistics: the values at ranks
    /// floor(nq − z·sqrt(nq(1−q))) and ceil(nq + z·sqrt(nq(1−q))) (clamped to 1..=n), z the
    /// normal quantile of 1 − alpha/2.
    ///
    /// `None` for an empty sketch, q outside [0, 1] or alpha outside (0, 1).
    pub fn quantile_interval(&self, q: f64, alpha: f64) -> Option<Interval> {
        let q = finite(q).filter(|q| (0.0..=1.0).contains(q))?;
        let z = two_sided_z(check_alpha(alpha)?)?;
        let n = self.count as f64;
        let centre = n * q;
        let spread = z * (centre * (1.0 - q)).sqrt();
        Some(Interval {
            lo: self.value_at_rank((centre - spread).floor())?,
            hi: self.value_at_rank((centre + spread).ceil())?,
        })
    }

    /// The quantile as an Estimate for z_test/relative/bayes: mean = quantile(q), variance =
    /// ((hi − lo)/(2 z))², the normal variance that would give the order-statistic interval.
    pub fn estimate(&self, q: f64, alpha: f64) -> Option<Estimate> {
        let z = two_sided_z(alpha)?;
        let mean = self.quantile(q)?;
        let ci = self.quantile_interval(q, alpha)?;
        let sd = (ci.hi - ci.lo) / (2.0 * z);
        Some(Estimate {
            mean,
            variance: finite(sd * sd)?,
            n: self.count,
        })
    }

    /// The value at a 1-based rank, with the rank clamped to 1..=n.
    fn value_at_rank(&self, rank: f64) -> Option<f64> {
        if self.count == 0 || rank.is_nan() {
            return None;
        }
        let rank = rank.clamp(1.0, self.count as f64) as u64;
        if rank <= self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        for (bucket, count) in &self.bins {
            seen = seen.saturating_add(*count);
            if seen >= rank {
                return finite(value_of(*bucket));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch_of(values: &[f64]) -> QuantileSketch {
        let mut sketch = QuantileSketch::new();
        for v in values {
            sketch.add(*v);
        }
        sketch
    }

    #[test]
    fn an_empty_sketch_answers_nothing() {
        let s = QuantileSketch::new();
        assert_eq!(s.count(), 0);
        assert_eq!(s.quantile(0.5), None);
        assert_eq!(s.quantile_interval(0.5, 0.05), None);
        assert_eq!(s.estimate(0.5, 0.05), None);
    }

    #[test]
    fn zeros_negatives_and_non_finite_values() {
        let s = sketch_of(&[0.0, -3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 10.0]);
        assert_eq!(s.count(), 3);
        assert_eq!(s.quantile(0.0), Some(0.0));
        assert_eq!(s.quantile(0.5), Some(0.0));
        let top = s.quantile(1.0).unwrap();
        assert!((top - 10.0).abs() <= 0.1 + 1e-9, "{top}");
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(s.quantile(f64::NAN), None);
        assert_eq!(s.quantile_interval(0.5, 0.0), None);
    }

    #[test]
    fn every_value_is_reported_within_the_relative_accuracy() {
        for v in [1e-300, 1e-9, 0.5, 1.0, 1.0101, 123.456, 1e12, f64::MAX] {
            let reported = sketch_of(&[v]).quantile(0.5).unwrap();
            assert!(
                ((reported - v) / v).abs() <= ACCURACY + 1e-9,
                "{v} -> {reported}"
            );
        }
    }

    #[test]
    fn merging_parts_equals_the_sketch_of_the_whole() {
        let values: Vec<f64> = (0..500)
            .map(|i| (f64::from(i) * 0.37).sin().abs() * 100.0)
            .collect();
        let whole = sketch_of(&values);
        let mut merged = sketch_of(&values[..123]);
        merged.merge(&sketch_of(&values[123..400]));
        merged.merge(&sketch_of(&values[400..]));
        merged.merge(&QuantileSketch::new());
        assert_eq!(merged, whole);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let s = sketch_of(&[0.0, 1.0, 2.0, 2.0, 50.0]);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<QuantileSketch>(&text).unwrap(), s);
        let unsorted = r#"{"bins":[[5,1],[3,1]],"zeros":0,"count":2}"#;
        assert!(serde_json::from_str::<QuantileSketch>(unsorted).is_err());
        let miscounted = r#"{"bins":[[3,1]],"zeros":1,"count":5}"#;
        assert!(serde_json::from_str::<QuantileSketch>(miscounted).is_err());
    }

    #[test]
    fn a_constant_sample_has_a_zero_width_estimate() {
        let s = sketch_of(&[7.0; 50]);
        let e = s.estimate(0.5, 0.05).unwrap();
        assert_eq!(e.variance, 0.0);
        assert_eq!(e.n, 50);
    }
}
