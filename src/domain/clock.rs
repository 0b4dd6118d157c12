//! Injectable time and id generation, so tests and snapshots are deterministic.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ulid::Ulid;

use super::Timestamp;

/// The source of "now" for everything that records time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Millisecond precision: ids carry milliseconds, and shorter
    /// timestamps read better in JSON.
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        now.round(jiff::Unit::Millisecond).unwrap_or(now)
    }
}

/// A clock that only moves when told to; for tests and snapshots.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Makes ULIDs that sort by creation time and stay strictly increasing within
/// one process, even inside one millisecond. Seeded, it is fully repeatable.
#[derive(Debug)]
pub struct IdGen {
    state: Mutex<IdGenState>,
}

#[derive(Debug)]
struct IdGenState {
    rng: StdRng,
    last: Ulid,
}

impl IdGen {
    pub fn new() -> Self {
        Self::with_rng(StdRng::from_os_rng())
    }

    pub fn seeded(seed: u64) -> Self {
        Self::with_rng(StdRng::seed_from_u64(seed))
    }

    fn with_rng(rng: StdRng) -> Self {
        Self {
            state: Mutex::new(IdGenState {
                rng,
                last: Ulid::nil(),
            }),
        }
    }

    /// A new ULID stamped with `now`.
    pub fn next(&self, now: Timestamp) -> Ulid {
        let ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let candidate = if ms <= state.last.timestamp_ms() && !state.last.is_nil() {
            // Same (or an earlier, if the clock stepped back) millisecond:
            // keep order by incrementing the previous id.
            state
                .last
                .increment()
                .unwrap_or_else(|| Ulid::from_parts(ms, state.rng.random()))
        } else {
            Ulid::from_parts(ms, state.rng.random())
        };
        state.last = candidate;
        candidate
    }
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_within_one_millisecond() {
        let ids = IdGen::seeded(7);
        let now = Timestamp::from_millisecond(1_700_000_000_000).unwrap();
        let a = ids.next(now);
        let b = ids.next(now);
        let c = ids.next(now);
        assert!(a < b && b < c);
        assert_eq!(a.timestamp_ms(), 1_700_000_000_000);
    }

    #[test]
    fn seeded_generators_repeat() {
        let now = Timestamp::from_millisecond(5).unwrap();
        assert_eq!(IdGen::seeded(1).next(now), IdGen::seeded(1).next(now));
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::new(Timestamp::UNIX_EPOCH);
        assert_eq!(clock.now(), Timestamp::UNIX_EPOCH);
        clock.advance(jiff::SignedDuration::from_secs(60));
        assert_eq!(clock.now().as_second(), 60);
    }
}
