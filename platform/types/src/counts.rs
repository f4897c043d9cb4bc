//! Counters that many request threads add to and one background task drains: the counts are spread
//! over a few maps, and a thread always adds to the same one, so workers never wait on each other.
//!
//! Invariant: nothing added is lost. [`ShardedCounts::take`] empties every map and returns the sum;
//! counts a caller could not store are handed back with [`ShardedCounts::put_back`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// How many maps the counts are spread over.
const SHARDS: usize = 16;

/// Hands each thread its map, round robin.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// Counts of a map whose holder panicked are still counts: keep using them.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts by key, added to from any thread.
pub struct ShardedCounts<K> {
    shards: [Mutex<HashMap<K, u64>>; SHARDS],
}

impl<K> Default for ShardedCounts<K> {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }
}

impl<K: Eq + Hash> ShardedCounts<K> {
    /// Adds every `(key, count)` under one lock of this thread's map.
    pub fn add(&self, counts: impl IntoIterator<Item = (K, u64)>) {
        let shard = SHARD.with(|s| *s);
        let mut map = lock(&self.shards[shard]);
        for (key, count) in counts {
            if count > 0 {
                *map.entry(key).or_insert(0) += count;
            }
        }
    }

    /// The count of `key` not taken yet.
    pub fn pending(&self, key: &K) -> u64 {
        self.shards
            .iter()
            .map(|s| lock(s).get(key).copied().unwrap_or(0))
            .sum()
    }

    /// The counts not taken yet of the keys `wanted` accepts, summed by key.
    pub fn pending_where(&self, wanted: impl Fn(&K) -> bool) -> HashMap<K, u64>
    where
        K: Clone,
    {
        let mut found = HashMap::new();
        for shard in &self.shards {
            for (key, count) in lock(shard).iter().filter(|(k, _)| wanted(k)) {
                *found.entry(key.clone()).or_insert(0) += count;
            }
        }
        found
    }

    /// Empties the counters and returns what they held, summed by key.
    pub fn take(&self) -> HashMap<K, u64> {
        let mut merged = HashMap::new();
        for shard in &self.shards {
            for (key, count) in std::mem::take(&mut *lock(shard)) {
                *merged.entry(key).or_insert(0) += count;
            }
        }
        merged
    }

    /// Adds taken counts back (they could not be stored), to whatever was added meanwhile.
    pub fn put_back(&self, counts: impl IntoIterator<Item = (K, u64)>) {
        self.add(counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_from_many_threads_add_up_and_take_empties_them() {
        let counts = Arc::new(ShardedCounts::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counts.add([("a", 1), ("b", 2), ("zero", 0)]);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counts.pending(&"a"), 8000);
        let some = counts.pending_where(|k| k.starts_with('b'));
        assert_eq!(some, HashMap::from([("b", 16000)]));
        let taken = counts.take();
        assert_eq!(taken.get("a"), Some(&8000));
        assert_eq!(taken.get("b"), Some(&16000));
        assert_eq!(taken.get("zero"), None, "zero counts are not kept");
        assert_eq!(counts.pending(&"a"), 0);
        counts.put_back([("a", 5)]);
        assert_eq!(counts.take().get("a"), Some(&5));
    }
}
