//! Credentials issued to users at login: sessions and bearer tokens. One aggregate, since
//! they share their life: issued for a user, verified by hash, expiring, revocable, and
//! ended with the user.

use std::future::Future;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::{Change, Changes, StoreError};
use crate::clock::Timestamp;
use crate::usage::CredentialKind;

/// A session or token as stored: never the credential itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedRecord {
    /// Session or token: the kind its usage is recorded under.
    pub kind: CredentialKind,
    /// Public id, the middle part of the credential.
    pub id: CompactString,
    /// blake3 of `<id>_<secret>`.
    #[serde(with = "super::keys::hash_bytes")]
    pub hash: [u8; 32],
    /// The user it was issued to.
    pub user_id: CompactString,
    /// The user's generation when it was issued: it works only while the user still has it
    /// (a new password or disabling ends it, even if the user is enabled again).
    pub user_generation: u32,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When the user proved who they are (with a password) to get it.
    pub authenticated_at: Timestamp,
    /// When it stops working, whatever its use.
    pub expires_at: Timestamp,
    /// For a session: it also stops after this many seconds without a request.
    pub idle_timeout: Option<i64>,
    /// Whether it was revoked (logged out, revoked, ended with its user).
    pub revoked: bool,
    /// For a session: when it was last used, as written by usage at most once a minute (every
    /// instance's uses count toward its idle timeout); `None` if never.
    pub last_seen_at: Option<Timestamp>,
}

/// One change to the issued credentials.
pub type IssuedChange = Change<IssuedRecord>;

/// Where a backend keeps sessions and bearer tokens.
pub trait IssuedStore: Send + Sync + 'static {
    /// Adds one; [`StoreError::DuplicateId`] writes nothing.
    fn insert_issued(
        &self,
        record: IssuedRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes one at `at` (logout, revocation); `false` if there is no such credential.
    fn delete_issued(
        &self,
        id: String,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every credential issued to a user at `at`; returns how many.
    fn delete_issued_to(
        &self,
        user_id: String,
        at: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The credential with this id.
    fn get_issued(
        &self,
        id: String,
    ) -> impl Future<Output = Result<Option<IssuedRecord>, StoreError>> + Send;

    /// How many there are.
    fn count_issued(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Up to `limit` changes after `cursor`, oldest first, each credential's latest only.
    fn issued_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Changes<IssuedChange>, StoreError>> + Send;

    /// Deletes those that expired before `before`, returning how many; they leave no trace
    /// (whoever follows the store drops expired ones by itself). The deletions of credentials
    /// that expired more than a day before `before` are forgotten too: a follower that missed
    /// one has dropped its credential by itself.
    fn prune_issued(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
