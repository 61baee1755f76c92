//! Persistence: what the guard keeps between restarts.
//!
//! [`Store`] is the seam between the in-memory index and a database; [`RedbStore`] is the
//! embedded implementation every application gets by default.

mod records;
mod redb;

pub use self::records::KeyRecord;
pub use self::redb::RedbStore;

use std::path::PathBuf;

/// A database of keys (and, as the framework grows, users, sessions and usage).
///
/// Every method is blocking; async callers run them on a blocking thread. A write returns only
/// once it is durable.
pub trait Store: Send + Sync + 'static {
    /// Every API key record.
    fn load_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;
    /// Adds a new key; fails with [`StoreError::DuplicateId`] if the id is taken.
    fn insert_key(&self, record: &KeyRecord) -> Result<(), StoreError>;
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
