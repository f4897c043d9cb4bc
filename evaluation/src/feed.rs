//! One environment's change feed: the last [`FEED_LENGTH`] swaps of its snapshot (which flags each
//! changed) and the `watch` channel that wakes its subscribers.
//!
//! Invariant: a feed is only read and written under its environment's feed lock, together with the
//! snapshot it describes (see `cache.rs`).

use crate::cache::FEED_LENGTH;
use flagent_eval::Snapshot;
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::watch;

/// One environment's recent changes and its subscribers' wake-up channel.
pub(crate) struct Feed {
    log: VecDeque<Change>,
    pub(crate) revision: watch::Sender<u64>,
}

/// Ids of the flags updated, and ids and keys of the flags deleted, over several changes.
type Merged = (Vec<i64>, Vec<(i64, String)>);

/// One swap of an environment's snapshot, from revision `from` to `to`.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) from: u64,
    pub(crate) to: u64,
    /// Ids of flags whose configuration changed or which appeared.
    pub(crate) updated: Vec<i64>,
    /// Ids and keys of flags that left the environment.
    pub(crate) deleted: Vec<(i64, String)>,
}

impl Feed {
    /// An empty log over the channel `revision`.
    pub(crate) fn new(revision: watch::Sender<u64>) -> Self {
        Feed {
            log: VecDeque::new(),
            revision,
        }
    }

    /// Appends `change`, forgetting beyond [`FEED_LENGTH`], and wakes the subscribers.
    pub(crate) fn record(&mut self, change: Change) {
        let to = change.to;
        self.log.push_back(change);
        while self.log.len() > FEED_LENGTH {
            self.log.pop_front();
        }
        self.revision.send_replace(to);
    }

    /// The flags changed and deleted between `revision` and `current`, if the log covers that span
    /// without a gap.
    pub(crate) fn since(&self, revision: u64, current: u64) -> Option<Merged> {
        if revision > current {
            return None;
        }
        let start = self.log.iter().position(|c| c.from == revision)?;
        // Later state wins: a flag deleted then re-added is updated, and the other way round.
        let mut state: BTreeMap<i64, Option<String>> = BTreeMap::new();
        let mut reached = revision;
        for change in self.log.iter().skip(start) {
            if change.from != reached {
                return None;
            }
            reached = change.to;
            for id in &change.updated {
                state.insert(*id, None);
            }
            for (id, key) in &change.deleted {
                state.insert(*id, Some(key.clone()));
            }
        }
        if reached != current {
            return None;
        }
        let mut updated = Vec::new();
        let mut deleted = Vec::new();
        for (id, gone) in state {
            match gone {
                Some(key) => deleted.push((id, key)),
                None => updated.push(id),
            }
        }
        Some((updated, deleted))
    }
}

impl Change {
    /// The difference between two snapshots of one environment, flag by flag.
    pub(crate) fn between(old: &Snapshot, new: &Snapshot) -> Change {
        let updated = new
            .flags()
            .filter(|f| {
                old.flag_by_id(f.id())
                    .is_none_or(|o| o.config() != f.config())
            })
            .map(|f| f.id())
            .collect();
        let deleted = old
            .flags()
            .filter(|f| new.flag_by_id(f.id()).is_none())
            .map(|f| (f.id(), f.key().to_owned()))
            .collect();
        Change {
            from: old.revision(),
            to: new.revision(),
            updated,
            deleted,
        }
    }
}
