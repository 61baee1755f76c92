//! Why a store failed. No backend's own types cross this seam: a backend fault is boxed.

/// A backend's own error, boxed so that no database type crosses the store seam.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or created, or is not a database of this backend.
    #[error("cannot open the guard database {location}: {source}")]
    Open {
        /// The file, or the address without its password.
        location: String,
        /// What the backend reported.
        #[source]
        source: BackendError,
    },
    /// Another process holds the database (redb lets one process open a file: a running
    /// server, most likely).
    #[error("the guard database {location} is in use by another process (a running server?)")]
    InUse {
        /// The file.
        location: String,
    },
    /// A database, but not one of guard's.
    #[error("{location} is not a guard database: it holds tables guard did not create")]
    Foreign {
        /// The file, or the address without its password.
        location: String,
    },
    /// Written by a newer version of guard.
    #[error(
        "{location} uses guard schema version {found}; this build reads up to {supported}: upgrade guard"
    )]
    NewerSchema {
        /// The file, or the address without its password.
        location: String,
        /// The version in the database.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// There is no guard database there (and it was not to be created).
    #[error("there is no guard database at {location}")]
    Missing {
        /// The file, or the address without its password, and the schema.
        location: String,
    },
    /// Written by an older version of guard, and not to be migrated here (by a program that
    /// administers the database beside servers, which migrate it when they are upgraded).
    #[error(
        "{location} uses guard schema version {found}, older than this build's {expected}: start the upgraded application on it first (it migrates the schema)"
    )]
    OlderSchema {
        /// The file, or the address without its password.
        location: String,
        /// The version in the database.
        found: u32,
        /// This build's version.
        expected: u32,
    },
    /// The database cannot be reached now (down, restarting, unreachable, out of
    /// connections, too slow to answer): worth trying again shortly.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] BackendError),
    /// A read or write failed in the backend.
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
    /// A stored record could not be decoded.
    #[error("a stored record is damaged: {0}")]
    Damaged(String),
    /// The operation was abandoned because the server is shutting down.
    #[error("the operation was cancelled during shutdown")]
    Cancelled,
    /// An insert found its id taken.
    #[error("a record with id {0} already exists")]
    DuplicateId(String),
    /// A user's name (normalized) belongs to another user.
    #[error("the name is taken")]
    NameTaken,
    /// A conditional write found the record changed since it was read (by another request
    /// or another instance); nothing was written.
    #[error("the record changed since it was read")]
    Changed,
}

impl StoreError {
    /// Wraps a backend's own error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}
