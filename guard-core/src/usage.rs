//! Usage recording, off the request path.
//!
//! A request that names a known key bumps that key's counters (two atomics, so counts are
//! exact under any concurrency) and appends a record to an in-memory buffer. A writer thread
//! commits the buffer to the store in batches: every [`UsageConfig::flush_interval`], or as
//! soon as [`UsageConfig::batch_size`] records wait. Requests never wait on a disk write.
//!
//! Reads merge what is stored with what is still buffered, so a count or a record is visible
//! the moment its request has completed. A crash loses at most the records and counter
//! increments since the last flush: one flush interval, or one batch. Key state (creation,
//! revocation, renewal, deletion) is written durably before it is acknowledged and is never
//! lost. On shutdown the buffer is flushed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::clock::{Clock, Timestamp};
use crate::store::{KeyCounters, Store, StoreError, UsageOutcome, UsageRecord};

const DAY: i64 = 24 * 60 * 60;

/// How usage is recorded and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageConfig {
    /// The longest a record waits in memory before it is written (default 1 s).
    pub flush_interval: Duration,
    /// Write as soon as this many records wait (default 1024).
    pub batch_size: usize,
    /// Records beyond this many waiting are dropped (counts stay exact) rather than let
    /// memory grow without bound while the store is failing (default 65 536).
    pub max_pending: usize,
    /// Delete records older than this many days; `None` keeps them forever (default 30).
    pub retention_days: Option<u32>,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            flush_interval: Duration::from_secs(1),
            batch_size: 1024,
            max_pending: 65_536,
            retention_days: Some(30),
        }
    }
}

/// A key's live counters: exact, including what is not yet flushed.
#[derive(Debug)]
pub(crate) struct KeyStats {
    total_uses: AtomicU64,
    /// Seconds since the epoch; `i64::MIN` for never.
    last_used_at: AtomicI64,
}

impl KeyStats {
    pub(crate) fn new(counters: KeyCounters) -> Self {
        KeyStats {
            total_uses: AtomicU64::new(counters.total_uses),
            last_used_at: AtomicI64::new(counters.last_used_at.unwrap_or(i64::MIN)),
        }
    }

    pub(crate) fn counters(&self) -> KeyCounters {
        let last = self.last_used_at.load(Ordering::Acquire);
        KeyCounters {
            total_uses: self.total_uses.load(Ordering::Acquire),
            last_used_at: (last != i64::MIN).then_some(last),
        }
    }

    /// Counts one use at `at`; returns the counters including it.
    fn bump(&self, at: Timestamp) -> KeyCounters {
        let total_uses = self.total_uses.fetch_add(1, Ordering::AcqRel) + 1;
        let last = self.last_used_at.fetch_max(at, Ordering::AcqRel).max(at);
        KeyCounters { total_uses, last_used_at: Some(last) }
    }
}

/// A record not yet written, with the key's counters as this use left them. It shares
/// nothing with the request path (no reference counts to bump across threads).
#[derive(Clone)]
struct Pending {
    seq: u64,
    key_id: Arc<str>,
    at: Timestamp,
    outcome: UsageOutcome,
    method: http::Method,
    route: Box<str>,
    counters: KeyCounters,
}

impl Pending {
    fn record(&self) -> UsageRecord {
        UsageRecord {
            seq: self.seq,
            key_id: self.key_id.to_string(),
            at: self.at,
            outcome: self.outcome,
            method: self.method.as_str().to_owned(),
            route: self.route.to_string(),
        }
    }
}

#[derive(Default)]
struct Buffer {
    pending: Vec<Pending>,
    /// The batch being written: still readable until the commit is done.
    in_flight: Option<Arc<Vec<Pending>>>,
    shutdown: bool,
}

struct Shared {
    buffer: Mutex<Buffer>,
    wake: Condvar,
    /// One flush at a time, so that `in_flight` is a single batch.
    flushing: Mutex<()>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: UsageConfig,
    next_seq: AtomicU64,
    dropped: AtomicU64,
}

/// The usage log: buffer, writer thread and reads.
pub(crate) struct UsageLog {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl UsageLog {
    /// Starts the writer thread.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: UsageConfig,
    ) -> Result<Self, StoreError> {
        let next_seq = store.last_usage_seq()? + 1;
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Buffer::default()),
            wake: Condvar::new(),
            flushing: Mutex::new(()),
            store,
            clock,
            config,
            next_seq: AtomicU64::new(next_seq),
            dropped: AtomicU64::new(0),
        });
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("guard-usage-writer".into())
            .spawn(move || writer_shared.run())
            .map_err(|e| StoreError::Damaged(format!("cannot start the usage writer: {e}")))?;
        Ok(UsageLog { shared, writer: Mutex::new(Some(writer)) })
    }

    /// Counts one use of a key and queues its record.
    pub(crate) fn record(
        &self,
        key_id: &Arc<str>,
        stats: &KeyStats,
        at: Timestamp,
        outcome: UsageOutcome,
        method: &http::Method,
        route: &str,
    ) {
        let shared = &self.shared;
        let counters = stats.bump(at);
        let pending = Pending {
            seq: shared.next_seq.fetch_add(1, Ordering::Relaxed),
            key_id: Arc::clone(key_id),
            at,
            outcome,
            method: method.clone(),
            route: route.into(),
            counters,
        };
        let mut buffer = lock(&shared.buffer);
        if buffer.pending.len() >= shared.config.max_pending {
            drop(buffer);
            if shared.dropped.fetch_add(1, Ordering::Relaxed).is_multiple_of(10_000) {
                tracing::warn!("usage records are being dropped: the store is not keeping up");
            }
            return;
        }
        buffer.pending.push(pending);
        if buffer.pending.len() == shared.config.batch_size {
            shared.wake.notify_one();
        }
    }

    /// The latest `limit` records of a key, newest first, buffered ones included.
    pub(crate) fn recent(
        &self,
        key_id: &str,
        limit: usize,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        let mut records: Vec<UsageRecord> = {
            let buffer = lock(&self.shared.buffer);
            let in_flight = buffer.in_flight.iter().flat_map(|b| b.iter());
            in_flight
                .chain(buffer.pending.iter())
                .filter(|p| &*p.key_id == key_id)
                .map(Pending::record)
                .collect()
        };
        // Read the store after the buffer: a batch committed in between is then seen twice
        // (and deduplicated), never missed.
        records.extend(self.shared.store.recent_usage(key_id, limit)?);
        records.sort_by_key(|r| std::cmp::Reverse(r.seq));
        records.dedup_by_key(|r| r.seq);
        records.truncate(limit);
        Ok(records)
    }

    /// Writes everything buffered now.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        self.shared.flush()
    }

    /// Stops the writer after a last flush. Idempotent.
    pub(crate) fn shutdown(&self) {
        lock(&self.shared.buffer).shutdown = true;
        self.shared.wake.notify_all();
        let writer = lock(&self.writer).take();
        if writer.is_some_and(|w| w.join().is_err()) {
            tracing::error!("the usage writer panicked");
        }
        if let Err(error) = self.shared.flush() {
            tracing::error!(%error, "usage records could not be written at shutdown");
        }
    }
}

impl Drop for UsageLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn run(&self) {
        // Guard against a configuration that would spin.
        let interval = self.config.flush_interval.max(Duration::from_millis(10));
        let batch_size = self.config.batch_size.max(1);
        let mut last_prune: Option<Instant> = None;
        let mut failed = false;
        loop {
            let shutdown = {
                let deadline = Instant::now() + interval;
                let mut buffer = lock(&self.buffer);
                loop {
                    let now = Instant::now();
                    // After a failed write, wait the whole interval: a failing store is not
                    // retried in a hot loop, however full the buffer.
                    let full = !failed && buffer.pending.len() >= batch_size;
                    if buffer.shutdown || full || now >= deadline {
                        break;
                    }
                    buffer = self
                        .wake
                        .wait_timeout(buffer, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                buffer.shutdown
            };
            failed = match self.flush() {
                Ok(()) => false,
                Err(error) => {
                    tracing::error!(%error, "usage records could not be written; will retry");
                    true
                }
            };
            if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                last_prune = Some(Instant::now());
                self.prune();
            }
            if shutdown {
                return;
            }
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        let _one_at_a_time = lock(&self.flushing);
        let batch = {
            let mut buffer = lock(&self.buffer);
            if buffer.pending.is_empty() {
                return Ok(());
            }
            // The next batch gets room up front, so the request path rarely reallocates.
            let fresh = Vec::with_capacity(self.config.batch_size.clamp(1, 4096));
            let batch = Arc::new(std::mem::replace(&mut buffer.pending, fresh));
            buffer.in_flight = Some(Arc::clone(&batch));
            batch
        };
        let records: Vec<UsageRecord> = batch.iter().map(Pending::record).collect();
        // Per key, the counters of its latest use in the batch: they include every earlier
        // use, whether in this batch or flushed before.
        let mut latest: HashMap<&str, KeyCounters> = HashMap::new();
        for pending in batch.iter() {
            let entry = latest.entry(&pending.key_id).or_default();
            if pending.counters.total_uses > entry.total_uses {
                *entry = pending.counters;
            }
        }
        let counters: Vec<(String, KeyCounters)> =
            latest.into_iter().map(|(id, c)| (id.to_owned(), c)).collect();
        let result = self.store.append_usage(&records, &counters);
        let mut buffer = lock(&self.buffer);
        buffer.in_flight = None;
        if result.is_err() {
            // Keep the batch for the next attempt, ahead of newer records.
            let newer = std::mem::take(&mut buffer.pending);
            let mut retry = Arc::try_unwrap(batch).unwrap_or_else(|shared| shared.to_vec());
            retry.extend(newer);
            let excess = retry.len().saturating_sub(self.config.max_pending);
            retry.drain(..excess);
            buffer.pending = retry;
        }
        result
    }

    fn prune(&self) {
        let Some(days) = self.config.retention_days else {
            return;
        };
        let before = self.clock.now().saturating_sub(i64::from(days) * DAY);
        match self.store.prune_usage(before) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(records = n, "pruned old usage records"),
            Err(error) => tracing::error!(%error, "old usage records could not be pruned"),
        }
    }
}
