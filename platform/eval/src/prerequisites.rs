//! Prerequisites (`depends_on`): evaluating a flag's dependencies before its segments, and finding cycles
//! before they are saved.
//!
//! Invariants: dependencies are evaluated from the same snapshot with the same entity id and context;
//! a stored cycle, a chain deeper than [`MAX_DEPTH`] flags or more than [`MAX_EVALUATIONS`] dependency
//! evaluations in one request stops with [`crate::Reason::Error`], without allocating and without deep
//! recursion.

use crate::evaluate::decide;
use crate::flag::CompiledFlag;
use crate::outcome::{Outcome, Unmet};
use crate::snapshot::Snapshot;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The longest chain of flags one evaluation follows, the requested flag included.
pub(crate) const MAX_DEPTH: usize = 16;

/// The most dependency evaluations one request may run (bounds wide, diamond-shaped graphs).
pub(crate) const MAX_EVALUATIONS: u32 = 256;

/// The flags being evaluated, outermost first, and the work done so far.
#[derive(Debug)]
pub(crate) struct Walk {
    path: [i64; MAX_DEPTH],
    depth: usize,
    evaluations: u32,
}

impl Walk {
    /// A walk that starts at the requested flag.
    pub(crate) fn start(root: i64) -> Walk {
        Walk {
            path: [root; MAX_DEPTH],
            depth: 1,
            evaluations: 0,
        }
    }

    fn on_path(&self, id: i64) -> bool {
        self.path.iter().take(self.depth).any(|&on| on == id)
    }

    /// Steps into a dependency; `false` when a limit is reached.
    fn enter(&mut self, id: i64) -> bool {
        if self.evaluations >= MAX_EVALUATIONS {
            return false;
        }
        let Some(slot) = self.path.get_mut(self.depth) else {
            return false;
        };
        *slot = id;
        self.depth += 1;
        self.evaluations += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Evaluates `flag`'s prerequisites in order; `Some` is the outcome of the first one that fails.
pub(crate) fn check<'s>(
    snapshot: &'s Snapshot,
    flag: &'s CompiledFlag,
    entity_id: &str,
    context: Option<&Map<String, Value>>,
    walk: &mut Walk,
) -> Option<Outcome<'s>> {
    for prerequisite in &flag.config().depends_on {
        let key = prerequisite.flag_key.as_str();
        let needed = prerequisite.variant_key.as_deref();
        let Some(dependency) = snapshot.flag_by_key(key) else {
            return Some(Outcome::Prerequisite {
                key,
                needed,
                unmet: Unmet::Missing,
            });
        };
        if walk.on_path(dependency.id()) {
            return Some(Outcome::Cycle { key });
        }
        if !walk.enter(dependency.id()) {
            return Some(Outcome::TooDeep { key });
        }
        let outcome = decide(snapshot, dependency, entity_id, context, walk, None);
        walk.leave();
        if matches!(outcome, Outcome::Cycle { .. } | Outcome::TooDeep { .. }) {
            return Some(outcome);
        }
        let unmet = match (outcome.variant(), needed) {
            (None, _) => Unmet::NoVariant,
            (Some(got), Some(needed)) if got.key != needed => Unmet::Other(got),
            _ => continue,
        };
        return Some(Outcome::Prerequisite { key, needed, unmet });
    }
    None
}

/// The cycle reached by following prerequisite edges (flag key → keys it depends on) from `start`, if any.
///
/// The cycle is returned as flag keys in order with its first key repeated at the end
/// (`["a", "b", "a"]` for `a → b → a`), ready for `join(" -> ")`.
/// A cycle that does not pass through `start` but is reachable from it is reported too.
/// The search is iterative, so long chains cannot overflow the stack.
pub fn prerequisite_cycle(
    edges: &HashMap<String, Vec<String>>,
    start: &str,
) -> Option<Vec<String>> {
    let mut path: Vec<(&str, usize)> = vec![(start, 0)];
    let mut on_path: HashMap<&str, usize> = HashMap::from([(start, 0)]);
    let mut finished: HashSet<&str> = HashSet::new();
    while let Some((node, cursor)) = path.last_mut() {
        let node: &str = node;
        let Some(target) = edges.get(node).and_then(|targets| targets.get(*cursor)) else {
            finished.insert(node);
            on_path.remove(node);
            path.pop();
            continue;
        };
        *cursor += 1;
        if let Some(&at) = on_path.get(target.as_str()) {
            let mut cycle: Vec<String> = path
                .iter()
                .skip(at)
                .map(|(key, _)| (*key).to_owned())
                .collect();
            cycle.push(target.clone());
            return Some(cycle);
        }
        if !finished.contains(target.as_str()) {
            on_path.insert(target, path.len());
            path.push((target, 0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(from, to)| {
                (
                    (*from).to_owned(),
                    to.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn find_cycle_through_start_returns_keys_in_order() {
        let edges = graph(&[("a", &["x", "b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(
            prerequisite_cycle(&edges, "a"),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }

    #[test]
    fn find_cycle_reachable_from_start_returns_that_cycle() {
        let edges = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["b"])]);
        assert_eq!(
            prerequisite_cycle(&edges, "a"),
            Some(vec!["b".into(), "c".into(), "b".into()])
        );
    }

    #[test]
    fn find_cycle_on_self_dependency_returns_one_key_twice() {
        let edges = graph(&[("a", &["a"])]);
        assert_eq!(
            prerequisite_cycle(&edges, "a"),
            Some(vec!["a".into(), "a".into()])
        );
    }

    #[test]
    fn find_cycle_in_diamond_returns_none() {
        let edges = graph(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert_eq!(prerequisite_cycle(&edges, "a"), None);
    }

    #[test]
    fn find_cycle_in_long_chain_returns_none_without_overflow() {
        let keys: Vec<String> = (0..100_000).map(|i| format!("f{i}")).collect();
        let edges: HashMap<String, Vec<String>> = keys
            .windows(2)
            .filter_map(|pair| Some((pair.first()?.clone(), vec![pair.get(1)?.clone()])))
            .collect();
        assert_eq!(prerequisite_cycle(&edges, "f0"), None);
    }
}
