//! Per-credential rate limits: a limit an API key or a user carries, and the generic cell rate
//! algorithm (GCRA) that enforces it without a lock.
//!
//! A limit of `requests` per `per_seconds` admits a burst of `requests` at once, then one
//! request every `per_seconds / requests`. The state is one atomic number (the theoretical
//! arrival time), changed by compare-and-swap: with a limit of N, any number of concurrent
//! requests get exactly N admissions from a full bucket.
//!
//! Admitting requests and sharing counts with other instances is `recording`'s
//! (`RateLimits`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// The most requests a limit may allow in its period.
pub const MAX_REQUESTS: u32 = 1_000_000;
/// The longest period a limit may have: a day.
pub const MAX_PER_SECONDS: u32 = 86_400;

/// At most `requests` requests in any `per_seconds` seconds, as a burst or spread out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// How many requests (1 to [`MAX_REQUESTS`]).
    pub requests: u32,
    /// In how many seconds (1 to [`MAX_PER_SECONDS`]).
    pub per_seconds: u32,
}

/// A rate limit out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a rate limit needs `requests` from 1 to {MAX_REQUESTS} and `per_seconds` from 1 to {MAX_PER_SECONDS}"
)]
pub struct InvalidRateLimit;

impl RateLimit {
    /// The limit, if both numbers are in range.
    pub fn new(requests: u32, per_seconds: u32) -> Result<Self, InvalidRateLimit> {
        RateLimit { requests, per_seconds }.checked()
    }

    /// The limit itself if it is in range.
    pub fn checked(self) -> Result<Self, InvalidRateLimit> {
        let in_range = (1..=MAX_REQUESTS).contains(&self.requests)
            && (1..=MAX_PER_SECONDS).contains(&self.per_seconds);
        if in_range { Ok(self) } else { Err(InvalidRateLimit) }
    }

    /// The time one request takes from the allowance, in nanoseconds (at least one).
    fn interval_nanos(self) -> u64 {
        (u64::from(self.per_seconds) * 1_000_000_000 / u64::from(self.requests.max(1))).max(1)
    }
}

/// The instant every limiter counts from: a monotonic clock, so that a step of the wall
/// clock neither frees nor blocks anyone here (what instances share is in wall-clock time,
/// converted at each share).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

pub(crate) fn nanos_now() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// One credential's limit and how much of it is used: what requests with the credential
/// share, on this instance.
#[derive(Debug)]
pub struct RateLimiter {
    pub(crate) limit: RateLimit,
    /// Whose limit (`k:<key id>` or `u:<user id>`): the name its count is shared under.
    pub(crate) name: CompactString,
    /// The theoretical arrival time, in nanoseconds since [`epoch`]: the allowance is full
    /// when it is at or before now.
    tat: AtomicU64,
    /// Requests admitted here since the last share.
    pub(crate) unshared: AtomicU64,
}

impl RateLimiter {
    /// A limiter with its whole allowance.
    pub(crate) fn new(limit: RateLimit, name: CompactString) -> Self {
        RateLimiter { limit, name, tat: AtomicU64::new(0), unshared: AtomicU64::new(0) }
    }

    /// The limit it enforces.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one request from the allowance, or says how long until one is free.
    pub(crate) fn try_admit(&self, now: u64) -> Result<(), Duration> {
        let interval = self.limit.interval_nanos();
        // A full allowance is `requests` intervals ahead of the arrival time.
        let tolerance = interval * u64::from(self.limit.requests - 1);
        let mut current = self.tat.load(Ordering::Acquire);
        loop {
            let tat = current.max(now);
            let ahead = tat - now;
            if ahead > tolerance {
                return Err(Duration::from_nanos(ahead - tolerance));
            }
            match self.tat.compare_exchange_weak(
                current,
                tat + interval,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }

    /// The interval one request takes, in nanoseconds.
    pub(crate) fn interval_nanos(&self) -> u64 {
        self.limit.interval_nanos()
    }

    /// The theoretical arrival time now, in nanoseconds since the epoch of `now`.
    #[cfg(test)]
    fn arrival(&self) -> u64 {
        self.tat.load(Ordering::Acquire)
    }

    /// Moves the arrival time to at least `tat`: what every instance admitted, as the
    /// store has it, counts here too (beyond the allowance, as a debt waited out).
    pub(crate) fn catch_up_to(&self, tat: u64) {
        self.tat.fetch_max(tat, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(requests: u32, per_seconds: u32) -> RateLimiter {
        RateLimiter::new(RateLimit::new(requests, per_seconds).unwrap(), "k:x".into())
    }

    #[test]
    fn a_full_allowance_admits_a_burst_then_one_per_interval() {
        let limiter = limiter(3, 3); // one per second
        let start = 10_000_000_000;
        for _ in 0..3 {
            assert_eq!(limiter.try_admit(start), Ok(()));
        }
        let wait = limiter.try_admit(start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        assert_eq!(limiter.try_admit(start + 999_999_999), Err(Duration::from_nanos(1)));
        assert_eq!(limiter.try_admit(start + 1_000_000_000), Ok(()));
        assert!(limiter.try_admit(start + 1_000_000_000).is_err());
        // Idle long enough, the whole burst again, never more.
        let later = start + 60_000_000_000;
        assert_eq!((0..10).filter(|_| limiter.try_admit(later).is_ok()).count(), 3);
    }

    #[test]
    fn an_arrival_time_from_elsewhere_is_a_debt_waited_out() {
        let limiter = limiter(2, 10); // one per 5 s
        let start = 100_000_000_000;
        limiter.catch_up_to(start + 20_000_000_000); // four intervals owed
        let wait = limiter.try_admit(start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(15), "four intervals owed, one tolerated");
        assert!(limiter.try_admit(start + 15_000_000_000).is_ok());
        limiter.catch_up_to(start);
        assert_eq!(limiter.arrival(), start + 25_000_000_000, "never moved back");
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        assert!(RateLimit::new(0, 60).is_err());
        assert!(RateLimit::new(1, 0).is_err());
        assert!(RateLimit::new(MAX_REQUESTS + 1, 60).is_err());
        assert!(RateLimit::new(1, MAX_PER_SECONDS + 1).is_err());
        assert!(RateLimit::new(MAX_REQUESTS, MAX_PER_SECONDS).is_ok());
        let fast = RateLimit::new(MAX_REQUESTS, 1).unwrap();
        assert_eq!(fast.interval_nanos(), 1_000);
    }
}
