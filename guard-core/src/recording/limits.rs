//! Per-credential rate limits on the request path ([`RateLimits::admit`]) and, with a shared
//! store, what each instance admitted made known to the others ([`RateLimits::share`]).
//!
//! Each instance enforces a limit on its own, and at every sync adds what it admitted since
//! the last to the credential's mark in the store (its theoretical arrival time, in wall-clock
//! time), and takes the mark back as its own if it is later. So after a sync every instance
//! counts every admission; between two syncs, each other instance may admit what its own
//! view allows. Together they admit at most the limit plus what the others admit between
//! two syncs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use compact_str::CompactString;

use crate::store::{MarkAdvance, SharedStore, StoreError};
use crate::usage::RateLimiter;
use crate::usage::limit::nanos_now;

/// The rate limits of this instance's credentials, and, with a shared store, the exchange of
/// what each instance admitted.
#[derive(Debug)]
pub struct RateLimits {
    shared: bool,
    /// The limiters used here lately, whose marks are exchanged at each share.
    watched: Mutex<HashMap<CompactString, Watched>>,
}

#[derive(Debug)]
struct Watched {
    limiter: Arc<RateLimiter>,
    /// When a request was last admitted here (monotonic nanoseconds).
    last_admitted: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wall-clock nanoseconds since the Unix epoch: the time instances share.
fn wall_nanos() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl RateLimits {
    /// The limits of an instance; `shared` if other instances use the same store.
    pub(crate) fn new(shared: bool) -> Self {
        RateLimits { shared, watched: Mutex::new(HashMap::new()) }
    }

    /// Admits one request under `limiter`, or says how long until the credential may be used
    /// again.
    pub fn admit(&self, limiter: &Arc<RateLimiter>) -> Result<(), Duration> {
        let now = nanos_now();
        limiter.try_admit(now)?;
        if self.shared && limiter.unshared.fetch_add(1, Ordering::AcqRel) == 0 {
            // The first since the last share: make sure the next share sees it.
            let mut watched = lock(&self.watched);
            let entry = watched
                .entry(limiter.name.clone())
                .or_insert_with(|| Watched { limiter: Arc::clone(limiter), last_admitted: now });
            if !Arc::ptr_eq(&entry.limiter, limiter) {
                // The credential's limit changed: its entry was replaced.
                entry.limiter = Arc::clone(limiter);
            }
            entry.last_admitted = now;
        }
        Ok(())
    }

    /// Adds what this instance admitted since the last share to each credential's mark in
    /// the store, and takes the mark (every instance's admissions) as the limiter's own if it
    /// is later. Limiters idle here for two of their periods are forgotten.
    pub(crate) async fn share(&self, store: &SharedStore) -> Result<(), StoreError> {
        let batch: Vec<(Arc<RateLimiter>, u64)> = {
            let now = nanos_now();
            let mut watched = lock(&self.watched);
            watched.retain(|_, w| {
                let period = 2 * u64::from(w.limiter.limit.per_seconds) * 1_000_000_000;
                now.saturating_sub(w.last_admitted) < period
                    || w.limiter.unshared.load(Ordering::Acquire) > 0
            });
            let taken = |w: &Watched| w.limiter.unshared.swap(0, Ordering::AcqRel);
            watched.values().map(|w| (Arc::clone(&w.limiter), taken(w))).collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        let (wall, mono) = (wall_nanos(), nanos_now());
        let advances = batch
            .iter()
            .map(|(limiter, own)| MarkAdvance {
                name: limiter.name.to_string(),
                at: wall,
                add: signed(own.saturating_mul(limiter.interval_nanos())),
                cap: signed(2 * u64::from(limiter.limit.per_seconds) * 1_000_000_000),
            })
            .collect();
        let marks = match store.advance_marks(advances).await {
            Ok(marks) => marks,
            Err(error) => {
                // Not shared: added again at the next share.
                for (limiter, own) in &batch {
                    limiter.unshared.fetch_add(*own, Ordering::AcqRel);
                }
                return Err(error);
            }
        };
        for ((limiter, _), mark) in batch.iter().zip(marks) {
            // The mark in this instance's monotonic time.
            let ahead = mark.saturating_sub(wall);
            let local = if ahead >= 0 {
                mono.saturating_add(ahead.unsigned_abs())
            } else {
                mono.saturating_sub(ahead.unsigned_abs())
            };
            limiter.catch_up_to(local);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    use crate::usage::RateLimit;

    fn limiter(requests: u32, per_seconds: u32) -> RateLimiter {
        RateLimiter::new(RateLimit::new(requests, per_seconds).unwrap(), "k:x".into())
    }

    #[test]
    fn concurrent_requests_get_exactly_the_allowance() {
        let limiter = Arc::new(limiter(100, 3_600));
        let limits = RateLimits::new(false);
        let admitted = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..100 {
                        if limits.admit(&limiter).is_ok() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 100);
    }
}
