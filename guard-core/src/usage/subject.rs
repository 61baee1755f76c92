//! Whose usage is recorded: a credential, by kind and id.

use serde::{Deserialize, Serialize};

/// The kind of credential whose use is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// An API key.
    ApiKey,
    /// A login session.
    Session,
    /// A bearer token.
    Token,
}

impl CredentialKind {
    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        match self {
            CredentialKind::ApiKey => 1,
            CredentialKind::Session => 2,
            CredentialKind::Token => 3,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => CredentialKind::ApiKey,
            2 => CredentialKind::Session,
            3 => CredentialKind::Token,
            _ => return None,
        })
    }
}

/// Whose usage: a credential, by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    /// What kind of credential.
    pub kind: CredentialKind,
    /// Its public id.
    pub id: String,
}

impl Subject {
    /// The subject for a credential.
    pub fn new(kind: CredentialKind, id: impl Into<String>) -> Self {
        Subject { kind, id: id.into() }
    }
}
