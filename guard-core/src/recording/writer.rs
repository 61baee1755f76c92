//! The writer thread: every flush interval, the usage every credential gathered goes to the
//! store in one transaction; every minute, rollups past retention are pruned.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::recorder::{Shared, lock};
use crate::clock::DAY;
use crate::future::BoxFuture;
use crate::store::{SharedStore, StoreError};
use crate::usage::{SubjectUsage, UsageBatch};

/// At most this many subjects' usage is held for a retry while the store fails; beyond it
/// the oldest is dropped (the live counters stay exact) rather than let memory grow.
const MAX_RETRY_SUBJECTS: usize = 100_000;

pub(super) struct Writer {
    flusher: Arc<Flusher>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Flushes, one at a time: the writer thread and reads that must see everything take turns.
struct Flusher {
    shared: Arc<Shared>,
    /// What a failed flush could not write, for the next attempt.
    retry: Mutex<Vec<SubjectUsage>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Writer {
    pub(super) fn start(shared: Arc<Shared>) -> std::io::Result<Self> {
        let flusher = Arc::new(Flusher {
            shared,
            retry: Mutex::new(Vec::new()),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let running = Arc::clone(&flusher);
        let thread = std::thread::Builder::new()
            .name("guard-usage-writer".into())
            .spawn(move || running.run())?;
        Ok(Writer { flusher, thread: Mutex::new(Some(thread)) })
    }

    /// Flushes, then runs `read` against the store before any other flush can start: what
    /// it reads is complete up to this call, and nothing is counted twice.
    pub(super) async fn read_after_flush<T: Send + 'static>(
        &self,
        read: impl for<'a> FnOnce(&'a SharedStore) -> BoxFuture<'a, Result<T, StoreError>>
        + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let flusher = Arc::clone(&self.flusher);
        blocking::unblock(move || {
            let mut retry = lock(&flusher.retry);
            flusher.flush(&mut retry)?;
            pollster::block_on(read(&flusher.shared.store))
        })
        .await
    }

    pub(super) fn shutdown(&self) {
        *lock(&self.flusher.stop) = true;
        self.flusher.wake.notify_all();
        let thread = lock(&self.thread).take();
        if thread.is_some_and(|t| t.join().is_err()) {
            tracing::error!("the usage writer panicked");
        }
        let mut retry = lock(&self.flusher.retry);
        if let Err(error) = self.flusher.flush(&mut retry) {
            tracing::error!(%error, "usage could not be written at shutdown");
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Flusher {
    fn run(&self) {
        // Guard against a configuration that would spin.
        let interval = self.shared.config.flush_interval.max(Duration::from_millis(10));
        let mut next_prune = Instant::now();
        let mut next_flush = Instant::now() + interval;
        loop {
            {
                let mut stop = lock(&self.stop);
                while !*stop && Instant::now() < next_flush {
                    let wait = next_flush.saturating_duration_since(Instant::now());
                    stop = self.wake.wait_timeout(stop, wait).unwrap_or_else(|e| e.into_inner()).0;
                }
                if *stop {
                    return;
                }
            }
            let started = Instant::now();
            // The next flush is due one interval after this one began, however long it took,
            // so that what a crash can lose stays bounded by the interval.
            next_flush = started + interval;
            {
                let mut retry = lock(&self.retry);
                if let Err(error) = self.flush(&mut retry) {
                    tracing::error!(%error, "usage could not be written; will retry");
                }
            }
            let took = started.elapsed();
            if took > interval {
                tracing::warn!(
                    ?took,
                    ?interval,
                    "a usage flush took longer than the flush interval"
                );
            }
            if started >= next_prune {
                next_prune = started + Duration::from_secs(60);
                self.prune();
            }
        }
    }

    /// Writes what every credential gathered since the last flush, and whatever a failed
    /// flush left. The caller holds `retry`'s lock, so flushes never overlap.
    fn flush(&self, retry: &mut Vec<SubjectUsage>) -> Result<(), StoreError> {
        let dirty = std::mem::take(&mut *lock(&self.shared.dirty));
        let mut subjects = std::mem::take(retry);
        subjects.extend(dirty.iter().filter_map(|c| c.usage_slot().take(c.subject())));
        if subjects.is_empty() {
            return Ok(());
        }
        let recent_capacity = self.shared.config.recent_per_credential.max(1);
        let batch = UsageBatch { recent_capacity, subjects };
        let result = pollster::block_on(self.shared.store.apply_usage(batch.clone()));
        if result.is_err() {
            let mut kept = batch.subjects;
            let excess = kept.len().saturating_sub(MAX_RETRY_SUBJECTS);
            if excess > 0 {
                tracing::warn!(dropped = excess, "usage is being dropped: the store keeps failing");
                kept.drain(..excess);
            }
            *retry = kept;
        }
        result
    }

    fn prune(&self) {
        let Some(days) = self.shared.config.retention_days else {
            return;
        };
        let before = self.shared.clock.now().saturating_sub(i64::from(days) * DAY);
        match pollster::block_on(self.shared.store.prune_usage(before)) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rollups = n, "pruned old usage rollups"),
            Err(error) => tracing::error!(%error, "old usage rollups could not be pruned"),
        }
    }
}
