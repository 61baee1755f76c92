//! Persistence: what the guard keeps between restarts.
//!
//! [`Store`] is the seam between the in-memory index and a database; [`RedbStore`] is the
//! embedded implementation every application gets by default.

mod records;
mod redb;

pub use self::records::{KeyCounters, KeyRecord, UsageOutcome, UsageRecord};
pub use self::redb::RedbStore;

use std::path::PathBuf;

use crate::clock::Timestamp;

/// A database of keys, their usage and a few settings.
///
/// Every method is blocking; async callers run them on a blocking thread. A write returns only
/// once it is durable.
pub trait Store: Send + Sync + 'static {
    /// Every API key record, with its usage counters.
    fn load_keys(&self) -> Result<Vec<(KeyRecord, KeyCounters)>, StoreError>;
    /// Adds a new key; fails with [`StoreError::DuplicateId`] if the id is taken.
    fn insert_key(&self, record: &KeyRecord) -> Result<(), StoreError>;
    /// Replaces an existing key's record; false if there is no key with its id.
    fn update_key(&self, record: &KeyRecord) -> Result<bool, StoreError>;
    /// Deletes a key with its usage; false if there is no such key.
    fn delete_key(&self, id: &str) -> Result<bool, StoreError>;
    /// Appends usage records and sets the counters of the keys they name, in one
    /// transaction. Records and counters of keys that no longer exist are dropped.
    fn append_usage(
        &self,
        records: &[UsageRecord],
        counters: &[(String, KeyCounters)],
    ) -> Result<(), StoreError>;
    /// The latest `limit` usage records of a key, newest first.
    fn recent_usage(&self, key_id: &str, limit: usize) -> Result<Vec<UsageRecord>, StoreError>;
    /// Deletes usage records older than `before`; returns how many.
    fn prune_usage(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// The highest usage sequence number stored (0 if none).
    fn last_usage_seq(&self) -> Result<u64, StoreError>;
    /// A setting.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a setting.
    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file could not be opened or created, or is not a redb database.
    #[error("cannot open the guard database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What redb reported.
        #[source]
        source: ::redb::DatabaseError,
    },
    /// A redb database, but not one of guard's.
    #[error("{path} is not a guard database: it holds tables guard did not create")]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer version of guard.
    #[error(
        "{path} uses guard schema version {found}; this build reads up to {supported}: upgrade guard"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A read or write failed.
    #[error("database error: {0}")]
    Database(#[from] ::redb::Error),
    /// A stored record could not be decoded.
    #[error("a stored record is damaged: {0}")]
    Damaged(String),
    /// The operation was abandoned because the server is shutting down.
    #[error("the operation was cancelled during shutdown")]
    Cancelled,
    /// An insert found its id taken.
    #[error("a key with id {0} already exists")]
    DuplicateId(String),
}
