//! Experiment statistics over what a flag served: the tally of served counts per variant, time
//! bucket and segment, the split the configuration predicts, and a chi-square sample-ratio check per
//! segment.
//!
//! Invariant: pure arithmetic over the counts and configuration passed in (no clock, no I/O), so the
//! experiments view and any later caller (reports, guarded releases) agree.

use std::collections::BTreeMap;

/// Evaluations of a flag in one hour that one segment and variant served (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedCount {
    /// Unix seconds at the start of the hour (UTC).
    pub hour: i64,
    /// The segment that matched; 0 for none.
    pub segment: i64,
    /// The variant served; 0 for none.
    pub variant: i64,
    /// How many evaluations.
    pub evaluations: u64,
}

/// Equal time buckets: `count` of `length` seconds from `start` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    /// Where the first starts.
    pub start: i64,
    /// Seconds each.
    pub length: i64,
    /// How many.
    pub count: usize,
}

/// The split a flag's configuration asks for: per live segment, the percent of each variant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    segments: BTreeMap<i64, Vec<(i64, i64)>>,
}

impl Split {
    /// A split from each segment's id and its distribution (variant id, percent).
    pub fn new(segments: impl IntoIterator<Item = (i64, Vec<(i64, i64)>)>) -> Self {
        Split {
            segments: segments.into_iter().collect(),
        }
    }

    /// The configured percent of `variant` in `segment` (0 when the segment does not name it; `None`
    /// when the segment is gone).
    pub fn percent(&self, segment: i64, variant: i64) -> Option<i64> {
        let distribution = self.segments.get(&segment)?;
        Some(
            distribution
                .iter()
                .find(|(id, _)| *id == variant)
                .map_or(0, |(_, percent)| *percent),
        )
    }
}

/// The counts of a period by variant (in the order of the `variants` given to [`Tally::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Served per variant.
    pub served: Vec<u64>,
    /// Served per bucket, then per variant.
    pub per_bucket: Vec<Vec<u64>>,
    /// Served per segment, then per variant.
    pub by_segment: BTreeMap<i64, Vec<u64>>,
    /// Evaluations that served none of the variants.
    pub unserved: u64,
}

/// One segment's sample-ratio check.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioCheck {
    /// The segment.
    pub segment: i64,
    /// Evaluations it matched that served one of the variants.
    pub matched: u64,
    /// Per variant: the configured percent.
    pub percents: Vec<i64>,
    /// Per variant: evaluations served.
    pub observed: Vec<u64>,
    /// What the check found.
    pub verdict: Verdict,
}

impl Tally {
    /// Tallies `counts` over `variants` (ids) and `buckets`; counts of other variants are unserved.
    pub fn of(counts: &[ServedCount], variants: &[i64], buckets: &Buckets) -> Tally {
        let mut tally = Tally {
            served: vec![0; variants.len()],
            per_bucket: vec![vec![0; variants.len()]; buckets.count],
            by_segment: BTreeMap::new(),
            unserved: 0,
        };
        for c in counts {
            let Some(v) = variants.iter().position(|id| *id == c.variant) else {
                tally.unserved += c.evaluations;
                continue;
            };
            tally.served[v] += c.evaluations;
            let b = usize::try_from((c.hour - buckets.start) / buckets.length).unwrap_or(0);
            if let Some(row) = tally.per_bucket.get_mut(b) {
                row[v] += c.evaluations;
            }
            tally
                .by_segment
                .entry(c.segment)
                .or_insert_with(|| vec![0; variants.len()])[v] += c.evaluations;
        }
        tally
    }

    /// Evaluations that served one of the variants.
    pub fn served_total(&self) -> u64 {
        self.served.iter().sum()
    }

    /// The share of each variant the configuration predicts: each segment's split weighted by the
    /// evaluations it matched; `None` when nothing was served or a segment no longer exists.
    pub fn predicted_shares(&self, split: &Split, variants: &[i64]) -> Option<Vec<f64>> {
        let total = self.served_total();
        if total == 0 {
            return None;
        }
        let mut predicted = vec![0.0f64; variants.len()];
        for (segment, row) in &self.by_segment {
            let matched: u64 = row.iter().sum();
            for (v, variant) in variants.iter().enumerate() {
                let percent = split.percent(*segment, *variant)?;
                predicted[v] += matched as f64 * percent as f64 / 100.0;
            }
        }
        Some(predicted.iter().map(|p| p / total as f64).collect())
    }

    /// The sample-ratio check of each live segment that splits between at least two variants.
    pub fn ratio_checks(&self, split: &Split, variants: &[i64]) -> Vec<RatioCheck> {
        self.by_segment
            .iter()
            .filter(|(segment, _)| split.segments.contains_key(segment))
            .filter_map(|(segment, row)| {
                let percents: Vec<i64> = variants
                    .iter()
                    .map(|variant| split.percent(*segment, *variant).unwrap_or(0))
                    .collect();
                if percents.iter().filter(|p| **p > 0).count() < 2 {
                    return None;
                }
                Some(RatioCheck {
                    segment: *segment,
                    matched: row.iter().sum(),
                    verdict: sample_ratio(row, &percents),
                    percents,
                    observed: row.clone(),
                })
            })
            .collect()
    }
}

/// The outcome of a sample-ratio check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Too few evaluations to tell (fewer than 5 expected in some variant).
    TooFew,
    /// The observed split is consistent with the configured one (p ≥ 0.001).
    Consistent {
        /// The chi-square statistic.
        chi_square: f64,
    },
    /// The observed split departs from the configured one (p < 0.001): assignment, logging or
    /// configuration changes during the period are worth a look before trusting results.
    Mismatch {
        /// The chi-square statistic.
        chi_square: f64,
    },
}

impl Verdict {
    /// Whether the check found a mismatch.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, Verdict::Mismatch { .. })
    }

    /// Whether the check could not be made.
    pub fn is_too_few(&self) -> bool {
        matches!(self, Verdict::TooFew)
    }

    /// The statistic, when the check was made.
    pub fn chi_square(&self) -> Option<f64> {
        match self {
            Verdict::TooFew => None,
            Verdict::Consistent { chi_square } | Verdict::Mismatch { chi_square } => {
                Some(*chi_square)
            }
        }
    }
}

/// The chi-square value that a p-value of 0.001 corresponds to, for 1 to 10 degrees of freedom.
const CRITICAL_0_001: [f64; 10] = [
    10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588,
];

/// The chi-square value above which p < 0.001 with `df` degrees of freedom: the table up to 10, the
/// Wilson–Hilferty approximation beyond.
fn critical_value(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=10 => CRITICAL_0_001[df - 1],
        _ => {
            let k = df as f64;
            let z = 3.090_232; // the standard normal's 0.999 quantile
            let c = 2.0 / (9.0 * k);
            k * (1.0 - c + z * c.sqrt()).powi(3)
        }
    }
}

/// Checks `observed` counts against `percents` (the configured split, summing to 100): a chi-square
/// goodness-of-fit test at p < 0.001. A variant configured at 0% that served anything is a mismatch.
pub fn sample_ratio(observed: &[u64], percents: &[i64]) -> Verdict {
    let total: u64 = observed.iter().sum();
    let mut chi_square = 0.0;
    let mut cells = 0;
    for (&seen, &percent) in observed.iter().zip(percents) {
        if percent <= 0 {
            if seen > 0 {
                return Verdict::Mismatch {
                    chi_square: f64::INFINITY,
                };
            }
            continue;
        }
        let expected = total as f64 * percent as f64 / 100.0;
        if expected < 5.0 {
            return Verdict::TooFew;
        }
        chi_square += (seen as f64 - expected).powi(2) / expected;
        cells += 1;
    }
    if cells < 2 {
        return Verdict::TooFew;
    }
    if chi_square > critical_value(cells - 1) {
        Verdict::Mismatch { chi_square }
    } else {
        Verdict::Consistent { chi_square }
    }
}

#[cfg(test)]
#[path = "statistics_tests.rs"]
mod tests;
