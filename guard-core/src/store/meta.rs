//! Settings the guard keeps in its store: the admin secret's hash, the policy.

use std::future::Future;

use super::StoreError;

/// Where a backend keeps named settings.
pub trait MetaStore: Send + Sync + 'static {
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
}
