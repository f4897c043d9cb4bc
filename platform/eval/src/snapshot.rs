//! [`Snapshot`]: one environment's compiled flags, looked up by id or key in constant time.
//!
//! Invariants: a snapshot is immutable; cloning it costs one reference count, and [`Snapshot::updated`]
//! recompiles only the flags it is given while sharing every other flag (`Arc<CompiledFlag>`).
//! When stored data holds two flags with one key, the key names the flag with the lowest id.

use crate::flag::CompiledFlag;
use crate::model::FlagConfig;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// One environment's compiled flags at one revision.
#[derive(Clone, Default)]
pub struct Snapshot {
    inner: Arc<Flags>,
}

/// How [`Snapshot::flag_ids_with_tags`] combines tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagMatch {
    /// A flag carrying at least one of the tags.
    Any,
    /// A flag carrying every one of the tags.
    All,
}

#[derive(Default)]
struct Flags {
    revision: u64,
    by_id: HashMap<i64, Arc<CompiledFlag>>,
    by_key: HashMap<Arc<str>, Arc<CompiledFlag>>,
    /// Every id of `by_id`, ascending.
    order: Vec<i64>,
}

impl Snapshot {
    /// Compiles every flag; for repeated ids the last config wins.
    pub fn build(revision: u64, flags: Vec<FlagConfig>) -> Snapshot {
        let by_id: HashMap<i64, Arc<CompiledFlag>> = flags
            .into_iter()
            .map(|config| (config.id, Arc::new(CompiledFlag::compile(config))))
            .collect();
        Snapshot::assemble(revision, by_id)
    }

    /// A new snapshot at `revision`: `removed` ids are dropped, then `upserts` are compiled and put in
    /// (replacing flags with the same id); every other flag is shared with `self`.
    pub fn updated(&self, revision: u64, upserts: Vec<FlagConfig>, removed: &[i64]) -> Snapshot {
        let mut by_id = self.inner.by_id.clone();
        let mut by_key = self.inner.by_key.clone();
        let mut orphaned = Vec::new();
        for id in removed {
            if let Some(old) = by_id.remove(id) {
                unlink(&mut by_key, &old, &mut orphaned);
            }
        }
        for config in upserts {
            let flag = Arc::new(CompiledFlag::compile(config));
            if let Some(old) = by_id.insert(flag.id(), Arc::clone(&flag)) {
                unlink(&mut by_key, &old, &mut orphaned);
            }
            link(&mut by_key, flag);
        }
        // A key whose holder was replaced by a flag with the same id and key needs no search.
        orphaned
            .retain(|(key, old_id)| by_key.get(key).is_none_or(|holder| holder.id() != *old_id));
        if !orphaned.is_empty() {
            for flag in by_id.values() {
                if orphaned.iter().any(|(key, _)| **key == *flag.key()) {
                    link(&mut by_key, Arc::clone(flag));
                }
            }
        }
        let mut order: Vec<i64> = by_id.keys().copied().collect();
        order.sort_unstable();
        Snapshot {
            inner: Arc::new(Flags {
                revision,
                by_id,
                by_key,
                order,
            }),
        }
    }

    /// Indexes compiled flags by key and order.
    fn assemble(revision: u64, by_id: HashMap<i64, Arc<CompiledFlag>>) -> Snapshot {
        let mut order: Vec<i64> = by_id.keys().copied().collect();
        order.sort_unstable();
        let mut by_key = HashMap::with_capacity(by_id.len());
        for flag in order.iter().filter_map(|id| by_id.get(id)) {
            by_key
                .entry(Arc::from(flag.key()))
                .or_insert_with(|| Arc::clone(flag));
        }
        Snapshot {
            inner: Arc::new(Flags {
                revision,
                by_id,
                by_key,
                order,
            }),
        }
    }

    /// The revision this snapshot was built at (0 for the empty default).
    pub fn revision(&self) -> u64 {
        self.inner.revision
    }

    /// How many flags it holds.
    pub fn len(&self) -> usize {
        self.inner.by_id.len()
    }

    /// Whether it holds no flag.
    pub fn is_empty(&self) -> bool {
        self.inner.by_id.is_empty()
    }

    /// The flag with this id.
    pub fn flag_by_id(&self, id: i64) -> Option<&CompiledFlag> {
        self.inner.by_id.get(&id).map(|flag| &**flag)
    }

    /// The flag with this key.
    pub fn flag_by_key(&self, key: &str) -> Option<&CompiledFlag> {
        self.inner.by_key.get(key).map(|flag| &**flag)
    }

    /// Every flag, by ascending id.
    pub fn flags(&self) -> impl Iterator<Item = &CompiledFlag> {
        let inner = &*self.inner;
        inner
            .order
            .iter()
            .filter_map(|id| inner.by_id.get(id).map(|flag| &**flag))
    }

    /// Ids (ascending) of the flags carrying any or all of `tags`; no tags select nothing.
    pub fn flag_ids_with_tags(&self, tags: &[String], op: TagMatch) -> Vec<i64> {
        if tags.is_empty() {
            return Vec::new();
        }
        let carries = |flag: &CompiledFlag, tag: &String| flag.tags().contains(tag);
        self.flags()
            .filter(|flag| match op {
                TagMatch::Any => tags.iter().any(|tag| carries(flag, tag)),
                TagMatch::All => tags.iter().all(|tag| carries(flag, tag)),
            })
            .map(CompiledFlag::id)
            .collect()
    }
}

/// Points `flag`'s key at it unless a flag with a lower id already holds the key.
fn link(by_key: &mut HashMap<Arc<str>, Arc<CompiledFlag>>, flag: Arc<CompiledFlag>) {
    match by_key.get(flag.key()) {
        Some(holder) if holder.id() < flag.id() => {}
        _ => {
            by_key.insert(Arc::from(flag.key()), flag);
        }
    }
}

/// Drops `old`'s key if it points at `old`, remembering the key (and `old`'s id) so that a flag with a
/// duplicate key can take it over.
fn unlink(
    by_key: &mut HashMap<Arc<str>, Arc<CompiledFlag>>,
    old: &CompiledFlag,
    orphaned: &mut Vec<(Arc<str>, i64)>,
) {
    if by_key
        .get(old.key())
        .is_some_and(|holder| holder.id() == old.id())
        && let Some((key, _)) = by_key.remove_entry(old.key())
    {
        orphaned.push((key, old.id()));
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("revision", &self.revision())
            .field("flags", &self.len())
            .finish()
    }
}
