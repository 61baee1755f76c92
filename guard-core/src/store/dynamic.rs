//! The boxed-future twins of the store traits, for holding a store as `dyn`.
//!
//! The traits in [`super`] use native `async fn`, which cannot be called through `dyn`; each
//! twin here boxes the future instead and is implemented for every implementor of its trait,
//! so a backend implements only the native traits. Store calls are few and far from the
//! request path; the box costs nothing that matters there.

use super::{
    Changes, FailureCount, FailureUpdate, IssuedChange, IssuedRecord, IssuedStore, KeyChange,
    KeyRecord, KeyStore, MarkAdvance, MetaStore, Schema, StoreError, ThrottleStore, UsageStore,
    UserChange, UserRecord, UserStore, WatchStore,
};
use crate::clock::Timestamp;
use crate::future::BoxFuture;
use crate::usage::{Counters, CredentialKind, RecentUse, Rollup, Subject, UsageBatch};

/// [`KeyStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynKeyStore: Send + Sync + 'static {
    fn insert_keys(&self, records: Vec<KeyRecord>) -> BoxFuture<'_, Result<(), StoreError>>;
    fn update_key(
        &self,
        expected: KeyRecord,
        record: KeyRecord,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn delete_key(&self, id: String) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn get_key(&self, id: String) -> BoxFuture<'_, Result<Option<KeyRecord>, StoreError>>;
    fn count_keys(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn key_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<KeyChange>, StoreError>>;
}

impl<T: KeyStore> DynKeyStore for T {
    fn insert_keys(&self, records: Vec<KeyRecord>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(KeyStore::insert_keys(self, records))
    }
    fn update_key(
        &self,
        expected: KeyRecord,
        record: KeyRecord,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(KeyStore::update_key(self, expected, record))
    }
    fn delete_key(&self, id: String) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(KeyStore::delete_key(self, id))
    }
    fn get_key(&self, id: String) -> BoxFuture<'_, Result<Option<KeyRecord>, StoreError>> {
        Box::pin(KeyStore::get_key(self, id))
    }
    fn count_keys(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(KeyStore::count_keys(self))
    }
    fn key_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<KeyChange>, StoreError>> {
        Box::pin(KeyStore::key_changes(self, cursor, limit))
    }
}

/// [`UsageStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynUsageStore: Send + Sync + 'static {
    fn apply_usage(&self, batch: UsageBatch) -> BoxFuture<'_, Result<(), StoreError>>;
    fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(String, Counters)>, StoreError>>;
    fn counters_of(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<(String, Counters)>, StoreError>>;
    fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RecentUse>, StoreError>>;
    fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<Rollup>, StoreError>>;
    fn delete_usage(&self, subject: Subject) -> BoxFuture<'_, Result<(), StoreError>>;
    fn advance_marks(
        &self,
        advances: Vec<MarkAdvance>,
    ) -> BoxFuture<'_, Result<Vec<i64>, StoreError>>;
    fn prune_usage(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<T: UsageStore> DynUsageStore for T {
    fn apply_usage(&self, batch: UsageBatch) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(UsageStore::apply_usage(self, batch))
    }
    fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(String, Counters)>, StoreError>> {
        Box::pin(UsageStore::counters(self, kind, after, limit))
    }
    fn counters_of(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<(String, Counters)>, StoreError>> {
        Box::pin(UsageStore::counters_of(self, kind, ids))
    }
    fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RecentUse>, StoreError>> {
        Box::pin(UsageStore::recent_uses(self, subject, limit))
    }
    fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<Rollup>, StoreError>> {
        Box::pin(UsageStore::rollups(self, subject, from, until))
    }
    fn delete_usage(&self, subject: Subject) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(UsageStore::delete_usage(self, subject))
    }
    fn prune_usage(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(UsageStore::prune_usage(self, before))
    }
    fn advance_marks(
        &self,
        advances: Vec<MarkAdvance>,
    ) -> BoxFuture<'_, Result<Vec<i64>, StoreError>> {
        Box::pin(UsageStore::advance_marks(self, advances))
    }
}

/// [`MetaStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynMetaStore: Send + Sync + 'static {
    fn schema(&self) -> Schema;
    fn meta(&self, name: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>>;
    fn set_meta(&self, name: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>>;
    fn replace_meta(
        &self,
        name: String,
        expected: Vec<u8>,
        value: Vec<u8>,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
}

impl<T: MetaStore> DynMetaStore for T {
    fn schema(&self) -> Schema {
        MetaStore::schema(self)
    }
    fn meta(&self, name: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(MetaStore::meta(self, name))
    }
    fn set_meta(&self, name: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(MetaStore::set_meta(self, name, value))
    }
    fn replace_meta(
        &self,
        name: String,
        expected: Vec<u8>,
        value: Vec<u8>,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(MetaStore::replace_meta(self, name, expected, value))
    }
}

/// [`ThrottleStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynThrottleStore: Send + Sync + 'static {
    fn update_failures(
        &self,
        keys: Vec<String>,
        update: FailureUpdate,
    ) -> BoxFuture<'_, Result<Vec<FailureCount>, StoreError>>;
    fn known_address(
        &self,
        user: String,
        address: String,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn remember_address(
        &self,
        user: String,
        address: String,
        at: Timestamp,
        keep: u32,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn prune_failures(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<T: ThrottleStore> DynThrottleStore for T {
    fn update_failures(
        &self,
        keys: Vec<String>,
        update: FailureUpdate,
    ) -> BoxFuture<'_, Result<Vec<FailureCount>, StoreError>> {
        Box::pin(ThrottleStore::update_failures(self, keys, update))
    }
    fn known_address(
        &self,
        user: String,
        address: String,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(ThrottleStore::known_address(self, user, address))
    }
    fn remember_address(
        &self,
        user: String,
        address: String,
        at: Timestamp,
        keep: u32,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(ThrottleStore::remember_address(self, user, address, at, keep))
    }
    fn prune_failures(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(ThrottleStore::prune_failures(self, before))
    }
}

/// A whole store through `dyn`: what [`super::SharedStore`] points at. [`WatchStore`] has no
/// `async fn` and is its own twin.
pub trait DynStore:
    DynKeyStore
    + DynUserStore
    + DynIssuedStore
    + DynUsageStore
    + DynMetaStore
    + DynThrottleStore
    + WatchStore
{
}

impl<T> DynStore for T where
    T: DynKeyStore
        + DynUserStore
        + DynIssuedStore
        + DynUsageStore
        + DynMetaStore
        + DynThrottleStore
        + WatchStore
{
}

/// [`UserStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynUserStore: Send + Sync + 'static {
    fn insert_user(&self, record: UserRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    fn update_user(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn delete_user(&self, id: String) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn get_user(&self, id: String) -> BoxFuture<'_, Result<Option<UserRecord>, StoreError>>;
    fn count_users(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn user_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<UserChange>, StoreError>>;
}

impl<T: UserStore> DynUserStore for T {
    fn insert_user(&self, record: UserRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(UserStore::insert_user(self, record))
    }
    fn update_user(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(UserStore::update_user(self, expected, record))
    }
    fn delete_user(&self, id: String) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(UserStore::delete_user(self, id))
    }
    fn get_user(&self, id: String) -> BoxFuture<'_, Result<Option<UserRecord>, StoreError>> {
        Box::pin(UserStore::get_user(self, id))
    }
    fn count_users(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(UserStore::count_users(self))
    }
    fn user_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<UserChange>, StoreError>> {
        Box::pin(UserStore::user_changes(self, cursor, limit))
    }
}

/// [`IssuedStore`] through `dyn`.
#[allow(missing_docs)]
pub trait DynIssuedStore: Send + Sync + 'static {
    fn insert_issued(&self, record: IssuedRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_issued(&self, id: String, at: Timestamp) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn delete_issued_to(
        &self,
        user_id: String,
        at: Timestamp,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn get_issued(&self, id: String) -> BoxFuture<'_, Result<Option<IssuedRecord>, StoreError>>;
    fn count_issued(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn issued_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<IssuedChange>, StoreError>>;
    fn prune_issued(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<T: IssuedStore> DynIssuedStore for T {
    fn insert_issued(&self, record: IssuedRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(IssuedStore::insert_issued(self, record))
    }
    fn delete_issued(&self, id: String, at: Timestamp) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(IssuedStore::delete_issued(self, id, at))
    }
    fn delete_issued_to(
        &self,
        user_id: String,
        at: Timestamp,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(IssuedStore::delete_issued_to(self, user_id, at))
    }
    fn get_issued(&self, id: String) -> BoxFuture<'_, Result<Option<IssuedRecord>, StoreError>> {
        Box::pin(IssuedStore::get_issued(self, id))
    }
    fn count_issued(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(IssuedStore::count_issued(self))
    }
    fn issued_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Changes<IssuedChange>, StoreError>> {
        Box::pin(IssuedStore::issued_changes(self, cursor, limit))
    }
    fn prune_issued(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(IssuedStore::prune_issued(self, before))
    }
}
