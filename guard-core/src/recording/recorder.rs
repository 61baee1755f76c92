//! [`Usage`]: records uses on the request path, and reads them back for the admin API.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::UsageConfig;
use super::writer::Writer;
use crate::clock::{Clock, Timestamp};
use crate::store::{SharedStore, StoreError};
use crate::usage::{
    Counters, CredentialKind, RecentUse, RequestMethod, Rollup, Subject, Tracked, UsageOutcome, Use,
};

/// The usage of every credential of one guard: recording, the writer thread, and reads.
pub struct Usage {
    shared: Arc<Shared>,
    writer: Writer,
}

/// What the request path and the writer share.
pub(super) struct Shared {
    pub(super) config: UsageConfig,
    pub(super) store: SharedStore,
    pub(super) clock: Arc<dyn Clock>,
    /// Credentials that gathered usage since the last flush, each once.
    pub(super) dirty: Mutex<Vec<Arc<dyn Tracked>>>,
    /// One shared copy of each route seen, so a new cell allocates nothing.
    routes: Mutex<HashSet<Arc<str>>>,
}

impl std::fmt::Debug for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Usage").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl Usage {
    /// Starts the writer thread.
    pub(crate) fn start(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        config: UsageConfig,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            config,
            store,
            clock,
            dirty: Mutex::new(Vec::new()),
            routes: Mutex::new(HashSet::new()),
        });
        let writer = Writer::start(Arc::clone(&shared))?;
        Ok(Usage { shared, writer })
    }

    /// The configuration.
    pub fn config(&self) -> &UsageConfig {
        &self.shared.config
    }

    /// Records one use of `credential` at `at`: counted at once, written by the next flush.
    pub fn record(
        &self,
        credential: &Arc<dyn Tracked>,
        at: Timestamp,
        outcome: UsageOutcome,
        method: &http::Method,
        route: &str,
    ) {
        let handle = || Some(Arc::clone(credential));
        self.record_slot(credential.as_ref(), handle, at, outcome, method, route);
    }

    /// [`Usage::record`] for a borrowed credential: `handle` gives a shared handle to it, and
    /// is called only when the credential first gathers usage since the last flush, so a use
    /// costs no reference count.
    pub(crate) fn record_slot(
        &self,
        credential: &dyn Tracked,
        handle: impl FnOnce() -> Option<Arc<dyn Tracked>>,
        at: Timestamp,
        outcome: UsageOutcome,
        method: &http::Method,
        route: &str,
    ) {
        let shared = &self.shared;
        let used = Use { at, outcome, method: RequestMethod::from(method), route };
        let capacity = shared.config.recent_per_credential.max(1) as usize;
        let slot = credential.usage_slot();
        let began = slot.record(used, credential.detail(), capacity, |route| shared.intern(route));
        if began && let Some(handle) = handle() {
            lock(&shared.dirty).push(handle);
        }
    }

    /// The last `limit` uses of a credential, newest first, including those not yet written.
    pub async fn recent(
        &self,
        subject: Subject,
        limit: usize,
    ) -> Result<Vec<RecentUse>, StoreError> {
        let limit = limit.min(self.shared.config.recent_per_credential as usize);
        self.writer.read_after_flush(move |store| store.recent_uses(subject, limit)).await
    }

    /// A credential's rollups with a minute in `from..until`, oldest first, including those
    /// not yet written.
    pub async fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        self.writer.read_after_flush(move |store| store.rollups(subject, from, until)).await
    }

    /// The stored counters of the credentials of `kind` with these ids, this instance's own
    /// written first: on a store other instances write to, what every one of them counted
    /// (but for what they gathered in their last flush interval).
    pub async fn stored_counters(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        self.writer.read_after_flush(move |store| store.counters_of(kind, ids)).await
    }

    /// Forgets all usage of a credential that no longer exists.
    pub async fn forget(&self, subject: Subject) -> Result<(), StoreError> {
        self.writer.read_after_flush(move |store| store.delete_usage(subject)).await
    }

    /// Writes everything gathered so far.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.writer.read_after_flush(|_| Box::pin(std::future::ready(Ok(())))).await
    }

    /// Writes everything gathered and stops the writer thread. Idempotent. Uses recorded
    /// afterwards are written when the last handle is dropped.
    pub fn shutdown(&self) {
        self.writer.shutdown();
    }
}

impl Shared {
    fn intern(&self, route: &str) -> Arc<str> {
        let mut routes = lock(&self.routes);
        if let Some(shared) = routes.get(route) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(route);
        routes.insert(Arc::clone(&shared));
        shared
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
