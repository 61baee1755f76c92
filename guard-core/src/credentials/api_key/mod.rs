//! API keys: their format, their in-memory index, and their lifecycle.

mod entry;
mod index;
mod ring;

pub use self::entry::KeyEntry;
pub use self::ring::{KeyRing, KeyRingConfig};

use crate::authz::UnknownRoles;
use crate::clock::Timestamp;
use crate::config::MAX_TTL_DAYS;
use crate::random::RandomError;
use crate::secret::Secret;
use crate::store::StoreError;
use crate::usage::RateLimit;

/// When a key stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    /// After the configured default lifetime (15 days unless configured).
    #[default]
    Default,
    /// Never.
    Never,
    /// At this time, which must be in the future.
    At(Timestamp),
    /// After this many days (1 to [`MAX_TTL_DAYS`]).
    InDays(u32),
}

/// What to create.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    /// A label; shown in the admin API and as the principal's name.
    pub name: Option<String>,
    /// Role names, each declared by the policy (and, for an owned key, held by the owner).
    pub roles: Vec<String>,
    /// When it expires.
    pub expiry: Expiry,
    /// The user the key acts for, by id: it works only while that user exists and is
    /// enabled, and holds no role the user does not.
    pub owner: Option<String>,
    /// How often it may be used; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
}

/// A key just created. `key` is the only copy of the plaintext: show it once.
#[derive(Debug)]
pub struct CreatedKey {
    /// The plaintext key, not kept anywhere.
    pub key: Secret,
    /// Its public description.
    pub info: KeyInfo,
}

/// Whether a key works now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// It authenticates.
    Active,
    /// It was revoked (renewing reactivates it).
    Revoked,
    /// Its expiry has passed (renewing reactivates it).
    Expired,
}

/// What may be shown of a key, with its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Public id.
    pub id: String,
    /// `<prefix>_<id>`: enough to recognise a key, not to use it.
    pub prefix: String,
    /// Label.
    pub name: String,
    /// Assigned role names.
    pub roles: Vec<String>,
    /// The user it acts for, if any.
    pub owner: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Expiry time; `None` if it never expires.
    pub expires_at: Option<Timestamp>,
    /// Active, revoked or expired, now.
    pub state: KeyState,
    /// Authentication attempts with this key (every outcome), exact.
    pub total_uses: u64,
    /// The latest of them.
    pub last_used_at: Option<Timestamp>,
    /// How often it may be used, if it is limited.
    pub rate_limit: Option<RateLimit>,
}

/// Why a key could not be created or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Role names the policy does not declare.
    #[error(transparent)]
    UnknownRoles(UnknownRoles),
    /// An expiry time that is not in the future.
    #[error("the expiry time must be in the future")]
    ExpiryNotInFuture,
    /// A lifetime out of range.
    #[error("the lifetime must be between 1 and {MAX_TTL_DAYS} days")]
    InvalidTtl,
    /// The owner named is not a user, or is disabled.
    #[error("the owner is not an enabled user")]
    UnknownOwner,
    /// Roles the owner does not hold.
    #[error("the owner does not hold the role(s): {}", .0.join(", "))]
    RolesBeyondOwner(Vec<String>),
    /// No key has this id.
    #[error("no such key")]
    NotFound,
    /// The key's owner is disabled or gone: renewing would show a key as active that is
    /// refused.
    #[error("the key's owner is disabled; enable the owner first")]
    OwnerDisabled,
    /// Randomness was unavailable.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented key was not accepted. The HTTP layer answers every variant alike; the
/// distinction is for usage and logs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyRejection {
    /// Not a well-formed key (bad shape or checksum): no lookup was made.
    Malformed,
    /// Well-formed, but no key has its id and secret.
    Unknown,
    /// A real key, revoked.
    Revoked(std::sync::Arc<KeyEntry>),
    /// A real key, past its expiry.
    Expired(std::sync::Arc<KeyEntry>),
    /// A real key whose owner was disabled or deleted.
    OwnerGone(std::sync::Arc<KeyEntry>),
}

/// What changed when a key was renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewed {
    /// The key now.
    pub info: KeyInfo,
    /// Whether it was revoked or expired before and works again now.
    pub reactivated: bool,
}
