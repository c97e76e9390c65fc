//! Reconnect delays: full jitter between a floor and an exponentially growing cap, from an
//! injected seed so that tests are deterministic.

use serde::{Deserialize, Serialize};

/// A small, fast pseudo-random generator (SplitMix64). Not for cryptography: it only spreads
/// reconnects of a fleet over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A generator from `seed` (the driver seeds it from the OS, tests from a constant).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `low..=high` (`low` when `high <= low`).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        match (high - low).checked_add(1) {
            Some(span) => low + self.next_u64() % span,
            // `low..=high` is every u64.
            None => self.next_u64(),
        }
    }
}

/// Full-jitter exponential backoff: attempt `n` waits a uniform time in
/// `[floor, min(cap, floor * 2^n)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    floor_ms: u64,
    cap_ms: u64,
    attempt: u32,
}

impl Backoff {
    /// A backoff between `floor_ms` and `cap_ms`.
    #[must_use]
    pub fn new(floor_ms: u64, cap_ms: u64) -> Self {
        Self {
            floor_ms,
            cap_ms: cap_ms.max(floor_ms),
            attempt: 0,
        }
    }

    /// The delay before the next attempt; each call widens the window up to the cap.
    pub fn next_delay(&mut self, jitter: &mut Jitter) -> u64 {
        let ceiling = self
            .floor_ms
            .saturating_mul(1u64 << self.attempt.min(32))
            .min(self.cap_ms);
        self.attempt = self.attempt.saturating_add(1);
        jitter.between(self.floor_ms, ceiling)
    }

    /// Back to the narrowest window (after a stable connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_window_and_grow_to_the_cap() {
        let mut jitter = Jitter::new(7);
        let mut backoff = Backoff::new(1_000, 120_000);
        let delays: Vec<u64> = (0..20).map(|_| backoff.next_delay(&mut jitter)).collect();
        assert_eq!(delays[0], 1_000, "the first window is [1 s, 1 s]");
        assert!(delays.iter().all(|d| (1_000..=120_000).contains(d)));
        assert!(delays[10..].iter().any(|&d| d > 60_000), "{delays:?}");
        backoff.reset();
        assert_eq!(backoff.next_delay(&mut jitter), 1_000);
    }

    #[test]
    fn between_covers_the_whole_u64_range_without_overflow() {
        let mut jitter = Jitter::new(3);
        let draws: Vec<u64> = (0..8).map(|_| jitter.between(0, u64::MAX)).collect();
        assert!(draws.windows(2).any(|w| w[0] != w[1]), "{draws:?}");
        assert_eq!(jitter.between(u64::MAX, u64::MAX), u64::MAX);
        assert!((5..=6).contains(&jitter.between(5, 6)));
    }

    #[test]
    fn same_seed_same_delays() {
        let run = |seed| {
            let mut jitter = Jitter::new(seed);
            let mut backoff = Backoff::new(1_000, 120_000);
            (0..10)
                .map(|_| backoff.next_delay(&mut jitter))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
