//! Published worked examples, reproduced to the precision at which they were published.
//!
//! Each test names its source. A value printed with d decimals must agree to within half a unit
//! of its last decimal; values published to many digits are checked to 1e-9.

use flagent_stats::{Moments, benjamini_hochberg, holm, sample_ratio, welch, wilson};

/// Asserts that `actual` rounds to `published`, printed with `decimals` decimals.
fn as_published(actual: f64, published: f64, decimals: i32, what: &str) {
    let half_unit = 0.5 * 10f64.powi(-decimals);
    assert!(
        (actual - published).abs() <= half_unit + 1e-12,
        "{what}: computed {actual}, published {published} ({decimals} decimals)"
    );
}

// The data sets of the Rosetta Code task "Welch's t-test"; the first two pairs are the first two
// examples of Wikipedia's "Welch's t-test" article.
const D1: [f64; 15] = [
    27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4,
];
const D2: [f64; 15] = [
    27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4,
];
const D3: [f64; 10] = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
const D4: [f64; 20] = [
    21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5,
    22.5, 23.5, 21.5, 21.8,
];
const D7: [f64; 6] = [30.02, 29.99, 30.11, 29.97, 30.01, 29.99];
const D8: [f64; 6] = [29.89, 29.93, 29.72, 29.98, 30.02, 29.98];
const X: [f64; 4] = [3.0, 4.0, 1.0, 2.1];
const Y: [f64; 3] = [490.2, 340.0, 433.9];

/// Rosetta Code, "Welch's t-test": the task publishes the two-sided p-values (computed with R's
/// `t.test`) to 15 digits. The test is symmetric, so which sample is control does not matter.
#[test]
fn welch_p_values_of_the_rosetta_code_task() {
    let cases: [(&[f64], &[f64], f64); 4] = [
        (&D1, &D2, 0.021378001462867),
        (&D3, &D4, 0.148841696605328),
        (&D7, &D8, 0.090773324285671),
        (&X, &Y, 0.010751561149785),
    ];
    for (i, (a, b, published)) in cases.into_iter().enumerate() {
        let test = welch(&Moments::of(a), &Moments::of(b), 0.05).expect("welch");
        assert!(
            (test.p_value - published).abs() < 1e-9,
            "case {i}: computed {}, published {published}",
            test.p_value
        );
    }
}

/// R's `t.test(d1, d2)` (Welch is R's default) prints t = -2.4554, df = 24.989,
/// p-value = 0.02138 and the 95 percent confidence interval -3.9840963 -0.3492371 of d1 − d2;
/// Wikipedia's table for the same data gives t = −2.46 and p = 0.021. With d1 as the treatment the
/// crate's treatment − control has the same sign as R's first − second.
#[test]
fn welch_statistic_df_and_interval_as_r_prints_them() {
    let test = welch(&Moments::of(&D2), &Moments::of(&D1), 0.05).expect("welch");
    as_published(test.statistic, -2.4554, 4, "t");
    as_published(test.df.expect("df"), 24.989, 3, "df");
    as_published(test.p_value, 0.02138, 5, "p");
    as_published(test.ci.lo, -3.9840963, 7, "ci lo");
    as_published(test.ci.hi, -0.3492371, 7, "ci hi");
    as_published(test.diff, 20.82 - 22.986_666_666_666_67, 12, "diff");
}

/// Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57(1): the worked
/// example of 15 p-values from a multiple-endpoint trial. At level 0.05 the step-up procedure
/// rejects the four hypotheses with p ≤ 0.0095, where Bonferroni rejects only three.
#[test]
fn benjamini_hochberg_1995_example() {
    let p = [
        0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
        0.5719, 0.6528, 0.7590, 1.0000,
    ];
    let bh = benjamini_hochberg(&p);
    let rejected: Vec<bool> = bh.iter().map(|q| *q <= 0.05).collect();
    assert_eq!(rejected, [[true; 4].as_slice(), &[false; 11]].concat());
    let bonferroni = p.iter().filter(|p| **p * 15.0 <= 0.05).count();
    assert_eq!(bonferroni, 3);
    // Holm's step-down rejects the same three here: 13 × 0.0019 = 0.0247 ≤ 0.05, but
    // 12 × 0.0095 = 0.114 is not.
    assert_eq!(holm(&p).iter().filter(|q| **q <= 0.05).count(), 3);
}

/// Mendel's (1866) dihybrid cross, 315 round yellow, 108 round green, 101 wrinkled yellow and
/// 32 wrinkled green seeds against the 9:3:3:1 ratio, is the textbook chi-square goodness-of-fit
/// example: χ² = 0.470 on 3 degrees of freedom, p = 0.925 (R's `chisq.test` prints
/// X-squared = 0.47002, p-value = 0.9254).
#[test]
fn mendel_peas_chi_square() {
    let r = sample_ratio(&[315, 108, 101, 32], &[9.0, 3.0, 3.0, 1.0]).expect("chi-square");
    as_published(r.chi_square, 0.47002, 5, "chi-square");
    as_published(r.p_value, 0.9254, 4, "p");
    assert_eq!(r.df, 3);
}

/// Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of
/// seven methods", Statistics in Medicine 17, Table I: the 95% Wilson score intervals (method 3)
/// of 81/263, 15/148, 0/20 and 1/29, printed to four decimals.
#[test]
fn newcombe_1998_wilson_intervals() {
    let published = [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ];
    for (s, n, lo, hi) in published {
        let ci = wilson(s, n, 0.05).expect("wilson");
        as_published(ci.lo, lo, 4, &format!("{s}/{n} lo"));
        as_published(ci.hi, hi, 4, &format!("{s}/{n} hi"));
    }
}
