//! The sample-ratio check of a flag's exposures: entities exposed per variant against the split its
//! configuration predicts (each segment's distribution weighted by the evaluations it matched since
//! the first exposure, or the one distribution all segments share).

use crate::{Analytics, AnalyticsError};
use flagent_eval::FlagConfig;
use flagent_stats::sample_ratio;
use flagent_storage::entities::{flag, variant};
use flagent_types::TenantScope;
use serde::Serialize;
use std::collections::BTreeMap;

/// Below this p-value the split is reported as a mismatch (the usual threshold for this check).
pub(super) const SRM_THRESHOLD: f64 = 0.001;

/// The check's answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SrmView {
    /// The chi-square p-value.
    pub p_value: f64,
    /// The chi-square statistic.
    pub chi_square: f64,
    /// The share of entities each variant should get.
    pub expected: BTreeMap<String, f64>,
    /// The entities each variant got.
    pub observed: BTreeMap<String, u64>,
    /// Whether the split is off (p below 0.001).
    pub mismatch: bool,
}

pub(super) async fn check(
    analytics: &Analytics,
    scope: &TenantScope,
    flag: &flag::Model,
    variants: &[variant::Model],
    exposed: &BTreeMap<i64, u64>,
    first_day: Option<i64>,
) -> Result<Option<SrmView>, AnalyticsError> {
    let Some(first_day) = first_day else {
        return Ok(None);
    };
    let snapshot = analytics
        .cache
        .snapshot(scope.tenant_id(), scope.environment_id())
        .unwrap_or_default();
    let Some(config) = snapshot.flag_by_id(flag.id).map(|f| f.config().clone()) else {
        return Ok(None);
    };
    let since = first_day * 86_400;
    let counts = analytics
        .db
        .scoped(scope)
        .variant_counts(scope.environment_id().0, flag.id, since)
        .await?;
    let mut matched: BTreeMap<i64, u64> = BTreeMap::new();
    for c in counts {
        *matched.entry(c.segment_id).or_default() += u64::try_from(c.evaluations).unwrap_or(0);
    }
    let Some(weights) = expected(&config, &matched, variants) else {
        return Ok(None);
    };
    let observed: Vec<u64> = variants
        .iter()
        .map(|v| exposed.get(&v.id).copied().unwrap_or(0))
        .collect();
    let Some(check) = sample_ratio(&observed, &weights) else {
        return Ok(None);
    };
    let total: f64 = weights.iter().sum();
    Ok(Some(SrmView {
        p_value: check.p_value,
        chi_square: check.chi_square,
        expected: variants
            .iter()
            .zip(&weights)
            .map(|(v, w)| (v.key.clone(), w / total))
            .collect(),
        observed: variants
            .iter()
            .zip(&observed)
            .map(|(v, n)| (v.key.clone(), *n))
            .collect(),
        mismatch: check.p_value < SRM_THRESHOLD,
    }))
}

/// Each variant's expected weight: segments' distributions weighted by the evaluations they matched,
/// or, without counts, the distribution every segment shares.
fn expected(
    config: &FlagConfig,
    matched: &BTreeMap<i64, u64>,
    variants: &[variant::Model],
) -> Option<Vec<f64>> {
    let percent = |segment: &flagent_eval::SegmentConfig, variant: i64| {
        segment
            .distributions
            .iter()
            .find(|d| d.variant_id == variant)
            .map_or(0.0, |d| d.percent as f64)
    };
    let splitting: Vec<_> = config
        .segments
        .iter()
        .filter(|s| !s.distributions.is_empty())
        .collect();
    let weighted: Vec<f64> = variants
        .iter()
        .map(|v| {
            splitting
                .iter()
                .map(|s| matched.get(&s.id).copied().unwrap_or(0) as f64 * percent(s, v.id))
                .sum()
        })
        .collect();
    if weighted.iter().sum::<f64>() > 0.0 {
        return Some(weighted);
    }
    let first = splitting.first()?;
    let shared: Vec<f64> = variants.iter().map(|v| percent(first, v.id)).collect();
    let all_share = splitting.iter().all(|s| {
        variants
            .iter()
            .all(|v| percent(s, v.id) == percent(first, v.id))
    });
    (all_share && shared.iter().sum::<f64>() > 0.0).then_some(shared)
}
