//! Tests of the experiment statistics: the sample-ratio check, its critical values, the tally and the
//! predicted shares.

use super::*;

#[test]
fn an_even_split_is_consistent_and_a_skewed_one_is_a_mismatch() {
    assert!(matches!(
        sample_ratio(&[5_050, 4_950], &[50, 50]),
        Verdict::Consistent { .. }
    ));
    // 52/48 over 10,000 evaluations: chi-square 16, far beyond 10.83.
    let skewed = sample_ratio(&[5_200, 4_800], &[50, 50]);
    assert!(skewed.is_mismatch(), "{skewed:?}");
    assert_eq!(skewed.chi_square(), Some(16.0));
    assert!(matches!(
        sample_ratio(&[900, 100], &[90, 10]),
        Verdict::Consistent { .. }
    ));
}

#[test]
fn small_samples_and_zero_percent_variants_are_handled() {
    assert_eq!(sample_ratio(&[3, 2], &[50, 50]), Verdict::TooFew);
    assert_eq!(
        sample_ratio(&[100, 0], &[100, 0]),
        Verdict::TooFew,
        "nothing is split"
    );
    assert!(sample_ratio(&[100, 1, 100], &[50, 0, 50]).is_mismatch());
}

#[test]
fn critical_values_follow_the_table_and_the_approximation_joins_it() {
    assert_eq!(critical_value(1), 10.828);
    assert_eq!(critical_value(10), 29.588);
    // The approximation is within 1% of the table's next values (df 11: 31.264, df 20: 45.315).
    assert!((critical_value(11) - 31.264).abs() < 0.3);
    assert!((critical_value(20) - 45.315).abs() < 0.4);
}

fn count(hour: i64, segment: i64, variant: i64, evaluations: u64) -> ServedCount {
    ServedCount {
        hour,
        segment,
        variant,
        evaluations,
    }
}

#[test]
fn the_tally_sorts_counts_into_variants_buckets_and_segments() {
    let buckets = Buckets {
        start: 0,
        length: 7200,
        count: 2,
    };
    let counts = [
        count(0, 1, 10, 5),
        count(3600, 1, 11, 7),
        count(7200, 2, 10, 3),
        count(7200, 1, 0, 4),
        count(7200, 1, 99, 2),
    ];
    let tally = Tally::of(&counts, &[10, 11], &buckets);
    assert_eq!(tally.served, [8, 7]);
    assert_eq!(tally.per_bucket, [vec![5, 7], vec![3, 0]]);
    assert_eq!(tally.by_segment[&1], [5, 7]);
    assert_eq!(tally.by_segment[&2], [3, 0]);
    assert_eq!(tally.unserved, 6, "no variant, and a variant not listed");
    assert_eq!(tally.served_total(), 15);
}

#[test]
fn predicted_shares_weight_each_segment_by_what_it_matched() {
    let split = Split::new([(1, vec![(10, 50), (11, 50)]), (2, vec![(10, 100)])]);
    let buckets = Buckets {
        start: 0,
        length: 3600,
        count: 1,
    };
    let tally = Tally::of(
        &[
            count(0, 1, 10, 30),
            count(0, 1, 11, 10),
            count(0, 2, 10, 60),
        ],
        &[10, 11],
        &buckets,
    );
    let shares = tally.predicted_shares(&split, &[10, 11]).expect("served");
    assert!((shares[0] - 0.8).abs() < 1e-9 && (shares[1] - 0.2).abs() < 1e-9);
    let checks = tally.ratio_checks(&split, &[10, 11]);
    assert_eq!(checks.len(), 1, "only segment 1 splits");
    assert_eq!((checks[0].segment, checks[0].matched), (1, 40));
    assert_eq!(checks[0].percents, [50, 50]);
    let gone = Split::new([(1, vec![(10, 50), (11, 50)])]);
    assert_eq!(tally.predicted_shares(&gone, &[10, 11]), None);
    assert_eq!(
        Tally::of(&[], &[10], &buckets).predicted_shares(&split, &[10]),
        None
    );
}
