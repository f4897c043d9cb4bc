//! Per-key rate limits (per client IP, per email domain) whose memory is bounded: a limiter remembers
//! at most `max_keys` keys. Keys whose quota has fully replenished are forgotten by [`KeyedLimit::sweep`]
//! (a job runs it every minute) and, once the limiter is full, at most once a second on demand; while it
//! is still full of keys in use, new checks are refused, so a flood of distinct keys (IPv6 addresses,
//! made-up domains) slows signups down instead of growing the process.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Least time between two sweeps made because the limiter was full.
const FULL_SWEEP_GAP: Duration = Duration::from_secs(1);

type Limiter<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// A rate limit per key, remembering at most `max_keys` keys.
pub struct KeyedLimit<C: Clock = DefaultClock> {
    limiter: Limiter<C>,
    max_keys: usize,
    /// When a full limiter was last swept (wall time of this process, not the limiter's clock).
    full_sweep: Mutex<Option<Instant>>,
}

/// Why a check was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This key used its quota.
    Exhausted,
    /// The limiter holds `max_keys` keys still in use.
    Full,
}

impl KeyedLimit {
    /// `quota` per key, on the system clock.
    pub fn new(quota: Quota, max_keys: usize) -> KeyedLimit {
        KeyedLimit::with_clock(quota, max_keys, DefaultClock::default())
    }
}

impl<C: Clock> KeyedLimit<C> {
    /// `quota` per key, on `clock` (tests pass a clock they move).
    pub fn with_clock(quota: Quota, max_keys: usize, clock: C) -> KeyedLimit<C> {
        KeyedLimit {
            limiter: RateLimiter::dashmap_with_clock(quota, clock),
            max_keys: max_keys.max(1),
            full_sweep: Mutex::new(None),
        }
    }

    /// Counts one request for `key`, unless its quota is used or the limiter is full.
    pub fn check(&self, key: &str) -> Result<(), Refused> {
        if self.limiter.len() >= self.max_keys {
            self.sweep_when_full();
            if self.limiter.len() >= self.max_keys {
                return Err(Refused::Full);
            }
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|_| Refused::Exhausted)
    }

    fn sweep_when_full(&self) {
        let mut last = self
            .full_sweep
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < FULL_SWEEP_GAP) {
            return;
        }
        *last = Some(Instant::now());
        drop(last);
        self.sweep();
    }

    /// Forgets the keys whose quota has fully replenished; returns how many keys remain.
    pub fn sweep(&self) -> usize {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.limiter.len()
    }

    /// How many keys the limiter remembers.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::num::NonZeroU32;

    fn limit(max_keys: usize) -> (KeyedLimit<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let quota = Quota::per_hour(NonZeroU32::new(2).unwrap());
        (
            KeyedLimit::with_clock(quota, max_keys, clock.clone()),
            clock,
        )
    }

    #[test]
    fn each_key_gets_its_quota() {
        let (limit, clock) = limit(100);
        assert_eq!(limit.check("203.0.113.7"), Ok(()));
        assert_eq!(limit.check("203.0.113.7"), Ok(()));
        assert_eq!(limit.check("203.0.113.7"), Err(Refused::Exhausted));
        assert_eq!(
            limit.check("198.51.100.1"),
            Ok(()),
            "another key has its own"
        );
        clock.advance(Duration::from_secs(30 * 60));
        assert_eq!(
            limit.check("203.0.113.7"),
            Ok(()),
            "one replenished after half an hour"
        );
    }

    #[test]
    fn a_flood_of_distinct_keys_never_grows_it_past_its_bound() {
        let (limit, clock) = limit(1_000);
        let refused = (0..50_000)
            .filter(|i| limit.check(&format!("2001:db8::{i:x}")).is_err())
            .count();
        assert_eq!(limit.len(), 1_000, "held at the bound");
        assert_eq!(
            refused, 49_000,
            "checks beyond it are refused while its keys are in use"
        );

        // An hour on, every key's quota has replenished: a sweep forgets them all.
        clock.advance(Duration::from_secs(3_600));
        assert_eq!(limit.sweep(), 0);
        assert_eq!(limit.check("2001:db8::1"), Ok(()));
        assert_eq!(limit.len(), 1);
    }
}
