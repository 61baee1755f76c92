//! The usage aggregate: the trait a backend implements to keep counters, per-minute rollups
//! and the last requests of each credential. Never a secret, never a query string.

use std::future::Future;

use super::StoreError;
use crate::clock::Timestamp;
use crate::usage::{Counters, CredentialKind, RecentUse, Rollup, Subject, UsageBatch};

/// One step of a shared mark: see [`UsageStore::advance_marks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkAdvance {
    /// Whose mark.
    pub name: String,
    /// Now, in time every sharer reads alike (Unix nanoseconds).
    pub at: i64,
    /// How far to move the mark beyond `max(mark, at)`.
    pub add: i64,
    /// The furthest beyond `at` the mark may be moved.
    pub cap: i64,
}

impl MarkAdvance {
    /// Where `mark` (`None` if never set) goes.
    pub fn apply(&self, mark: Option<i64>) -> i64 {
        let mark = mark.unwrap_or(self.at);
        let moved = mark.max(self.at).saturating_add(self.add);
        mark.max(moved.min(self.at.saturating_add(self.cap)))
    }
}

/// Where a backend keeps usage.
///
/// Writes are additive, so several instances can write their own counts: counters and
/// rollups are added to, never overwritten.
pub trait UsageStore: Send + Sync + 'static {
    /// Adds a batch in one durable transaction. Usage of a credential that does not exist
    /// (any more) is dropped. A session's latest use also moves its record's
    /// [`last_seen_at`](super::IssuedRecord::last_seen_at) forward, as a change to follow,
    /// so that every instance sees the session alive.
    fn apply_usage(&self, batch: UsageBatch)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The counters of the credentials of `kind` with an id after `after`, in id order, at
    /// most `limit` of them.
    fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(String, Counters)>, StoreError>> + Send;

    /// The counters of the credentials of `kind` with these ids (those that have any).
    fn counters_of(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> impl Future<Output = Result<Vec<(String, Counters)>, StoreError>> + Send;

    /// The last `limit` uses of a credential, newest first.
    fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecentUse>, StoreError>> + Send;

    /// The rollups of a credential with a minute in `from..until`, oldest first.
    fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<Rollup>, StoreError>> + Send;

    /// Forgets all usage of a credential.
    fn delete_usage(&self, subject: Subject)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Moves each named mark, a number every process sharing the store moves, to
    /// `max(mark, at) + add` but no further than `at + cap` (and never back; a mark never
    /// set counts as `at`), each as one step no other process's interleaves with; returns
    /// the marks after, in the same order. What rate limits share between instances: each
    /// mark is a credential's theoretical arrival time. Names are distinct.
    fn advance_marks(
        &self,
        advances: Vec<MarkAdvance>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// Deletes the rollups of minutes before `before`; returns how many.
    fn prune_usage(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
