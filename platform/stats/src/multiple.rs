//! Multiple-comparison corrections: Holm's step-down adjustment (family-wise error) and the
//! Benjamini–Hochberg step-up adjustment (false discovery rate).
//!
//! Both return adjusted p-values in the order of their input, so a caller compares each adjusted
//! p-value with its own alpha. A NaN p-value counts as 1 (no evidence) and every p-value is first
//! clamped into [0, 1], so the output is always a valid p-value.

/// A multiple-comparison correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Holm's step-down procedure, which controls the family-wise error rate.
    Holm,
    /// The Benjamini–Hochberg step-up procedure, which controls the false discovery rate.
    BenjaminiHochberg,
}

impl Correction {
    /// The adjusted p-values of this correction, in input order.
    pub fn adjust(self, p: &[f64]) -> Vec<f64> {
        match self {
            Correction::Holm => holm(p),
            Correction::BenjaminiHochberg => benjamini_hochberg(p),
        }
    }

    /// The correction's name as it is serialised: "holm" or "benjamini_hochberg".
    pub fn name(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::BenjaminiHochberg => "benjamini_hochberg",
        }
    }
}

/// The p-values made valid, and the input positions ordered by ascending p-value (ties keep
/// their input order).
fn sorted(p_values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let clean: Vec<f64> = p_values
        .iter()
        .map(|p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.sort_by(|a, b| clean[*a].total_cmp(&clean[*b]));
    (clean, order)
}

/// Holm-adjusted p-values (same order as input), equal to statsmodels
/// `multipletests(method="holm")`.
///
/// With the p-values sorted ascending as p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of p₍ₖ₎ is
/// min(1, maxⱼ≤ₖ (m − j + 1)·p₍ⱼ₎).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let (clean, order) = sorted(p_values);
    let m = clean.len() as f64;
    let mut adjusted = vec![0.0; clean.len()];
    let mut running = 0.0_f64;
    for (rank, &index) in order.iter().enumerate() {
        let scaled = ((m - rank as f64) * clean[index]).min(1.0);
        running = running.max(scaled);
        adjusted[index] = running;
    }
    adjusted
}

/// Benjamini–Hochberg-adjusted p-values (same order as input), equal to statsmodels
/// `multipletests(method="fdr_bh")`.
///
/// With the p-values sorted ascending as p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of p₍ₖ₎ is
/// min(1, minⱼ≥ₖ m·p₍ⱼ₎/j).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let (clean, order) = sorted(p_values);
    let m = clean.len() as f64;
    let mut adjusted = vec![0.0; clean.len()];
    let mut running = 1.0_f64;
    for (rank, &index) in order.iter().enumerate().rev() {
        let scaled = clean[index] / ((rank as f64 + 1.0) / m);
        running = running.min(scaled);
        adjusted[index] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_single_inputs() {
        assert!(holm(&[]).is_empty());
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(holm(&[0.03]), vec![0.03]);
        assert_eq!(benjamini_hochberg(&[0.03]), vec![0.03]);
    }

    #[test]
    fn awkward_values_become_valid_p_values() {
        let input = [f64::NAN, -0.5, 2.0, f64::INFINITY, 0.01];
        for adjusted in [holm(&input), benjamini_hochberg(&input)] {
            assert_eq!(adjusted.len(), input.len());
            assert!(
                adjusted.iter().all(|p| (0.0..=1.0).contains(p)),
                "{adjusted:?}"
            );
        }
    }

    #[test]
    fn adjusted_values_are_never_below_the_raw_ones_and_keep_their_order() {
        let raw = [0.04, 0.001, 0.03, 0.5, 0.03];
        for adjusted in [holm(&raw), benjamini_hochberg(&raw)] {
            for (a, p) in adjusted.iter().zip(raw) {
                assert!(*a >= p);
            }
            assert_eq!(adjusted[2], adjusted[4], "tied inputs get tied outputs");
        }
    }

    #[test]
    fn names_match_the_serialised_form() {
        for correction in [Correction::Holm, Correction::BenjaminiHochberg] {
            let json = serde_json::to_string(&correction).unwrap();
            assert_eq!(json, format!("\"{}\"", correction.name()));
        }
        assert_eq!(Correction::Holm.adjust(&[0.01, 0.02]), holm(&[0.01, 0.02]));
    }
}
