//! The sample-ratio-mismatch check: whether the observed traffic split matches the configured
//! weights, by a chi-square goodness-of-fit test.
//!
//! A small p-value means the assignment or the logging is broken, and the experiment's other
//! statistics should not be trusted.

use crate::dist::chi_square_sf;

/// The result of a chi-square goodness-of-fit test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleRatio {
    /// The Pearson chi-square statistic Σ (observed − expected)² / expected.
    pub chi_square: f64,
    /// The degrees of freedom: the number of cells tested minus one.
    pub df: usize,
    /// The upper-tail probability of the statistic.
    pub p_value: f64,
}

/// Chi-square goodness of fit of observed counts against expected weights (any positive scale;
/// normalised to the observed total), as scipy `chisquare(observed, f_exp)`.
///
/// Cells with weight 0 and a count 0 are skipped; weight 0 with a count > 0 is p = 0 (with an
/// infinite statistic, since such a count is impossible under the weights). None for fewer than
/// 2 cells or a zero total, for slices of different lengths, and for weights that are negative,
/// not finite or all zero.
pub fn sample_ratio(observed: &[u64], weights: &[f64]) -> Option<SampleRatio> {
    if observed.len() != weights.len() || observed.len() < 2 {
        return None;
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return None;
    }
    let total: f64 = observed.iter().map(|o| *o as f64).sum();
    let weight_total: f64 = weights.iter().sum();
    if total <= 0.0 || weight_total <= 0.0 || !weight_total.is_finite() {
        return None;
    }
    let cells: Vec<(f64, f64)> = observed
        .iter()
        .zip(weights)
        .filter(|(o, w)| **o > 0 || **w > 0.0)
        .map(|(o, w)| (*o as f64, w / weight_total * total))
        .collect();
    if cells.len() < 2 {
        return None;
    }
    let df = cells.len() - 1;
    if cells.iter().any(|(_, expected)| *expected <= 0.0) {
        return Some(SampleRatio {
            chi_square: f64::INFINITY,
            df,
            p_value: 0.0,
        });
    }
    let chi_square: f64 = cells.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    Some(SampleRatio {
        chi_square,
        df,
        p_value: chi_square_sf(chi_square, df as f64)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_inputs_give_none() {
        assert_eq!(sample_ratio(&[10], &[1.0]), None);
        assert_eq!(sample_ratio(&[0, 0], &[1.0, 1.0]), None);
        assert_eq!(sample_ratio(&[1, 2], &[1.0]), None);
        assert_eq!(sample_ratio(&[1, 2], &[1.0, -1.0]), None);
        assert_eq!(sample_ratio(&[1, 2], &[1.0, f64::NAN]), None);
        assert_eq!(sample_ratio(&[1, 2], &[0.0, 0.0]), None);
        assert_eq!(sample_ratio(&[5, 0], &[1.0, 0.0]), None, "one cell left");
    }

    #[test]
    fn empty_cells_of_zero_weight_are_skipped() {
        let with = sample_ratio(&[50, 60, 0], &[1.0, 1.0, 0.0]).unwrap();
        let without = sample_ratio(&[50, 60], &[1.0, 1.0]).unwrap();
        assert_eq!(with, without);
        assert_eq!(with.df, 1);
    }

    #[test]
    fn a_count_in_a_zero_weight_cell_is_a_certain_mismatch() {
        let r = sample_ratio(&[50, 60, 1], &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!(r.p_value, 0.0);
        assert_eq!(r.df, 2);
    }

    #[test]
    fn a_perfect_split_has_p_one() {
        let r = sample_ratio(&[500, 500], &[0.5, 0.5]).unwrap();
        assert_eq!(r.chi_square, 0.0);
        assert!((r.p_value - 1.0).abs() < 1e-12);
    }
}
