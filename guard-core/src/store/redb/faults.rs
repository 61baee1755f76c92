//! Fault injection for the redb store (feature `testing`): a storage backend over the real
//! file that fails the Nth write, length change or sync from the moment it is armed, as a
//! disk that runs out of space or a controller that errors would. What the fault-injection
//! suite (`tests/tests/faults.rs`) opens its files with.

use std::fs::OpenOptions;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redb::backends::FileBackend;
use redb::{BackendError, Database, StorageBackend};

use super::{RedbStore, open_error, schema};
use crate::store::StoreError;

/// When to fail: counts every write, length change and sync, and fails the one armed for.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// I/O steps since the plan was made or last armed.
    steps: AtomicU64,
    /// The step to fail (counted from 1 since arming); 0 for none.
    fail_at: AtomicU64,
    fired: AtomicBool,
}

impl FaultPlan {
    /// A plan that fails nothing, and counts.
    pub fn new() -> Arc<Self> {
        Arc::new(FaultPlan::default())
    }

    /// From now on, fails the `nth` I/O step (1 for the next); 0 fails none. Counting starts
    /// again.
    pub fn arm(&self, nth: u64) {
        self.fired.store(false, Ordering::SeqCst);
        self.steps.store(0, Ordering::SeqCst);
        self.fail_at.store(nth, Ordering::SeqCst);
    }

    /// I/O steps since the plan was made or last armed.
    pub fn steps(&self) -> u64 {
        self.steps.load(Ordering::SeqCst)
    }

    /// Whether the armed step was failed.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    fn step(&self, what: &str) -> io::Result<()> {
        let n = self.steps.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            self.fired.store(true, Ordering::SeqCst);
            return Err(io::Error::other(format!("injected fault: {what} (I/O step {n})")));
        }
        Ok(())
    }
}

/// The file, through the plan.
#[derive(Debug)]
struct FaultyBackend {
    file: FileBackend,
    plan: Arc<FaultPlan>,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.plan.step("set_len")?;
        self.file.set_len(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.plan.step("sync_data")?;
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.plan.step("write")?;
        self.file.write(offset, data)
    }
    fn close(&self) -> io::Result<()> {
        self.file.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }
}

impl RedbStore {
    /// Opens (or creates) the database at `path` with every write, length change and sync
    /// going through `plan`, which fails the one it is armed for. For fault-injection tests.
    pub fn open_with_faults(
        path: impl AsRef<Path>,
        plan: Arc<FaultPlan>,
    ) -> Result<Self, StoreError> {
        let path: PathBuf = path.as_ref().to_owned();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::Open {
                location: path.display().to_string(),
                source: Box::new(e),
            })?;
        let file = FileBackend::new(file).map_err(|source| open_error(&path, source))?;
        let db = Database::builder()
            .create_with_backend(FaultyBackend { file, plan })
            .map_err(|source| open_error(&path, source))?;
        schema::prepare(&db, &path)?;
        Ok(RedbStore { db: Arc::new(db), path })
    }
}
