//! Funnels (`GET /api/v1/flags/{id}/funnel?steps=…&windowHours=…`): of a flag's exposed entities, per
//! variant, how many did each of a list of conversion metrics in order, and the step-to-step rates
//! with Wilson intervals.
//!
//! An entity reaches step 1 when it did the first step's event in that metric's window after
//! exposure, and step k when it reached step k − 1 and the first time it did step k's event is not
//! before the time it reached step k − 1 and is less than the funnel's window after step 1. Times are
//! each metric's first event after exposure, kept by the rollup (`metric_entities.first_at`), so a
//! funnel reads one row per entity and step, never raw events.

use crate::experiments::{experiment_view, own_flag};
use crate::metrics::{MetricKind, views};
use crate::results::ALPHA;
use crate::time::HOUR_MS;
use crate::{Analytics, AnalyticsError};
use flagent_stats::{two_proportion, wilson};
use flagent_types::{FlagId, TenantScope, perm};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Steps a funnel has at most.
pub const MAX_STEPS: usize = 10;
/// The funnel's window when the request names none: 7 days.
pub const DEFAULT_WINDOW_HOURS: i64 = 168;
/// The longest window: 90 days.
pub const MAX_WINDOW_HOURS: i64 = 2_160;

/// What a funnel is asked for.
#[derive(Debug, Clone, Default)]
pub struct FunnelQuery {
    /// The steps' metric keys, in order (comma-separated on the wire).
    pub steps: String,
    /// Hours after the first step within which the later steps count.
    pub window_hours: Option<i64>,
}

/// A flag's funnel in the caller's environment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    /// The flag.
    pub flag_id: i64,
    /// The environment.
    pub environment_id: i64,
    /// The steps' metric keys, in order.
    pub steps: Vec<String>,
    /// Hours after the first step within which the later steps count.
    pub window_hours: i64,
    /// The control variant's key.
    pub control: Option<String>,
    /// One row per variant, the control first.
    pub variants: Vec<FunnelVariant>,
}

/// One variant's funnel.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelVariant {
    /// The variant's key.
    pub variant: String,
    /// Whether it is the control.
    pub control: bool,
    /// Entities exposed.
    pub exposed: u64,
    /// Each step, in order.
    pub steps: Vec<FunnelStep>,
    /// The whole funnel's completion (exposed to the last step) against the control's: none for the
    /// control or while a side has no entity.
    pub completion: Option<Completion>,
}

/// One step of a variant's funnel.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelStep {
    /// The step's metric key.
    pub metric: String,
    /// Entities that reached it.
    pub entities: u64,
    /// Of the entities at the step before (the exposed, for the first step), the share that reached
    /// this one.
    pub rate: Option<f64>,
    /// Wilson 95% interval of `rate`.
    pub rate_ci95: Option<[f64; 2]>,
    /// Of the exposed entities, the share that reached this step.
    pub overall: Option<f64>,
    /// Wilson 95% interval of `overall`.
    pub overall_ci95: Option<[f64; 2]>,
}

/// A variant's completion against the control's: the two-proportion z test.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// Completion rate minus the control's.
    pub abs_diff: f64,
    /// The Wald 95% interval of `absDiff`.
    pub ci95: [f64; 2],
    /// The two-sided p-value (pooled z test).
    pub p_value: f64,
}

/// How many steps, in order, an entity with first times `times` (one per step) reached.
pub(crate) fn reached(times: &[Option<i64>], window_ms: i64) -> usize {
    let Some(Some(start)) = times.first().copied() else {
        return 0;
    };
    let mut last = start;
    let mut steps = 1;
    for time in &times[1..] {
        match *time {
            Some(t) if t >= last && t - start < window_ms => {
                last = t;
                steps += 1;
            }
            _ => break,
        }
    }
    steps
}

/// Per variant, the entities at each step, from each entity's (variant, first times).
pub(crate) fn tally(
    entities: impl IntoIterator<Item = (i64, Vec<Option<i64>>)>,
    steps: usize,
    window_ms: i64,
) -> HashMap<i64, Vec<u64>> {
    let mut counts: HashMap<i64, Vec<u64>> = HashMap::new();
    for (variant, times) in entities {
        let n = reached(&times, window_ms);
        let row = counts.entry(variant).or_insert_with(|| vec![0; steps]);
        for count in row.iter_mut().take(n) {
            *count += 1;
        }
    }
    counts
}

/// A proportion and its Wilson interval.
fn share(part: u64, whole: u64) -> (Option<f64>, Option<[f64; 2]>) {
    if whole == 0 || part > whole {
        return (None, None);
    }
    let interval = wilson(part, whole, ALPHA).map(|i| [i.lo, i.hi]);
    (Some(part as f64 / whole as f64), interval)
}

/// One variant's steps from its counts.
fn steps_of(keys: &[String], exposed: u64, counts: &[u64]) -> Vec<FunnelStep> {
    let mut before = exposed;
    keys.iter()
        .zip(counts)
        .map(|(key, &entities)| {
            let (rate, rate_ci95) = share(entities, before);
            let (overall, overall_ci95) = share(entities, exposed);
            before = entities;
            FunnelStep {
                metric: key.clone(),
                entities,
                rate,
                rate_ci95,
                overall,
                overall_ci95,
            }
        })
        .collect()
}

/// The steps and window of `query`, checked.
fn checked(query: &FunnelQuery) -> Result<(Vec<String>, i64), AnalyticsError> {
    let steps: Vec<String> = query
        .steps
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if steps.len() < 2 || steps.len() > MAX_STEPS {
        return Err(AnalyticsError::invalid(
            "steps",
            format!(
                "a funnel has 2 to {MAX_STEPS} steps (metric keys separated by commas), not {}",
                steps.len()
            ),
        ));
    }
    for (i, step) in steps.iter().enumerate() {
        if steps[..i].contains(step) {
            return Err(AnalyticsError::invalid(
                "steps",
                format!("the step {step:?} is named twice"),
            ));
        }
    }
    let window = query.window_hours.unwrap_or(DEFAULT_WINDOW_HOURS);
    if !(1..=MAX_WINDOW_HOURS).contains(&window) {
        return Err(AnalyticsError::invalid(
            "windowHours",
            format!("the window is 1 to {MAX_WINDOW_HOURS} hours, not {window}"),
        ));
    }
    Ok((steps, window))
}

impl Analytics {
    /// The funnel of flag `flag` in the caller's environment.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id = flag.0))]
    pub async fn funnel(
        &self,
        scope: &TenantScope,
        flag: FlagId,
        query: &FunnelQuery,
    ) -> Result<Funnel, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        let row = own_flag(&db, scope, flag).await?;
        let (keys, window_hours) = checked(query)?;
        let metrics = views(&db.metrics_of_project(row.project_id).await?);
        let mut ids = Vec::with_capacity(keys.len());
        for key in &keys {
            let metric = metrics.iter().find(|m| &m.key == key).ok_or_else(|| {
                AnalyticsError::invalid("steps", format!("no metric {key:?} in this project"))
            })?;
            if metric.kind != MetricKind::Conversion {
                return Err(AnalyticsError::invalid(
                    "steps",
                    format!("the step {key:?} is not a conversion metric"),
                ));
            }
            ids.push(metric.id);
        }
        let variants = db.variants_of_flag(row.id).await?;
        let experiment = experiment_view(&db, row.id, &variants, &metrics).await?;
        let control = experiment.control_of(&variants);
        let environment = scope.environment_id().0;
        let mut exposed: BTreeMap<i64, u64> = BTreeMap::new();
        for d in db.exposure_days(environment, row.id).await? {
            *exposed.entry(d.variant_id).or_default() += u64::try_from(d.entities).unwrap_or(0);
        }
        let position: HashMap<i64, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut entities: HashMap<i64, (i64, Vec<Option<i64>>)> = HashMap::new();
        for (metric, variant, entity, at) in
            db.metric_first_times(environment, row.id, &ids).await?
        {
            let slot = entities
                .entry(entity)
                .or_insert_with(|| (variant, vec![None; ids.len()]));
            slot.1[position[&metric]] = Some(at);
        }
        let counts = tally(entities.into_values(), ids.len(), window_hours * HOUR_MS);
        let zeros = vec![0; ids.len()];
        let completed = |variant: i64| -> (u64, u64) {
            let done = counts
                .get(&variant)
                .and_then(|c| c.last().copied())
                .unwrap_or(0);
            (done, exposed.get(&variant).copied().unwrap_or(0))
        };
        let mut ordered: Vec<_> = variants.iter().collect();
        ordered.sort_by_key(|v| Some(v.id) != control);
        let rows = ordered
            .into_iter()
            .map(|v| {
                let n = exposed.get(&v.id).copied().unwrap_or(0);
                let is_control = Some(v.id) == control;
                let completion = control.filter(|_| !is_control).and_then(|c| {
                    let test = two_proportion(completed(c), completed(v.id), ALPHA)?;
                    Some(Completion {
                        abs_diff: test.diff,
                        ci95: [test.ci.lo, test.ci.hi],
                        p_value: test.p_value,
                    })
                });
                FunnelVariant {
                    variant: v.key.clone(),
                    control: is_control,
                    exposed: n,
                    steps: steps_of(&keys, n, counts.get(&v.id).unwrap_or(&zeros)),
                    completion,
                }
            })
            .collect();
        Ok(Funnel {
            flag_id: row.id,
            environment_id: environment,
            steps: keys,
            window_hours,
            control: control
                .and_then(|c| variants.iter().find(|v| v.id == c))
                .map(|v| v.key.clone()),
            variants: rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = HOUR_MS;

    #[test]
    fn an_entity_reaches_the_steps_it_did_in_order_within_the_window() {
        let window = 24 * HOUR;
        assert_eq!(reached(&[None, Some(1), Some(2)], window), 0);
        assert_eq!(reached(&[Some(0), None, Some(2)], window), 1);
        assert_eq!(reached(&[Some(0), Some(HOUR), Some(2 * HOUR)], window), 3);
        // The same instant counts as in order.
        assert_eq!(reached(&[Some(5), Some(5)], window), 2);
        // Step 2 before step 1 stops the entity at step 1.
        assert_eq!(reached(&[Some(10), Some(9), Some(11)], window), 1);
        // Step 3 after the window (counted from step 1) does not count; its end is exclusive.
        assert_eq!(reached(&[Some(0), Some(HOUR), Some(window)], window), 2);
        assert_eq!(reached(&[Some(0), Some(HOUR), Some(window - 1)], window), 3);
        assert_eq!(reached(&[], window), 0);
    }

    #[test]
    fn counts_are_cumulative_per_variant() {
        let window = HOUR;
        let entities = vec![
            (1, vec![Some(0), Some(1), Some(2)]),
            (1, vec![Some(0), Some(1), None]),
            (1, vec![Some(0), None, Some(2)]),
            (1, vec![None, Some(1), Some(2)]),
            (2, vec![Some(0), Some(1), Some(2)]),
        ];
        let counts = tally(entities, 3, window);
        assert_eq!(counts[&1], vec![3, 2, 1]);
        assert_eq!(counts[&2], vec![1, 1, 1]);
    }

    #[test]
    fn step_rates_are_against_the_step_before_and_overall_against_the_exposed() {
        let keys = vec!["a".to_owned(), "b".to_owned()];
        let steps = steps_of(&keys, 200, &[80, 20]);
        assert_eq!(steps[0].rate, Some(0.4));
        assert_eq!(steps[1].rate, Some(0.25));
        assert_eq!(steps[1].overall, Some(0.1));
        // statsmodels proportion_confint(20, 80, method="wilson"):
        // (0.16806231857542375, 0.3548467461923397)
        let [lo, hi] = steps[1].rate_ci95.unwrap();
        assert!((lo - 0.168_062_318_575_423_75).abs() < 1e-9, "{lo}");
        assert!((hi - 0.354_846_746_192_339_7).abs() < 1e-9, "{hi}");
        // Nobody exposed: no rates.
        let empty = steps_of(&keys, 0, &[0, 0]);
        assert_eq!((empty[0].rate, empty[1].overall_ci95), (None, None));
    }

    #[test]
    fn the_query_is_checked() {
        let q = |steps: &str, window: Option<i64>| FunnelQuery {
            steps: steps.to_owned(),
            window_hours: window,
        };
        assert!(checked(&q("a", None)).is_err());
        assert!(checked(&q("a,a", None)).is_err());
        assert!(checked(&q("a,b", Some(0))).is_err());
        assert!(checked(&q("a,b", Some(MAX_WINDOW_HOURS + 1))).is_err());
        let many: Vec<String> = (0..=MAX_STEPS).map(|i| format!("m{i}")).collect();
        assert!(checked(&q(&many.join(","), None)).is_err());
        assert_eq!(
            checked(&q(" a , b ", None)).unwrap(),
            (vec!["a".to_owned(), "b".to_owned()], DEFAULT_WINDOW_HOURS)
        );
    }
}
