//! [`Lane`]: one kind's bounded buffer of items waiting to be sent, with its counters, and [`Recent`], the
//! bounded set of (flag, entity) pairs whose exposure was buffered lately.
//!
//! Invariants: a lane never holds more than its capacity; every item offered is counted exactly once as
//! buffered, deduplicated or dropped, and every buffered item is later counted once as accepted, rejected
//! or lost; items leave in the order they came, and items put back return to the front in their order.

use crate::measure::Counts;
use std::collections::{HashSet, VecDeque};

/// The most recent pairs, forgetting the oldest beyond its capacity.
#[derive(Debug)]
pub(crate) struct Recent {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl Recent {
    pub(crate) fn new(capacity: usize) -> Recent {
        Recent {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn contains(&self, pair: u64) -> bool {
        self.seen.contains(&pair)
    }

    fn insert(&mut self, pair: u64) {
        if self.capacity == 0 || !self.seen.insert(pair) {
            return;
        }
        self.order.push_back(pair);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
    }
}

/// A bounded FIFO of one kind of item.
#[derive(Debug)]
pub(crate) struct Lane<T> {
    queue: VecDeque<T>,
    capacity: usize,
    recent: Recent,
    /// Cleared when the client closes: nothing more is buffered.
    open: bool,
    pub(crate) counts: Counts,
}

impl<T> Lane<T> {
    /// An empty, open lane holding at most `capacity` items, remembering `recent` pairs.
    pub(crate) fn new(capacity: usize, recent: usize) -> Lane<T> {
        Lane {
            queue: VecDeque::new(),
            capacity,
            recent: Recent::new(recent),
            open: true,
            counts: Counts::default(),
        }
    }

    /// Buffers `item` unless the lane is full or closed; the number of items buffered after, or `None`
    /// when it was dropped.
    pub(crate) fn push(&mut self, item: T) -> Option<usize> {
        if !self.open || self.queue.len() >= self.capacity {
            self.counts.dropped += 1;
            return None;
        }
        self.queue.push_back(item);
        self.counts.buffered += 1;
        Some(self.queue.len())
    }

    /// Buffers the item `make` builds unless `pair` was buffered recently (or the lane is full or
    /// closed); a dropped item's pair is not remembered, so it is offered again next time.
    pub(crate) fn push_once(&mut self, pair: u64, make: impl FnOnce() -> T) -> Option<usize> {
        if self.recent.contains(pair) {
            self.counts.deduplicated += 1;
            return None;
        }
        let buffered = self.push(make());
        if buffered.is_some() {
            self.recent.insert(pair);
        }
        buffered
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Takes up to `most` items from the front.
    pub(crate) fn take(&mut self, most: usize) -> Vec<T> {
        let count = most.min(self.queue.len());
        self.queue.drain(..count).collect()
    }

    /// Returns taken items to the front, keeping their order.
    pub(crate) fn put_back(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            self.queue.push_front(item);
        }
    }

    /// Buffers nothing more.
    pub(crate) fn close(&mut self) {
        self.open = false;
    }

    /// Items whose fate is decided: accepted, rejected or lost.
    pub(crate) fn settled(&self) -> u64 {
        self.counts.accepted + self.counts.rejected + self.counts.lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_lane_drops_and_counts() {
        let mut lane = Lane::new(2, 0);
        assert_eq!(lane.push(1), Some(1));
        assert_eq!(lane.push(2), Some(2));
        assert_eq!(lane.push(3), None);
        assert_eq!((lane.counts.buffered, lane.counts.dropped), (2, 1));
        assert_eq!(lane.take(10), vec![1, 2]);
        assert_eq!(lane.push(4), Some(1));
    }

    #[test]
    fn a_closed_lane_buffers_nothing() {
        let mut lane = Lane::new(5, 0);
        lane.close();
        assert_eq!(lane.push(1), None);
        assert_eq!((lane.counts.buffered, lane.counts.dropped), (0, 1));
    }

    #[test]
    fn recent_pairs_are_offered_once_until_forgotten() {
        let mut lane = Lane::new(10, 2);
        assert!(lane.push_once(1, || "a").is_some());
        assert!(lane.push_once(1, || "a again").is_none());
        assert!(lane.push_once(2, || "b").is_some());
        // A third pair pushes the first out of the recent set.
        assert!(lane.push_once(3, || "c").is_some());
        assert!(lane.push_once(1, || "a later").is_some());
        assert_eq!(lane.take(10), vec!["a", "b", "c", "a later"]);
        assert_eq!(lane.counts.deduplicated, 1);
    }

    #[test]
    fn a_pair_dropped_for_lack_of_room_is_offered_again() {
        let mut lane = Lane::new(1, 10);
        assert!(lane.push_once(1, || "a").is_some());
        assert!(lane.push_once(2, || "b").is_none());
        assert_eq!(lane.counts.dropped, 1);
        lane.take(1);
        assert!(lane.push_once(2, || "b").is_some());
    }

    #[test]
    fn put_back_returns_items_to_the_front_in_order() {
        let mut lane = Lane::new(10, 0);
        for i in 1..=5 {
            lane.push(i);
        }
        let taken = lane.take(3);
        lane.push(6);
        lane.put_back(taken[1..].to_vec());
        assert_eq!(lane.take(10), vec![2, 3, 4, 5, 6]);
    }
}
