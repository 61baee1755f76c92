//! # guard-postgres
//!
//! guard's store on PostgreSQL, for an application that runs several instances: behind a
//! load balancer, through a rolling deploy, administered by another program while it serves.
//! It implements the same store traits as the embedded redb store and passes the same
//! conformance suite, plus the cases only several writers show.
//!
//! - Every instance keeps its own in-memory indexes and follows the database: a write bumps
//!   the change sequence and sends `NOTIFY` in its transaction; each instance applies the
//!   changes after its cursor when notified, after every reconnection, and every second in
//!   any case (`Settings::sync_interval`), so a lost notification delays, never loses.
//! - Counters and rollups are added to, never overwritten; login throttling is counted in
//!   the database, so N instances do not give an attacker N times the attempts.
//! - The request path never waits for the database. While it cannot be reached, requests are
//!   served from memory, writes answer 503, and the first successful pass catches up.
//!
//! Selected by `GUARD_DB=postgres://…` in any application built with `.with_env()` (the
//! `postgres` feature of guard-axum, on by default), or in code with
//! [`PostgresStore::connect`] and the builder's `.store(…)`.
//!
//! ```no_run
//! # async fn open() -> Result<(), guard_core::StoreError> {
//! use guard_postgres::{PostgresConfig, PostgresStore};
//!
//! let config = PostgresConfig::default().pool_size(20);
//! let store = PostgresStore::connect("postgres://guard@127.0.0.1/app", config).await?;
//! # drop(store); Ok(()) }
//! ```
//!
//! Runs on its own small tokio runtime, so that any caller can await it: the guard's writer
//! thread, an application's runtime, or a plain `block_on`.

mod changes;
mod config;
mod connect;
mod error;
mod issued;
mod keys;
mod listen;
mod meta;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;
mod usage;
mod users;

use std::future::Future;
use std::sync::Arc;

use guard_core::BoxFuture;
use guard_core::assembly::UrlOpener;
use guard_core::store::{ChangeSignal, SharedStore, StoreError, WatchStore};
use sqlx::PgPool;
use tokio::runtime::Runtime;

pub use self::config::{PostgresConfig, redacted};

/// A guard store in a PostgreSQL database. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// The runtime the connections live on.
    runtime: OwnRuntime,
    signal: Arc<ChangeSignal>,
    /// The `NOTIFY` channel of this schema.
    channel: Arc<str>,
    /// Seeds the advisory locks of this schema's aggregates.
    schema: Arc<str>,
    /// The URL without its password.
    location: String,
}

/// The store's runtime, shut down without waiting when dropped: whatever thread drops it,
/// an application's async task included, may do so (tokio forbids a blocking shutdown
/// there).
pub(crate) struct OwnRuntime(Option<Runtime>);

impl OwnRuntime {
    pub(crate) fn new(runtime: Runtime) -> Self {
        OwnRuntime(Some(runtime))
    }

    pub(crate) fn get(&self) -> Option<&Runtime> {
        self.0.as_ref()
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.inner.location)
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url`, creates the schema if it is missing, applies the
    /// migrations this build embeds (refusing a schema a newer guard wrote), and starts
    /// listening for the changes other instances make.
    ///
    /// A wrong URL, a wrong password, an unknown database and one that cannot be reached are
    /// each one clear error; only the last is retried, as [`PostgresConfig::connect_retries`]
    /// says.
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        connect::connect(url, config).await
    }

    /// Where it is connected, without the password.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// Runs `work` on the store's runtime with the pool.
    async fn run<T, Fut>(&self, work: impl FnOnce(PgPool, Writing) -> Fut) -> Result<T, StoreError>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let writing = Writing {
            channel: Arc::clone(&self.inner.channel),
            schema: Arc::clone(&self.inner.schema),
        };
        let future = work(self.inner.pool.clone(), writing);
        let Some(runtime) = self.inner.runtime.get() else { return Err(StoreError::Cancelled) };
        runtime.spawn(future).await.map_err(|_| StoreError::Cancelled)?
    }
}

/// What a write needs besides the pool: where to notify, and whose locks to take.
#[derive(Clone)]
struct Writing {
    channel: Arc<str>,
    schema: Arc<str>,
}

impl WatchStore for PostgresStore {
    fn watch(&self) -> Option<Arc<ChangeSignal>> {
        Some(Arc::clone(&self.inner.signal))
    }
}

/// What `Settings::url_opener` (and guard-axum's builder) calls to open a `postgres://` URL.
pub fn opener(config: PostgresConfig) -> UrlOpener {
    Arc::new(move |url: String| -> BoxFuture<'static, Result<SharedStore, StoreError>> {
        let config = config.clone();
        Box::pin(async move {
            let store: SharedStore = Arc::new(PostgresStore::connect(&url, config).await?);
            Ok(store)
        })
    })
}
