//! The user aggregate: records and the trait a backend implements for them.

use std::future::Future;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::{Change, Changes, StoreError};
use crate::clock::Timestamp;
use crate::usage::RateLimit;

/// A user as stored: the password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Stable id: what sessions, tokens and keys refer to; never changes, unlike the name.
    pub id: CompactString,
    /// The name as given.
    pub name: CompactString,
    /// The name compared for uniqueness and at login (Unicode NFKC, lower case).
    pub normalized: CompactString,
    /// The argon2id hash of the password, as a PHC string.
    pub password: String,
    /// Role names, as assigned.
    pub roles: Vec<CompactString>,
    /// A disabled user cannot log in, and nothing issued to it works.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Goes up when the password changes or the user is disabled: sessions, tokens and JWTs
    /// issued for an earlier generation no longer work, even if the user is enabled again.
    pub generation: u32,
    /// How often its sessions, tokens and password (together) may be used, if it is limited.
    pub rate_limit: Option<RateLimit>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// One change to the users.
pub type UserChange = Change<UserRecord>;

/// Where a backend keeps users. Names are unique by their normalized form, which the store
/// enforces ([`StoreError::NameTaken`]), so that two instances creating the same name at
/// once cannot both succeed.
pub trait UserStore: Send + Sync + 'static {
    /// Adds a user; [`StoreError::DuplicateId`] or [`StoreError::NameTaken`] write nothing.
    fn insert_user(
        &self,
        record: UserRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a user's record if it is still `expected` (what the caller read and changed),
    /// in one transaction: `false` if there is no user with its id; [`StoreError::Changed`]
    /// if another write came first (nothing is written: read again and retry, or give up);
    /// [`StoreError::NameTaken`] if it is renamed to another user's name.
    fn update_user(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a user; `false` if there is no such user.
    fn delete_user(&self, id: String) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The user with this id.
    fn get_user(
        &self,
        id: String,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// How many users there are.
    fn count_users(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Up to `limit` changes after `cursor`, oldest first, each user's latest only.
    fn user_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Changes<UserChange>, StoreError>> + Send;
}
