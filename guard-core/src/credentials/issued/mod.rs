//! Credentials issued to users when they log in: sessions (`gs_…`, in a cookie) and bearer
//! tokens (`gt_…`). Opaque, in the API key format, only their hash kept; verified from
//! memory like keys; each names its user, who is looked up on every request, so disabling
//! or deleting the user ends them at once.

mod entry;
mod ring;

pub use self::entry::IssuedEntry;
pub use self::ring::{Checked, IssueError, IssuedRing, Lifetimes};

use serde::{Deserialize, Serialize};

use crate::authz::PrincipalKind;
use crate::clock::Timestamp;
use crate::credentials::format::CredentialFormat;
use crate::usage::{CredentialKind, Detail};

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

/// Everything that differs between the kinds of issued credential, in one place: a new kind
/// is a variant here, its usage kind and its principal kind, and an authenticator.
impl IssuedKind {
    /// Every kind.
    pub const ALL: [IssuedKind; 2] = [IssuedKind::Session, IssuedKind::Token];

    /// The prefix of its credentials (contract).
    pub const fn prefix(self) -> &'static str {
        match self {
            IssuedKind::Session => "gs",
            IssuedKind::Token => "gt",
        }
    }

    /// The format of its credentials.
    pub const fn format(self) -> CredentialFormat {
        CredentialFormat::fixed(self.prefix())
    }

    /// The kind its usage is recorded under (whose code a store may keep it by).
    pub fn credential_kind(self) -> CredentialKind {
        match self {
            IssuedKind::Session => CredentialKind::Session,
            IssuedKind::Token => CredentialKind::Token,
        }
    }

    /// The issued kind recorded under `kind`, if it is one.
    pub fn of(kind: CredentialKind) -> Option<IssuedKind> {
        IssuedKind::ALL.into_iter().find(|k| k.credential_kind() == kind)
    }

    /// What the principal it proves is.
    pub fn principal_kind(self) -> PrincipalKind {
        match self {
            IssuedKind::Session => PrincipalKind::Session,
            IssuedKind::Token => PrincipalKind::Token,
        }
    }

    /// What is kept of its uses: a session's last use, for its idle clock; all of a token's.
    pub fn detail(self) -> Detail {
        match self {
            IssuedKind::Session => Detail::LastSeen,
            IssuedKind::Token => Detail::Full,
        }
    }
}

/// The prefix of session credentials.
pub const SESSION_PREFIX: &str = IssuedKind::Session.prefix();
/// The prefix of bearer tokens.
pub const TOKEN_PREFIX: &str = IssuedKind::Token.prefix();

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
