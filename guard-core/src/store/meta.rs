//! Settings the guard keeps in its store: the admin secret's hash, the policy.

use std::future::Future;

use super::StoreError;

/// Which backend a store is, and the version of its schema (what `guard db check` shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The backend's name.
    pub backend: &'static str,
    /// The schema version this store is at.
    pub version: u32,
}

/// Where a backend keeps named settings.
pub trait MetaStore: Send + Sync + 'static {
    /// Its backend and schema version.
    fn schema(&self) -> Schema;

    /// A setting.
    fn meta(
        &self,
        name: String,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Sets a setting, durably.
    fn set_meta(
        &self,
        name: String,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets a setting to `value` only if it is `expected` now, in one step: `false`, and
    /// nothing changed, if it is not (another writer changed it first, here or in another
    /// process).
    fn replace_meta(
        &self,
        name: String,
        expected: Vec<u8>,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
