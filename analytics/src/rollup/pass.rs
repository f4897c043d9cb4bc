//! One rollup pass: read below the horizon, pair exposures with events per tenant and environment,
//! fold the pairs into entity values and daily sums, move the cursors, commit.

use super::values::{Part, Rule, Seen, Side, side};
use super::{Pass, RULE_CHUNK};
use crate::metrics::{MetricKind, built_ins};
use crate::time::{HOUR_MS, day_of};
use crate::{Analytics, AnalyticsError};
use flagent_storage::entities::{event, exposure, metric};
use flagent_storage::{GroupTx, StorageError};
use flagent_types::{SystemScope, TenantId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

const EXPOSURES: &str = "exposures";
const EVENTS: &str = "events";

/// The new rows of one tenant's environment.
#[derive(Default)]
struct Work {
    exposures: Vec<exposure::Model>,
    events: Vec<event::Model>,
}

pub(super) async fn run(
    analytics: &Analytics,
    system: &SystemScope,
    limit: u64,
) -> Result<Pass, AnalyticsError> {
    let mut group = analytics.db.begin_system_group(system).await?;
    match fold(analytics, &mut group, limit).await {
        Ok(Folded::Done(pass)) => {
            group.commit().await?;
            Ok(pass)
        }
        Ok(Folded::Nothing) => {
            group.rollback().await?;
            Ok(Pass::default())
        }
        Ok(Folded::Raced) => {
            group.rollback().await?;
            Ok(Pass {
                raced: true,
                ..Pass::default()
            })
        }
        Err(err) => {
            // At once: a dropped transaction keeps its locks until the connection is used again.
            let _ = group.rollback().await;
            Err(err)
        }
    }
}

/// How a pass's work inside its transaction ended.
enum Folded {
    /// Rows were rolled up and the cursors moved: commit.
    Done(Pass),
    /// Nothing new below the horizon: roll back.
    Nothing,
    /// Another pass moved the cursors first: roll back.
    Raced,
}

/// The pass inside its transaction.
async fn fold(
    analytics: &Analytics,
    group: &mut GroupTx,
    limit: u64,
) -> Result<Folded, AnalyticsError> {
    let newest = group.newest_ids().await?;
    let (safe_x, safe_e) = analytics.horizon.safe(analytics.clock.now_millis(), newest);
    let (cx, ce) = (group.cursor(EXPOSURES).await?, group.cursor(EVENTS).await?);
    let mut exposures = Vec::new();
    if safe_x > cx {
        exposures = group.exposures_after(cx, limit).await?;
        exposures.retain(|x| x.id <= safe_x);
    }
    let mut events = Vec::new();
    if safe_e > ce {
        events = group.events_after(ce, limit).await?;
        events.retain(|e| e.id <= safe_e);
    }
    if exposures.is_empty() && events.is_empty() {
        return Ok(Folded::Nothing);
    }
    let (nx, ne) = (
        exposures.last().map_or(cx, |x| x.id),
        events.last().map_or(ce, |e| e.id),
    );
    let pass = Pass {
        exposures: exposures.len(),
        events: events.len(),
        raced: false,
    };
    let mut work: BTreeMap<(i64, i64), Work> = BTreeMap::new();
    for x in exposures {
        work.entry((x.tenant_id, x.environment_id))
            .or_default()
            .exposures
            .push(x);
    }
    for e in events {
        work.entry((e.tenant_id, e.environment_id))
            .or_default()
            .events
            .push(e);
    }
    let mut book = RuleBook::default();
    for ((tenant, environment), w) in work {
        let place = Place {
            tenant: TenantId(tenant),
            environment,
        };
        roll(group, &mut book, place, w, (ce, nx)).await?;
    }
    let moved = (nx == cx || group.move_cursor(EXPOSURES, cx, nx).await?)
        && (ne == ce || group.move_cursor(EVENTS, ce, ne).await?);
    Ok(if moved {
        Folded::Done(pass)
    } else {
        Folded::Raced
    })
}

/// One tenant's environment.
#[derive(Clone, Copy)]
struct Place {
    tenant: TenantId,
    environment: i64,
}

/// The rules of each flag's project, loaded as flags turn up.
#[derive(Default)]
struct RuleBook {
    flags: HashMap<i64, Option<Arc<Vec<Rule>>>>,
}

impl RuleBook {
    /// Loads the rules of the flags not seen yet, checking each flag belongs to `tenant`.
    async fn load(
        &mut self,
        group: &GroupTx,
        tenant: TenantId,
        flags: &BTreeSet<i64>,
    ) -> Result<(), StorageError> {
        let missing: Vec<i64> = flags
            .iter()
            .copied()
            .filter(|f| !self.flags.contains_key(f))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let rows = group.flags_by_ids(&missing).await?;
        let projects: Vec<i64> = rows.iter().map(|f| f.project_id).collect();
        let metrics = group.metrics_of_projects(&projects).await?;
        let mut by_project: HashMap<i64, Arc<Vec<Rule>>> = HashMap::new();
        for flag in &missing {
            let row = rows
                .iter()
                .find(|r| r.id == *flag && r.tenant_id == tenant.0);
            let rules = row.map(|r| {
                by_project
                    .entry(r.project_id)
                    .or_insert_with(|| Arc::new(project_rules(&metrics, tenant, r.project_id)))
                    .clone()
            });
            self.flags.insert(*flag, rules);
        }
        Ok(())
    }

    fn of(&self, flag: i64) -> Option<&Arc<Vec<Rule>>> {
        self.flags.get(&flag).and_then(Option::as_ref)
    }
}

/// The rules of one project: the built-in metrics, then its own.
fn project_rules(metrics: &[metric::Model], tenant: TenantId, project: i64) -> Vec<Rule> {
    let own: Vec<&metric::Model> = metrics
        .iter()
        .filter(|m| m.project_id == project && m.tenant_id == tenant.0)
        .collect();
    let part = |id: Option<i64>| -> Option<Part> {
        let m = own.iter().find(|m| Some(m.id) == id)?;
        Some(Part {
            kind: MetricKind::parse(&m.kind)?,
            event: m.event_key.clone()?,
            value_property: m.value_property.clone(),
        })
    };
    let mut rules: Vec<Rule> = built_ins()
        .into_iter()
        .map(|m| Rule {
            id: m.id,
            kind: m.kind,
            event: m.event.unwrap_or_default(),
            value_property: None,
            window_ms: m.window_hours * HOUR_MS,
            cap: None,
            parts: None,
        })
        .collect();
    for m in &own {
        let Some(kind) = MetricKind::parse(&m.kind) else {
            continue;
        };
        let parts = match kind {
            MetricKind::Ratio => match (part(m.numerator_id), part(m.denominator_id)) {
                (Some(n), Some(d)) => Some([n, d]),
                _ => continue,
            },
            _ => None,
        };
        rules.push(Rule {
            id: m.id,
            kind,
            event: m.event_key.clone().unwrap_or_default(),
            value_property: m.value_property.clone(),
            window_ms: m.window_hours * HOUR_MS,
            cap: m.winsorize_at,
            parts,
        });
    }
    rules
}

/// An exposure, as far as pairing needs it.
#[derive(Clone, Copy)]
pub(super) struct Exposed {
    pub(super) variant: i64,
    pub(super) at: i64,
}

/// One (flag, metric, entity)'s events to fold, with where the entity was exposed.
pub(super) struct Change<'e> {
    pub(super) exposed: Exposed,
    pub(super) events: Vec<(Side, &'e event::Model)>,
}

/// Rolls up one environment's new rows.
async fn roll(
    group: &mut GroupTx,
    book: &mut RuleBook,
    place: Place,
    work: Work,
    (old_event_cursor, new_exposure_cursor): (i64, i64),
) -> Result<(), AnalyticsError> {
    // The events already rolled up that the new exposures pair with.
    let entities: BTreeSet<i64> = work.exposures.iter().map(|x| x.entity).collect();
    let widest = 90 * 24 * HOUR_MS;
    let (from, to) = work
        .exposures
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), x| {
            (lo.min(x.exposed_at), hi.max(x.exposed_at))
        });
    let mut earlier = Vec::new();
    let mut exposed_before = Vec::new();
    {
        let scoped = group.scoped_for_system(place.tenant).await?;
        for chunk in entities
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .chunks(RULE_CHUNK)
        {
            earlier.extend(
                scoped
                    .events_of_entities(
                        place.environment,
                        chunk,
                        old_event_cursor,
                        (from.saturating_sub(widest), to.saturating_add(widest)),
                    )
                    .await?,
            );
        }
        let entities: BTreeSet<i64> = work.events.iter().map(|e| e.entity).collect();
        for chunk in entities
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .chunks(RULE_CHUNK)
        {
            exposed_before.extend(
                scoped
                    .exposures_of_entities(place.environment, chunk, new_exposure_cursor)
                    .await?,
            );
        }
    }
    let flags: BTreeSet<i64> = work
        .exposures
        .iter()
        .chain(&exposed_before)
        .map(|x| x.flag_id)
        .collect();
    book.load(group, place.tenant, &flags).await?;
    let mut changes: BTreeMap<(i64, i64, i64), Change<'_>> = BTreeMap::new();
    pair(book, &work.exposures, &earlier, &mut changes);
    pair(book, &exposed_before, &work.events, &mut changes);
    let scoped = group.scoped_for_system(place.tenant).await?;
    super::fold::save(&scoped, book_rules(book), place.environment, changes).await?;
    super::fold::count_exposures(&scoped, place.environment, &work.exposures).await?;
    Ok(())
}

/// Every rule by (flag, metric id), for folding.
fn book_rules(book: &RuleBook) -> HashMap<(i64, i64), Rule> {
    let mut all = HashMap::new();
    for (flag, rules) in &book.flags {
        for rule in rules.iter().flat_map(|r| r.iter()) {
            all.insert((*flag, rule.id), rule.clone());
        }
    }
    all
}

/// Adds each (exposure, event) pair of one entity to `changes`, for each rule reading the event.
fn pair<'e>(
    book: &RuleBook,
    exposures: &[exposure::Model],
    events: &'e [event::Model],
    changes: &mut BTreeMap<(i64, i64, i64), Change<'e>>,
) {
    let mut by_entity: HashMap<i64, Vec<&'e event::Model>> = HashMap::new();
    for e in events {
        by_entity.entry(e.entity).or_default().push(e);
    }
    for x in exposures {
        let (Some(rules), Some(seen)) = (book.of(x.flag_id), by_entity.get(&x.entity)) else {
            continue;
        };
        let exposed = Exposed {
            variant: x.variant_id,
            at: x.exposed_at,
        };
        for rule in rules.iter() {
            for e in seen.iter().filter(|e| rule.reads(&e.event_key)) {
                if let Some(where_) = side(x.exposed_at, e.occurred_at, rule.window_ms) {
                    changes
                        .entry((x.flag_id, rule.id, x.entity))
                        .or_insert_with(|| Change {
                            exposed,
                            events: Vec::new(),
                        })
                        .events
                        .push((where_, e));
                }
            }
        }
    }
}

/// What folding a change needs to know of its events.
pub(super) fn seen<'a>(e: &'a event::Model, properties: Option<&'a serde_json::Value>) -> Seen<'a> {
    Seen {
        key: &e.event_key,
        value: e.value,
        properties,
    }
}

/// The day an entity exposed at `at` counts in.
pub(super) fn exposure_day(at: i64) -> i64 {
    day_of(at)
}

pub(super) use Change as EntityChange;
