//! Agreement with numpy, scipy and statsmodels: this test runs `tests/reference.py`, which computes
//! every statistic from the fixed data sets in `tests/data.json`, and recomputes each one with the
//! crate from the same file.
//!
//! Exact computations must agree to 1e-6 relative (with an absolute floor of 1e-10 for values near
//! zero); sketch quantiles must agree to the sketch's 1% relative accuracy. A missing python3 or a
//! missing library fails the test with instructions, it never skips it.

use std::process::Command;
use std::sync::OnceLock;

use flagent_stats::{
    Estimate, Interval, Moments, Paired, QuantileSketch, Test, bayes, benjamini_hochberg, cuped,
    holm, mixing_variance, msprt, relative, sample_ratio, sequential_over, two_proportion, welch,
    wilson, z_test,
};
use serde_json::Value;

/// The relative tolerance of exact computations.
const TOL: f64 = 1e-6;
/// The absolute tolerance for values near zero.
const FLOOR: f64 = 1e-10;
/// The sketch's relative accuracy, with room for the rounding at bucket edges.
const SKETCH_TOL: f64 = 0.01 + 1e-9;

fn data() -> &'static Value {
    static DATA: OnceLock<Value> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data.json");
        let text = std::fs::read_to_string(path).expect("tests/data.json is readable");
        serde_json::from_str(&text).expect("tests/data.json is JSON")
    })
}

/// The reference document, computed once per test binary.
fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let output = Command::new("python3")
            .arg("tests/reference.py")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "the reference test needs python3 on PATH with numpy, scipy and statsmodels \
                     (python3 -m pip install -r platform/stats/tests/requirements.txt), but \
                     python3 could not be started: {error}"
                )
            });
        assert!(
            output.status.success(),
            "tests/reference.py failed ({}); it needs numpy, scipy and statsmodels \
             (python3 -m pip install -r platform/stats/tests/requirements.txt). Its stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("reference.py prints one JSON document")
    })
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn count(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected a count, got {v}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(num)
        .collect()
}

fn items(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
}

/// Each data case of a section with its reference result, checking that the two line up.
fn cases(section: &str) -> impl Iterator<Item = (&'static Value, &'static Value)> {
    let (cases, expected) = (items(&data()[section]), items(&reference()[section]));
    assert_eq!(
        cases.len(),
        expected.len(),
        "{section}: data and reference differ in length"
    );
    cases.iter().zip(expected)
}

fn close(actual: f64, expected: f64, what: &str) {
    let error = (actual - expected).abs();
    assert!(
        error <= TOL * expected.abs() || error <= FLOOR,
        "{what}: crate {actual:e}, reference {expected:e} (error {error:e})"
    );
}

fn close_interval(actual: &Interval, expected: &Value, what: &str) {
    close(actual.lo, num(&expected["lo"]), &format!("{what} lo"));
    close(actual.hi, num(&expected["hi"]), &format!("{what} hi"));
}

fn close_test(actual: &Test, expected: &Value, what: &str) {
    close(
        actual.statistic,
        num(&expected["statistic"]),
        &format!("{what} statistic"),
    );
    close(
        actual.p_value,
        num(&expected["p_value"]),
        &format!("{what} p-value"),
    );
    close(actual.diff, num(&expected["diff"]), &format!("{what} diff"));
    close_interval(&actual.ci, &expected["ci"], &format!("{what} ci"));
    match (actual.df, expected.get("df")) {
        (Some(df), Some(want)) => close(df, num(want), &format!("{what} df")),
        (None, None) => {}
        (df, want) => panic!("{what}: df {df:?} against reference {want:?}"),
    }
}

fn close_estimate(actual: &Estimate, expected: &Value, what: &str) {
    close(actual.mean, num(&expected["mean"]), &format!("{what} mean"));
    close(
        actual.variance,
        num(&expected["variance"]),
        &format!("{what} variance"),
    );
}

/// Checks z_test, relative and both directions of bayes of two estimates against the reference.
fn close_comparisons(c: &Estimate, t: &Estimate, alpha: f64, expected: &Value, what: &str) {
    let z = z_test(c, t, alpha).expect("z test");
    close_test(&z, &expected["z_test"], &format!("{what} z test"));
    let (rel, ci) = relative(c, t, alpha).expect("relative");
    let want = &expected["relative"];
    close(rel, num(&want["rel"]), &format!("{what} relative"));
    close_interval(&ci, &want["ci"], &format!("{what} relative ci"));
    if let Some(directions) = expected.get("bayes") {
        for want in items(directions) {
            close_bayes(c, t, alpha, want, what);
        }
    }
}

/// Checks one direction of the Bayesian summary against the reference.
fn close_bayes(c: &Estimate, t: &Estimate, alpha: f64, want: &Value, what: &str) {
    let higher = want["higher_is_better"].as_bool().expect("direction");
    let got = bayes(c, t, higher, alpha).expect("bayes");
    let what = format!("{what} bayes (higher is better: {higher})");
    let check = |value: f64, key: &str| close(value, num(&want[key]), &format!("{what} {key}"));
    check(got.chance_to_beat, "chance_to_beat");
    check(got.expected_loss, "expected_loss");
    check(got.rel_mean, "rel_mean");
    check(got.rel_sd, "rel_sd");
    close_interval(
        &got.credible,
        &want["credible"],
        &format!("{what} credible"),
    );
}

fn paired(arm: &Value) -> Paired {
    Paired::of(&floats(&arm["x"]), &floats(&arm["y"]))
}

#[test]
fn two_proportion_matches_statsmodels() {
    for (case, want) in cases("proportions") {
        let what = case["name"].as_str().expect("name");
        let alpha = num(&case["alpha"]);
        let (c, t) = (&case["control"], &case["treatment"]);
        let control = (count(&c[0]), count(&c[1]));
        let treatment = (count(&t[0]), count(&t[1]));
        let test = two_proportion(control, treatment, alpha).expect("two-proportion test");
        close_test(&test, &want["two_proportion"], what);
        let ce = Estimate::proportion(control.0, control.1).expect("control");
        let te = Estimate::proportion(treatment.0, treatment.1).expect("treatment");
        close_comparisons(&ce, &te, alpha, want, what);
    }
}

#[test]
fn welch_matches_scipy_and_statsmodels() {
    for (case, want) in cases("welch") {
        let what = case["name"].as_str().expect("name");
        let alpha = num(&case["alpha"]);
        let c = Moments::of(&floats(&case["control"]));
        let t = Moments::of(&floats(&case["treatment"]));
        let test = welch(&c, &t, alpha).expect("welch test");
        close_test(&test, &want["welch"], what);
        let ce = Estimate::mean_of(&c).expect("control");
        let te = Estimate::mean_of(&t).expect("treatment");
        close_comparisons(&ce, &te, alpha, want, what);
    }
}

#[test]
fn wilson_matches_statsmodels() {
    for (case, want) in cases("wilson") {
        let (s, n, alpha) = (
            count(&case["successes"]),
            count(&case["n"]),
            num(&case["alpha"]),
        );
        let got = wilson(s, n, alpha).expect("wilson interval");
        close_interval(&got, want, &format!("wilson {s}/{n} at {alpha}"));
    }
}

#[test]
fn ratio_matches_the_numpy_delta_method() {
    for (case, want) in cases("ratio") {
        let what = case["name"].as_str().expect("name");
        let alpha = num(&case["alpha"]);
        let c = Estimate::ratio(&paired(&case["control"])).expect("control ratio");
        let t = Estimate::ratio(&paired(&case["treatment"])).expect("treatment ratio");
        close_estimate(&c, &want["control"], &format!("{what} control"));
        close_estimate(&t, &want["treatment"], &format!("{what} treatment"));
        close_comparisons(&c, &t, alpha, want, what);
    }
}

#[test]
fn cuped_matches_numpy_on_the_raw_arrays() {
    for (case, want) in cases("cuped") {
        let what = case["name"].as_str().expect("name");
        let got = cuped(&paired(&case["control"]), &paired(&case["treatment"])).expect("cuped");
        close(got.theta, num(&want["theta"]), &format!("{what} theta"));
        close_estimate(&got.control, &want["control"], &format!("{what} control"));
        close_estimate(
            &got.treatment,
            &want["treatment"],
            &format!("{what} treatment"),
        );
        let reduction = num(&want["variance_reduction"]);
        close(
            got.variance_reduction,
            reduction,
            &format!("{what} reduction"),
        );
        let z = z_test(&got.control, &got.treatment, num(&case["alpha"])).expect("z test");
        close_test(&z, &want["z_test"], &format!("{what} adjusted z test"));
    }
}

#[test]
fn msprt_matches_root_finding() {
    for (case, want) in cases("msprt") {
        let args = ["diff", "variance", "tau_sq", "alpha"].map(|k| num(&case[k]));
        let got = msprt(args[0], args[1], args[2], args[3]).expect("msprt");
        let what = format!("msprt {args:?}");
        close(
            got.p_value,
            num(&want["p_value"]),
            &format!("{what} p-value"),
        );
        close_interval(&got.ci, &want["ci"], &what);
    }
}

#[test]
fn sequential_over_matches_running_min_and_intersection() {
    let seq = &data()["sequential"];
    let looks: Vec<(f64, f64)> = items(&seq["looks"])
        .iter()
        .map(|look| (num(&look[0]), num(&look[1])))
        .collect();
    let got = sequential_over(&looks, num(&seq["tau_sq"]), num(&seq["alpha"])).expect("looks");
    let want = &reference()["sequential"];
    close(got.p_value, num(&want["p_value"]), "sequential p-value");
    close_interval(&got.ci, &want["ci"], "sequential ci");
}

#[test]
fn mixing_variance_is_the_minimiser_scipy_finds() {
    for (case, want) in cases("mixing_variance") {
        let [sigma_sq, n_star, alpha] = ["sigma_sq", "n_star", "alpha"].map(|k| num(&case[k]));
        let tau_sq = mixing_variance(sigma_sq, n_star, alpha).expect("mixing variance");
        let what = format!("mixing variance {sigma_sq} {n_star} {alpha}");
        close(tau_sq, num(&want["tau_sq"]), &what);
        let minimise = num(&want["tau_sq_minimize"]);
        assert!(
            (tau_sq / minimise - 1.0).abs() < 1e-4,
            "{what}: minimize_scalar {minimise}"
        );
        let v = 2.0 * sigma_sq / n_star;
        let half = msprt(0.0, v, tau_sq, alpha).expect("msprt").ci.hi;
        let best = num(&want["half_width_min"]);
        assert!(
            half <= best * (1.0 + 1e-12),
            "{what}: half-width {half} > {best}"
        );
    }
}

#[test]
fn corrections_match_statsmodels_multipletests() {
    let sets = items(&data()["p_values"]);
    for (name, correct) in [
        ("holm", holm as fn(&[f64]) -> Vec<f64>),
        ("benjamini_hochberg", benjamini_hochberg),
    ] {
        let expected = items(&reference()[name]);
        assert_eq!(sets.len(), expected.len());
        for (set, want) in sets.iter().zip(expected) {
            let got = correct(&floats(set));
            let want = floats(want);
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                close(*g, *w, &format!("{name} of {set} at {i}"));
            }
        }
    }
}

#[test]
fn sample_ratio_matches_scipy_chisquare() {
    for (case, want) in cases("sample_ratio") {
        let observed: Vec<u64> = items(&case["observed"]).iter().map(count).collect();
        let got = sample_ratio(&observed, &floats(&case["weights"])).expect("sample ratio");
        let what = format!("sample ratio {observed:?}");
        close(
            got.chi_square,
            num(&want["chi_square"]),
            &format!("{what} chi-square"),
        );
        close(
            got.p_value,
            num(&want["p_value"]),
            &format!("{what} p-value"),
        );
        assert_eq!(got.df as u64, count(&want["df"]), "{what} df");
    }
}

fn within_sketch_accuracy(actual: f64, expected: f64, what: &str) {
    let error = (actual - expected).abs();
    assert!(
        error <= SKETCH_TOL * expected.abs(),
        "{what}: sketch {actual}, exact {expected} (relative error {})",
        error / expected.abs()
    );
}

#[test]
fn sketch_quantiles_match_numpy_order_statistics() {
    let sk = &data()["sketch"];
    let values = floats(&sk["values"]);
    let alpha = num(&sk["alpha"]);
    let mut whole = QuantileSketch::new();
    values.iter().for_each(|v| whole.add(*v));
    let (mut first, mut second) = (QuantileSketch::new(), QuantileSketch::new());
    let (head, tail) = values.split_at(values.len() / 3);
    head.iter().for_each(|v| first.add(*v));
    tail.iter().for_each(|v| second.add(*v));
    first.merge(&second);
    assert_eq!(
        first, whole,
        "merging the parts gives the sketch of the whole"
    );
    assert_eq!(whole.count(), values.len() as u64);
    let z = 1.959_963_984_540_054;
    for want in items(&reference()["sketch"]) {
        let q = num(&want["q"]);
        let what = format!("p{}", q * 100.0);
        let got = whole.quantile(q).expect("quantile");
        within_sketch_accuracy(got, num(&want["quantile"]), &what);
        let ci = whole.quantile_interval(q, alpha).expect("interval");
        let (lo, hi) = (num(&want["lo"]), num(&want["hi"]));
        within_sketch_accuracy(ci.lo, lo, &format!("{what} interval lo"));
        within_sketch_accuracy(ci.hi, hi, &format!("{what} interval hi"));
        let estimate = whole.estimate(q, alpha).expect("estimate");
        assert_eq!(estimate.mean, got);
        // Each end is within 1%, so the width is within 1% of the sum of the ends.
        let sd_exact = (hi - lo) / (2.0 * z);
        let sd_bound = SKETCH_TOL * (hi + lo) / (2.0 * z);
        let sd = estimate.variance.sqrt();
        assert!(
            (sd - sd_exact).abs() <= sd_bound,
            "{what} sd {sd} against {sd_exact}"
        );
    }
}
