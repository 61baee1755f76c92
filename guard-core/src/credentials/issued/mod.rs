//! Credentials issued to users when they log in: sessions (`gs_…`, in a cookie) and bearer
//! tokens (`gt_…`). Opaque, in the API key format, only their hash kept; verified from
//! memory like keys; each names its user, who is looked up on every request, so disabling
//! or deleting the user ends them at once.

mod entry;
mod ring;

pub use self::entry::IssuedEntry;
pub use self::ring::{IssueError, IssuedRing, Lifetimes};

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::usage::CredentialKind;

/// Which kind of issued credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssuedKind {
    /// A login session, carried in a cookie.
    Session,
    /// A bearer token from `/auth/token`.
    Token,
}

impl IssuedKind {
    /// The kind of credential whose usage is recorded.
    pub fn credential_kind(self) -> CredentialKind {
        match self {
            IssuedKind::Session => CredentialKind::Session,
            IssuedKind::Token => CredentialKind::Token,
        }
    }
}

/// The prefix of session credentials.
pub const SESSION_PREFIX: &str = "gs";
/// The prefix of bearer tokens.
pub const TOKEN_PREFIX: &str = "gt";

/// What the admin API shows of a session or token: never the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedInfo {
    /// Public id.
    pub id: String,
    /// Session or token.
    pub kind: IssuedKind,
    /// The user it was issued to.
    pub user_id: String,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working, whatever its use.
    pub expires_at: Timestamp,
    /// When it was last used.
    pub last_seen_at: Option<Timestamp>,
}

/// Why a presented session or token was not accepted. Answered alike; the difference is for
/// the log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum IssuedRejection {
    /// Not well-formed (shape, prefix or checksum).
    Malformed,
    /// No such credential (or a wrong secret).
    Unknown,
    /// Past its absolute lifetime or its idle timeout.
    Expired,
    /// Its user was disabled or deleted.
    UserGone,
}
