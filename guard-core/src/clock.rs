//! Time, injectable so that expiry can be tested without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in seconds since the Unix epoch.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock, in whole seconds.
///
/// On Linux it reads the coarse real-time clock (updated every few milliseconds), which costs
/// a fraction of a precise read: every authenticated request reads the time once, and
/// expiry and usage are kept to the second.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn now(&self) -> Timestamp {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn now(&self) -> Timestamp {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    /// Moves the clock forward by `seconds` (backward if negative).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now: Timestamp) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.load(Ordering::SeqCst)
    }
}

/// Seconds in a minute, an hour and a day.
pub const MINUTE: i64 = 60;
/// Seconds in an hour.
pub const HOUR: i64 = 60 * MINUTE;
/// Seconds in a day.
pub const DAY: i64 = 24 * HOUR;

/// The start of the period of `length` seconds that holds `ts` (periods start at the epoch).
pub fn period_start(ts: Timestamp, length: i64) -> Timestamp {
    ts - ts.rem_euclid(length)
}

/// Formats a timestamp as RFC 3339 in UTC (`2026-11-22T13:09:00Z`).
pub fn to_rfc3339(ts: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// Parses an RFC 3339 date-time into a timestamp.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-22T13:09:00Z"), Some(1_795_352_940));
        assert_eq!(parse_rfc3339("2026-11-22T14:09:00+01:00"), Some(1_795_352_940));
        assert_eq!(parse_rfc3339("yesterday"), None);
        let system = SystemClock.now();
        let precise = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((precise - system).abs() <= 1, "{system} against {precise}");
        let clock = ManualClock::new(10);
        clock.advance(5);
        assert_eq!(clock.now(), 15);
        assert_eq!(period_start(125, MINUTE), 120);
        assert_eq!(period_start(-1, MINUTE), -60);
    }
}
