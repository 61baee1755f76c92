//! Failed logins, as login throttling counts them: counts by key, changed atomically, and
//! the addresses each user logged in from. The rules live in
//! `credentials::throttle`; a store only keeps the counts, so that every process serving one
//! database counts the same failures.

use std::future::Future;

use super::StoreError;
use crate::clock::Timestamp;

/// The failures counted for one key (an account, an address, or both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCount {
    /// Failures counted.
    pub failures: u32,
    /// No attempt is admitted before this time.
    pub blocked_until: Timestamp,
    /// When the latest failure was counted.
    pub last: Timestamp,
}

/// Changes counts in place: what [`ThrottleStore::update_failures`] applies.
pub type FailureUpdate = Box<dyn FnOnce(&mut [FailureCount]) + Send>;

/// Where a backend keeps login throttling.
pub trait ThrottleStore: Send + Sync + 'static {
    /// Reads the counts of `keys` (one that was never counted as the default), changes them
    /// with `update`, and stores the result, as one step that no other update of these keys
    /// interleaves with, in this process or any other sharing the store. Returns the counts
    /// as they were before. Counts left at the default may be forgotten.
    fn update_failures(
        &self,
        keys: Vec<String>,
        update: FailureUpdate,
    ) -> impl Future<Output = Result<Vec<FailureCount>, StoreError>> + Send;

    /// Whether `user` logged in from `address` (as [`ThrottleStore::remember_address`]
    /// recorded it).
    fn known_address(
        &self,
        user: String,
        address: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that `user` logged in from `address` at `at`, keeping only the `keep` latest
    /// addresses of the user.
    fn remember_address(
        &self,
        user: String,
        address: String,
        at: Timestamp,
        keep: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets the counts whose latest failure is before `before`; returns how many.
    fn prune_failures(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
