//! Users: people who log in with a name and a password, and hold roles.

mod directory;
mod entry;
pub mod name;

pub use self::directory::UserDirectory;
pub use self::entry::UserEntry;

use crate::authz::UnknownRoles;
use crate::clock::Timestamp;
use crate::credentials::api_key::KeyError;
use crate::credentials::password::PasswordError;
use crate::random::RandomError;
use crate::store::StoreError;
use crate::usage::RateLimit;

/// What the admin API shows of a user: never its password or its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Stable id.
    pub id: String,
    /// The name as given.
    pub name: String,
    /// Assigned role names.
    pub roles: Vec<String>,
    /// Whether the user is disabled.
    pub disabled: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// How often its sessions, tokens and password may be used (together), if limited.
    pub rate_limit: Option<RateLimit>,
}

/// A user to create.
#[derive(Clone, Default)]
pub struct NewUser {
    /// The name (unique, compared case-insensitively after normalisation).
    pub name: String,
    /// The password, 8 to 1024 bytes.
    pub password: String,
    /// Role names, each declared by the policy.
    pub roles: Vec<String>,
    /// How often its sessions, tokens and password may be used (together); `None` for no
    /// limit.
    pub rate_limit: Option<RateLimit>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser").field("name", &self.name).field("roles", &self.roles).finish()
    }
}

/// What to change about a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// A new name.
    pub name: Option<String>,
    /// New roles, replacing the old.
    pub roles: Option<Vec<String>>,
    /// Disable (ending everything issued to the user and its keys) or enable.
    pub disabled: Option<bool>,
    /// A new rate limit: `Some(None)` removes it.
    pub rate_limit: Option<Option<RateLimit>>,
}

/// Why a user could not be created or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// Not a name a user may have.
    #[error(transparent)]
    InvalidName(#[from] name::InvalidName),
    /// The password cannot be used.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Role names the policy does not declare.
    #[error(transparent)]
    UnknownRoles(UnknownRoles),
    /// Another user has this name.
    #[error("the name is taken")]
    NameTaken,
    /// No user has this id.
    #[error("no such user")]
    NotFound,
    /// The user changed while this change was being made (by another request or another
    /// instance); nothing was written.
    #[error("the user changed meanwhile; read it again and retry")]
    Changed,
    /// Randomness was unavailable.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The keys the user owns could not be changed with it.
    #[error("the user's keys: {0}")]
    Keys(KeyError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<KeyError> for UserError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(store) => store.into(),
            other => UserError::Keys(other),
        }
    }
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NameTaken => UserError::NameTaken,
            StoreError::Changed => UserError::Changed,
            other => UserError::Store(other),
        }
    }
}
