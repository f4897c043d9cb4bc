//! Experiment statistics, as a pure module: no I/O, clock, randomness, async or panics.
//!
//! This crate turns the sufficient statistics of an experiment's variants into comparisons:
//! frequentist tests and intervals, a Bayesian summary, always-valid sequential inference,
//! CUPED variance reduction, multiple-comparison corrections, a sample-ratio check and a
//! mergeable quantile sketch.
//!
//! The architecture invariant is that every function here is a pure function of its arguments.
//! Nothing reads a file, a socket or the clock, nothing draws a random number and nothing is
//! async. No input makes a function panic: a result that is undefined for its input (fewer than
//! two entities, zero variance, a control mean of zero under a relative difference, a NaN or an
//! infinite input, an alpha outside (0, 1)) comes back as `None`, never as NaN.
//!
//! The modules follow the topics: [`moments`] and [`estimate`] hold the inputs,
//! [`frequentist`], [`bayes`](mod@bayes) and [`sequential`] compare two estimates,
//! [`cuped`](mod@cuped) adjusts them, [`multiple`] corrects many p-values, [`srm`] checks the
//! traffic split and [`sketch`] summarises quantiles.

mod dist;

pub mod bayes;
pub mod cuped;
pub mod estimate;
pub mod frequentist;
pub mod moments;
pub mod multiple;
pub mod sequential;
pub mod sketch;
pub mod srm;

pub use bayes::{Bayes, bayes};
pub use cuped::{Cuped, cuped};
pub use estimate::Estimate;
pub use frequentist::{Interval, Test, relative, two_proportion, welch, wilson, z_test};
pub use moments::{Moments, Paired};
pub use multiple::{Correction, benjamini_hochberg, holm};
pub use sequential::{Sequential, mixing_variance, msprt, sequential_over};
pub use sketch::QuantileSketch;
pub use srm::{SampleRatio, sample_ratio};

#[cfg(test)]
mod tests {
    //! The no-panic invariant, checked by feeding every public function awkward inputs.

    use super::*;

    const AWKWARD: [f64; 13] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1e-300,
        1e300,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    const COUNTS: [u64; 5] = [0, 1, 2, 1_000, u64::MAX];

    fn no_nan(values: &[f64], what: &str) {
        assert!(values.iter().all(|v| !v.is_nan()), "{what}: {values:?}");
    }

    fn check_test(test: Option<Test>, what: &str) {
        if let Some(t) = test {
            no_nan(&[t.statistic, t.p_value, t.diff, t.ci.lo, t.ci.hi], what);
            assert!((0.0..=1.0).contains(&t.p_value), "{what}: {t:?}");
        }
    }

    fn estimates() -> Vec<Estimate> {
        let mut out = Vec::new();
        for mean in AWKWARD {
            for variance in AWKWARD {
                out.push(Estimate {
                    mean,
                    variance,
                    n: 10,
                });
            }
        }
        out
    }

    #[test]
    fn comparisons_of_awkward_estimates_never_panic_or_return_nan() {
        let all = estimates();
        for c in &all {
            for t in &all {
                for alpha in [0.05, 0.0, 1.0, f64::NAN] {
                    check_test(z_test(c, t, alpha), "z test");
                    if let Some((rel, ci)) = relative(c, t, alpha) {
                        no_nan(&[rel, ci.lo, ci.hi], "relative");
                    }
                    if let Some(b) = bayes(c, t, true, alpha) {
                        no_nan(&[b.chance_to_beat, b.expected_loss, b.rel_sd], "bayes");
                    }
                }
            }
        }
    }

    #[test]
    fn awkward_counts_and_moments_never_panic_or_return_nan() {
        for a in COUNTS {
            for b in COUNTS {
                check_test(two_proportion((a, b), (b, a), 0.05), "two proportion");
                if let Some(ci) = wilson(a, b, 0.05) {
                    no_nan(&[ci.lo, ci.hi], "wilson");
                }
                if let Some(r) = sample_ratio(&[a, b], &[1.0, 0.0]) {
                    no_nan(&[r.chi_square, r.p_value], "sample ratio");
                }
            }
        }
        for x in AWKWARD {
            for y in AWKWARD {
                let m = Moments::of(&[x, y, 1.0]);
                check_test(welch(&m, &Moments::of(&[y, 2.0, x]), 0.05), "welch");
                let p = Paired::of(&[x, 1.0, y], &[y, x, 2.0]);
                if let Some(e) = Estimate::ratio(&p) {
                    no_nan(&[e.mean, e.variance], "ratio");
                }
                if let Some(r) = cuped(&p, &Paired::of(&[1.0, 2.0, 4.0], &[0.0, 2.0, 1.0])) {
                    no_nan(&[r.theta, r.variance_reduction, r.control.mean], "cuped");
                }
                if let Some(r) = sample_ratio(&[3, 4], &[x, y]) {
                    no_nan(&[r.chi_square, r.p_value], "sample ratio weights");
                }
            }
        }
    }

    #[test]
    fn awkward_sequential_and_sketch_inputs_never_panic_or_return_nan() {
        for x in AWKWARD {
            for y in AWKWARD {
                for alpha in [0.05, x] {
                    if let Some(s) = msprt(x, y, 1.0, alpha) {
                        no_nan(&[s.p_value, s.ci.lo, s.ci.hi], "msprt");
                    }
                    if let Some(tau) = mixing_variance(x, y, alpha) {
                        no_nan(&[tau], "mixing variance");
                    }
                }
                if let Some(s) = sequential_over(&[(x, y), (y, x)], 0.5, 0.05) {
                    no_nan(&[s.p_value, s.ci.lo, s.ci.hi], "sequential");
                }
            }
        }
        no_nan(&holm(&AWKWARD), "holm");
        no_nan(&benjamini_hochberg(&AWKWARD), "benjamini hochberg");
        let mut sketch = QuantileSketch::new();
        AWKWARD.iter().for_each(|v| sketch.add(*v));
        for q in AWKWARD {
            for alpha in AWKWARD {
                if let Some(e) = sketch.estimate(q, alpha) {
                    no_nan(&[e.mean, e.variance], "sketch estimate");
                }
                let _ = sketch.quantile(q);
                let _ = sketch.quantile_interval(q, alpha);
            }
        }
    }
}
