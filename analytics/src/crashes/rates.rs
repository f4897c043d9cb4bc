//! Crash rates of one group per flag variant (`Analytics::crash_rates`): for each flag whose variants
//! were active in the group's reports, the group's crashes per entity exposed to each variant, with
//! the exposures counted from the same daily sums (`exposure_daily`) experiment results read.
//!
//! Invariant: everything is read through the caller's scope: the group must be one of the caller's
//! environment, flags are looked up by key in the caller's project and exposures in the caller's
//! environment, so another tenant's, project's or environment's counts never enter a rate. A key that
//! names no flag of the project keeps its crash counts, with no exposures and so no rate.

use crate::{Analytics, AnalyticsError};
use flagent_storage::entities::crash_group_variant;
use flagent_types::{TenantScope, perm};
use std::collections::{BTreeMap, HashMap};

/// Flags whose rates one group shows at most (those with the most crashes).
pub const MAX_RATE_FLAGS: usize = 20;

/// One variant's crashes in a group against its exposures.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCrashRate {
    /// The variant's key.
    pub variant_key: String,
    /// The group's reports with this variant active.
    pub crashes: u64,
    /// Entities exposed to the variant in the environment.
    pub exposed: u64,
    /// Crashes per exposed entity; none without exposures.
    pub rate: Option<f64>,
}

/// The crash rates of one flag's variants in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagCrashRates {
    /// The flag's key, as the reports named it.
    pub flag_key: String,
    /// The flag's id, when a live flag of the project has the key.
    pub flag_id: Option<i64>,
    /// The flag's variants in its order, then any variant the reports named that it does not have.
    pub variants: Vec<VariantCrashRate>,
}

/// The crash rates of a group, flag by flag.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrashRates {
    /// At most [`MAX_RATE_FLAGS`] flags, the most crashes first (ties by key).
    pub flags: Vec<FlagCrashRates>,
    /// Flags with crashes in the group left out.
    pub more: usize,
}

impl Analytics {
    /// The crash rates per flag variant of the crash group `id` of the caller's environment.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), group_id = id))]
    pub async fn crash_rates(
        &self,
        scope: &TenantScope,
        id: i64,
    ) -> Result<CrashRates, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let environment = scope.environment_id().0;
        db.crash_group(environment, id)
            .await?
            .ok_or(AnalyticsError::CrashGroupNotFound(id))?;
        let (chosen, more) = by_flag(db.crash_group_variants(&[id]).await?);
        let mut flags = Vec::with_capacity(chosen.len());
        for (flag_key, crashed) in chosen {
            let Some(flag) = db.flag_by_key(scope.project_id().0, &flag_key).await? else {
                flags.push(rates(flag_key, None, &[], &crashed));
                continue;
            };
            let mut exposed: HashMap<i64, u64> = HashMap::new();
            for day in db.exposure_days(environment, flag.id).await? {
                *exposed.entry(day.variant_id).or_default() +=
                    u64::try_from(day.entities).unwrap_or(0);
            }
            let variants: Vec<(String, u64)> = db
                .variants_of_flag(flag.id)
                .await?
                .into_iter()
                .map(|v| {
                    let n = exposed.get(&v.id).copied().unwrap_or(0);
                    (v.key, n)
                })
                .collect();
            let live = flag.deleted_at.is_none().then_some(flag.id);
            flags.push(rates(flag_key, live, &variants, &crashed));
        }
        Ok(CrashRates { flags, more })
    }
}

/// One flag's crashes in a group: its key, and the crashes per variant key.
type FlagCounts = (String, Vec<(String, u64)>);

/// A group's counts by flag key, the flags with the most crashes first (ties by key), at most
/// [`MAX_RATE_FLAGS`] of them, and how many were left out.
fn by_flag(counts: Vec<crash_group_variant::Model>) -> (Vec<FlagCounts>, usize) {
    let mut flags: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for row in counts {
        let crashes = u64::try_from(row.crashes).unwrap_or(0);
        flags
            .entry(row.flag_key)
            .or_default()
            .push((row.variant_key, crashes));
    }
    let mut flags: Vec<FlagCounts> = flags.into_iter().collect();
    let total = |v: &[(String, u64)]| v.iter().map(|(_, n)| n).sum::<u64>();
    flags.sort_by(|(a_key, a), (b_key, b)| total(b).cmp(&total(a)).then(a_key.cmp(b_key)));
    let more = flags.len().saturating_sub(MAX_RATE_FLAGS);
    flags.truncate(MAX_RATE_FLAGS);
    (flags, more)
}

/// The rates of flag `flag_key`, whose variants (key, entities exposed) are `variants` in the flag's
/// order, from the group's crashes per variant key `crashed`.
fn rates(
    flag_key: String,
    flag_id: Option<i64>,
    variants: &[(String, u64)],
    crashed: &[(String, u64)],
) -> FlagCrashRates {
    let crashes_of = |key: &str| {
        crashed
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, n)| *n)
    };
    let unknown = crashed
        .iter()
        .filter(|(key, _)| !variants.iter().any(|(k, _)| k == key))
        .map(|(key, _)| (key.clone(), 0));
    let rows = variants
        .iter()
        .cloned()
        .chain(unknown)
        .map(|(variant_key, exposed)| {
            let crashes = crashes_of(&variant_key);
            VariantCrashRate {
                rate: (exposed > 0).then(|| crashes as f64 / exposed as f64),
                variant_key,
                crashes,
                exposed,
            }
        })
        .collect();
    FlagCrashRates {
        flag_key,
        flag_id,
        variants: rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(flag: &str, variant: &str, crashes: i64) -> crash_group_variant::Model {
        crash_group_variant::Model {
            id: 0,
            tenant_id: 0,
            group_id: 1,
            flag_key: flag.into(),
            variant_key: variant.into(),
            crashes,
        }
    }

    fn pairs(items: &[(&str, u64)]) -> Vec<(String, u64)> {
        items.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    }

    #[test]
    fn each_variant_divides_its_crashes_by_its_exposed_entities() {
        let variants = pairs(&[("control", 100), ("treatment", 100), ("idle", 0)]);
        let crashed = pairs(&[("treatment", 12), ("control", 3), ("gone", 2)]);
        let flag = rates("checkout".into(), Some(7), &variants, &crashed);
        assert_eq!(
            (flag.flag_key.as_str(), flag.flag_id),
            ("checkout", Some(7))
        );
        let rows: Vec<(&str, u64, u64, Option<f64>)> = flag
            .variants
            .iter()
            .map(|v| (v.variant_key.as_str(), v.crashes, v.exposed, v.rate))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("control", 3, 100, Some(0.03)),
                ("treatment", 12, 100, Some(0.12)),
                ("idle", 0, 0, None),
                ("gone", 2, 0, None),
            ]
        );
    }

    #[test]
    fn a_key_no_flag_has_keeps_its_counts_without_rates() {
        let flag = rates("theme".into(), None, &[], &pairs(&[("dark", 1)]));
        assert_eq!(
            flag.variants,
            vec![VariantCrashRate {
                variant_key: "dark".into(),
                crashes: 1,
                exposed: 0,
                rate: None,
            }]
        );
    }

    #[test]
    fn flags_with_the_most_crashes_come_first_and_the_rest_are_counted() {
        let (flags, more) = by_flag(vec![
            count("a", "on", 1),
            count("b", "off", 2),
            count("b", "on", 3),
            count("c", "on", 1),
        ]);
        let keys: Vec<&str> = flags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!((keys, more), (vec!["b", "a", "c"], 0));
        assert_eq!(flags[0].1, pairs(&[("off", 2), ("on", 3)]));
        let many: Vec<_> = (0..MAX_RATE_FLAGS + 3)
            .map(|i| count(&format!("f{i:02}"), "on", 1))
            .collect();
        let (flags, more) = by_flag(many);
        assert_eq!((flags.len(), more), (MAX_RATE_FLAGS, 3));
        assert_eq!(flags[0].0, "f00");
    }
}
