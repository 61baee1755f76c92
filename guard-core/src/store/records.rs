//! The records as stored. JSON-encoded, so that later versions can add fields with defaults.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// An API key as stored: never the key itself, only its blake3 hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Public id, the middle part of the key.
    pub id: String,
    /// Hex blake3 hash of the whole key.
    pub hash: String,
    /// A label chosen by whoever created it.
    pub name: String,
    /// The user the key acts for, if any.
    #[serde(default)]
    pub owner: Option<String>,
    /// Role names, as assigned (validated against the policy at creation).
    #[serde(default)]
    pub roles: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working; `None` for a key that never expires.
    pub expires_at: Option<Timestamp>,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
}

/// How often a key was used, as last flushed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCounters {
    /// Authentication attempts with this key, whatever their outcome.
    pub total_uses: u64,
    /// The latest of them; `None` if never used.
    pub last_used_at: Option<Timestamp>,
}

/// What became of one authentication attempt with a known key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsageOutcome {
    /// Authenticated and allowed.
    Ok,
    /// The key was revoked.
    Revoked,
    /// The key had expired.
    Expired,
    /// Authenticated, but the key lacks what the route requires.
    Forbidden,
}

/// One authentication attempt with a known key. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// Orders records: increases with every record this store has seen.
    pub seq: u64,
    /// The key's id.
    pub key_id: String,
    /// When.
    pub at: Timestamp,
    /// What became of it.
    pub outcome: UsageOutcome,
    /// The request method.
    pub method: String,
    /// The matched route pattern (e.g. `/reports/{id}`), never the query string.
    pub route: String,
}
