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
