//! The umbrella error: everything that can stop a guard from being assembled.

use crate::authz::PolicyError;
use crate::config::{ConfigError, MAX_TTL_DAYS};
use crate::credentials::admin_secret::AdminSecretError;
use crate::credentials::format::InvalidPrefix;
use crate::credentials::password::PasswordError;
use crate::store::StoreError;

/// Why a guard could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy is invalid (only possible for a hand-written spec).
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A setting from the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key prefix is invalid.
    #[error(transparent)]
    KeyPrefix(#[from] InvalidPrefix),
    /// The admin secret could not be set up.
    #[error(transparent)]
    AdminSecret(#[from] AdminSecretError),
    /// `admin_permission` names a permission the policy does not declare.
    #[error("the admin permission `{0}` is not declared by the policy")]
    UnknownPermission(String),
    /// A role given to people who register is not declared by the policy.
    #[error("a role given at registration: {0}")]
    UnknownRole(crate::authz::UnknownRoles),
    /// Two authenticators were registered at one position: their order would be arbitrary.
    #[error(
        "authenticators `{first}` and `{second}` are both at position {position}; give each its own"
    )]
    DuplicatePosition {
        /// The position.
        position: u32,
        /// The authenticator registered first.
        first: String,
        /// The one registered second.
        second: String,
    },
    /// The admin secret set in code cannot be used: it says why (too short, too repetitive,
    /// or not something a header carries as written).
    #[error("the admin secret {0}")]
    WeakAdminSecret(&'static str),
    /// The JWT configuration cannot be used.
    #[error("JWT: {0}")]
    Jwt(String),
    /// The default key lifetime is out of range.
    #[error("the default key lifetime must be between 1 and {MAX_TTL_DAYS} days")]
    InvalidTtl,
    /// Password hashing cannot be set up with the configured parameters.
    #[error("password hashing cannot start: {0}")]
    Passwords(#[from] PasswordError),
    /// A background thread could not be started.
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        /// Which thread.
        name: &'static str,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The policy recorded in the store cannot be read back.
    #[error(transparent)]
    RecordedPolicy(#[from] crate::authz::recorded::RecordedPolicyError),
    /// The database is named by a URL, and no backend that opens URLs was linked.
    #[error(
        "GUARD_DB is a postgres:// URL, but this build cannot open one: enable the `postgres` \
         feature of guard-axum (on by default), or pass the store with `.store(…)`"
    )]
    NoUrlBackend,
}
