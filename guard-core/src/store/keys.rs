//! The API key aggregate: records and the trait a backend implements for them.

use std::future::Future;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::{Change, Changes, StoreError};
use crate::clock::Timestamp;
use crate::usage::RateLimit;

/// An API key as stored: never the key itself, only the blake3 hash of its secret part.
///
/// Short strings are held inline (`CompactString`, up to 24 bytes): loading a million keys
/// then allocates one role list per key, not four strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Public id, the middle part of the key.
    pub id: CompactString,
    /// blake3 of `<id>_<secret>`.
    #[serde(with = "hash_bytes")]
    pub hash: [u8; 32],
    /// A label chosen by whoever created it (may be empty).
    pub name: CompactString,
    /// The user the key acts for, if any.
    pub owner: Option<CompactString>,
    /// Role names, as assigned (validated against the policy at creation).
    pub roles: Vec<CompactString>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working; `None` for a key that never expires.
    pub expires_at: Option<Timestamp>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// How often it may be used, if it is limited.
    pub rate_limit: Option<RateLimit>,
}

/// One change to the keys, as [`KeyStore::key_changes`] reports it.
pub type KeyChange = Change<KeyRecord>;

/// Where a backend keeps API keys.
///
/// Every write is durable when its future completes, and is given a sequence number by the
/// store; [`KeyStore::key_changes`] lists the latest change of every key after a cursor, so
/// an in-memory index can load everything (from cursor 0) and then follow writes made by
/// this or any other process.
pub trait KeyStore: Send + Sync + 'static {
    /// Adds new keys, all or none: if one id is taken (or repeated), nothing is written and
    /// the answer is [`StoreError::DuplicateId`].
    fn insert_keys(
        &self,
        records: Vec<KeyRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a key's record if it is still `expected` (what the caller read and changed),
    /// in one transaction: `false` if there is no key with its id; [`StoreError::Changed`]
    /// if another write came first (nothing is written), so that, say, a revocation made on
    /// one instance is never undone by a change another instance read before it.
    fn update_key(
        &self,
        expected: KeyRecord,
        record: KeyRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a key; `false` if there is no such key.
    fn delete_key(&self, id: String) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The key with this id.
    fn get_key(
        &self,
        id: String,
    ) -> impl Future<Output = Result<Option<KeyRecord>, StoreError>> + Send;

    /// How many keys there are.
    fn count_keys(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Up to `limit` changes with a sequence number above `cursor`, oldest first; for each
    /// key only its latest change is kept, so from cursor 0 this is every key (and the
    /// deletions since the store began).
    fn key_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Changes<KeyChange>, StoreError>> + Send;
}

/// A hash as one byte string rather than 32 separate numbers: smaller, and faster to read.
pub(super) mod hash_bytes {
    use serde::Serializer;
    use serde::de::{Deserializer, Error, Visitor};

    pub(in crate::store) fn serialize<S: Serializer>(
        hash: &[u8; 32],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(hash)
    }

    pub(in crate::store) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 32], D::Error> {
        struct Hash;
        impl Visitor<'_> for Hash {
            type Value = [u8; 32];
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("32 bytes")
            }
            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<[u8; 32], E> {
                bytes.try_into().map_err(|_| E::invalid_length(bytes.len(), &self))
            }
        }
        deserializer.deserialize_bytes(Hash)
    }
}
