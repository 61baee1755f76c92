//! Persistence: one async trait per aggregate, so that each backend implements what it stores
//! and nothing backend-specific crosses the seam.
//!
//! - [`KeyStore`]: API keys, with store-owned sequence numbers and [`KeyStore::key_changes`],
//!   through which an in-memory index loads and then follows writes (its own or another
//!   process's);
//! - [`UserStore`]: users, their names unique;
//! - [`IssuedStore`]: sessions and bearer tokens, issued to users;
//! - [`UsageStore`]: counters (written as deltas), per-minute rollups, the last requests;
//! - [`MetaStore`]: named settings;
//! - [`ThrottleStore`]: failed logins, counted;
//! - [`WatchStore`]: whether other processes write to it, and the [`ChangeSignal`] that
//!   says when they may have.
//!
//! A backend implements them all (that makes it a [`Store`]); [`RedbStore`] is the embedded
//! one every application gets by default. The traits use native `async fn` with `Send`
//! futures; the guard holds a store as [`SharedStore`], through the boxed-future twins in
//! [`dynamic`], which every [`Store`] implements. `conformance` (feature `testing`) is the
//! suite every backend runs.

mod changes;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod dynamic;
mod error;
mod issued;
mod keys;
mod meta;
mod redb;
mod throttle;
mod usage;
mod users;
mod watch;

use std::sync::Arc;

pub use self::changes::{Change, Changes};
pub(crate) use self::changes::{Follows, catch_up};
pub use self::dynamic::{
    DynIssuedStore, DynKeyStore, DynMetaStore, DynStore, DynThrottleStore, DynUsageStore,
    DynUserStore,
};
pub use self::error::{BackendError, StoreError};
pub use self::issued::{IssuedChange, IssuedRecord, IssuedStore};
pub use self::keys::{KeyChange, KeyRecord, KeyStore};
pub use self::meta::{MetaStore, Schema};
#[cfg(any(test, feature = "testing"))]
pub use self::redb::FaultPlan;
pub use self::redb::{DEFAULT_CACHE_BYTES, RedbStore};
pub use self::throttle::{FailureCount, FailureUpdate, ThrottleStore};
pub use self::usage::{MarkAdvance, UsageStore};
pub use self::users::{UserChange, UserRecord, UserStore};
pub use self::watch::{ChangeSignal, WatchStore};

/// Everything the guard keeps: API keys, users, sessions and tokens, usage, settings and
/// login throttling.
pub trait Store:
    KeyStore + UserStore + IssuedStore + UsageStore + MetaStore + ThrottleStore + WatchStore
{
}

impl<T> Store for T where
    T: KeyStore + UserStore + IssuedStore + UsageStore + MetaStore + ThrottleStore + WatchStore
{
}

/// A store as the guard holds it: shared, behind the boxed-future twins.
pub type SharedStore = Arc<dyn DynStore>;
