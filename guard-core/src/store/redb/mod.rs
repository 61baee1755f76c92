//! The embedded store: one redb file. Every transaction runs on a blocking thread pool, so an
//! async caller never waits on the disk on its own thread.

#[cfg(any(test, feature = "testing"))]
mod faults;
mod issued;
mod keys;
mod log;
mod meta;
mod migrate;
mod schema;
mod throttle;
mod usage;
mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, WriteTransaction};

use super::{StoreError, WatchStore};

#[cfg(any(test, feature = "testing"))]
pub use self::faults::FaultPlan;

/// The page cache of a redb file opened with [`RedbStore::open`], in bytes. The request path
/// never reads the store, so a small cache costs little; it also bounds what a full load of
/// the keys leaves in memory.
pub const DEFAULT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A [`Store`](super::Store) in a redb file.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Only this process writes to the file (redb lets one process open it), and every write
/// brings the indexes up to date itself: nothing to watch.
impl WatchStore for RedbStore {}

/// Why the file at `path` could not be opened.
fn open_error(path: &Path, source: redb::DatabaseError) -> StoreError {
    let location = path.display().to_string();
    match source {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { location },
        source => StoreError::Open { location, source: Box::new(source) },
    }
}

/// Any redb error, as a store error that carries no redb type.
fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::backend(e.into())
}

impl RedbStore {
    /// Opens the database at `path`, creating it if it does not exist, with a page cache of
    /// [`DEFAULT_CACHE_BYTES`].
    ///
    /// A file that is not a redb database, a redb database of another application, or one
    /// written by a newer guard is an error, never a panic and never overwritten. A file of
    /// an older guard is migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`RedbStore::open`] with a page cache of `cache_bytes`.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(&path)
            .map_err(|source| open_error(&path, source))?;
        schema::prepare(&db, &path)?;
        Ok(RedbStore { db: Arc::new(db), path })
    }

    /// Opens a guard database file as it is: never creates, migrates or adds to one. What a
    /// program that administers the file beside its server opens it with (the command
    /// line): a missing file is [`StoreError::Missing`], a file of an older guard
    /// [`StoreError::OlderSchema`] (the upgraded server migrates it), one of a newer guard
    /// [`StoreError::NewerSchema`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(StoreError::Missing { location: path.display().to_string() });
        }
        let db = Database::builder()
            .set_cache_size(DEFAULT_CACHE_BYTES)
            .open(&path)
            .map_err(|source| open_error(&path, source))?;
        schema::check(&db, &path)?;
        Ok(RedbStore { db: Arc::new(db), path })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the database on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        blocking::unblock(move || work(&db)).await
    }

    /// Runs `work` in one write transaction on the blocking pool, and commits it (durably)
    /// if it succeeds; an error writes nothing.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let out = work(&txn)?;
            txn.commit().map_err(db_err)?;
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use redb::{Database, TableDefinition};

    use super::*;
    use crate::store::conformance;

    #[test]
    fn passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        pollster::block_on(conformance::run_all(|| {
            n += 1;
            RedbStore::open(dir.path().join(format!("c{n}.redb"))).unwrap()
        }));
    }

    #[test]
    fn garbage_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.redb");
        std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
        let err = RedbStore::open(&garbage).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x5a; 8192], "left untouched");

        let foreign = dir.path().join("foreign.redb");
        {
            let db = Database::create(&foreign).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(TableDefinition::<u64, u64>::new("orders")).unwrap();
            txn.commit().unwrap();
        }
        let err = RedbStore::open(&foreign).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("not a guard database"));
    }

    #[test]
    fn open_existing_changes_nothing_and_says_what_it_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        let err = RedbStore::open_existing(&path).unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
        assert!(!path.exists(), "never created");
        drop(RedbStore::open(&path).unwrap());
        drop(RedbStore::open_existing(&path).unwrap());
        let set_version = |version: u32| {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(schema::META)
                .unwrap()
                .insert(schema::SCHEMA_VERSION_KEY, version.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        };
        set_version(schema::SCHEMA_VERSION - 1);
        let err = RedbStore::open_existing(&path).unwrap_err();
        assert!(matches!(err, StoreError::OlderSchema { .. }), "{err}");
        assert!(err.to_string().contains("start the upgraded application on it first"));
        set_version(schema::SCHEMA_VERSION + 1);
        let err = RedbStore::open_existing(&path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        drop(RedbStore::open(&path).unwrap());
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(schema::META)
                .unwrap()
                .insert(schema::SCHEMA_VERSION_KEY, 99u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = RedbStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }

    #[test]
    fn a_second_open_of_the_same_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        let _first = RedbStore::open(&path).unwrap();
        let err = RedbStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::InUse { .. }), "{err}");
        assert!(err.to_string().contains("is in use by another process"), "{err}");
    }
}
