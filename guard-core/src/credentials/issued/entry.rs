//! One session or token in memory.

use compact_str::CompactString;

use super::IssuedInfo;
use crate::clock::Timestamp;
use crate::credentials::api_key::format::ID_LEN;
use crate::store::{Counters, CredentialKind, IssuedKind, IssuedRecord, Subject};
use crate::usage::{Detail, Tracked, UsageSlot};

/// A session or bearer token in the in-memory index.
pub struct IssuedEntry {
    kind: IssuedKind,
    id: [u8; ID_LEN],
    /// The first 128 bits of the blake3 hash (see the key entry).
    hash_head: u128,
    user_id: CompactString,
    created_at: Timestamp,
    expires_at: Timestamp,
    idle_timeout: Option<i64>,
    usage: UsageSlot,
}

impl std::fmt::Debug for IssuedEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedEntry")
            .field("kind", &self.kind)
            .field("id", &self.id_str())
            .finish_non_exhaustive()
    }
}

pub(super) fn hash_head(hash: &[u8; 32]) -> u128 {
    let mut head = [0; 16];
    head.copy_from_slice(&hash[..16]);
    u128::from_le_bytes(head)
}

impl IssuedEntry {
    pub(super) fn new(record: &IssuedRecord, counters: Counters) -> Option<Self> {
        let id: [u8; ID_LEN] = record.id.as_bytes().try_into().ok()?;
        if !id.iter().all(u8::is_ascii_alphanumeric) || record.revoked {
            return None;
        }
        Some(IssuedEntry {
            kind: record.kind,
            id,
            hash_head: hash_head(&record.hash),
            user_id: record.user_id.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            idle_timeout: record.idle_timeout,
            usage: UsageSlot::new(counters),
        })
    }

    /// The credential's id.
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    pub(super) fn id_bytes(&self) -> &[u8] {
        &self.id
    }

    /// Session or token.
    pub fn kind(&self) -> IssuedKind {
        self.kind
    }

    /// The user it was issued to.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub(super) fn hash_matches(&self, hash: &blake3::Hash) -> bool {
        hash_head(hash.as_bytes()) == self.hash_head
    }

    /// Whether it works at `now`: before its absolute expiry and, for a session, not idle
    /// for longer than its timeout.
    pub fn is_live(&self, now: Timestamp) -> bool {
        if now >= self.expires_at {
            return false;
        }
        let Some(idle) = self.idle_timeout else {
            return true;
        };
        let last = self.usage.counters().last_used_at.unwrap_or(self.created_at);
        now - last.max(self.created_at) < idle
    }

    pub(super) fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    pub(super) fn set_counters(&self, counters: Counters) {
        self.usage.reset(counters);
    }

    pub(super) fn usage_counters(&self) -> Counters {
        self.usage.counters()
    }

    /// What the admin API shows of it.
    pub fn info(&self) -> IssuedInfo {
        IssuedInfo {
            id: self.id_str().to_owned(),
            kind: self.kind,
            user_id: self.user_id.to_string(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_seen_at: self.usage.counters().last_used_at,
        }
    }
}

/// The usage subject kind of an issued credential.
pub(super) fn credential_kind(kind: IssuedKind) -> CredentialKind {
    match kind {
        IssuedKind::Session => CredentialKind::Session,
        IssuedKind::Token => CredentialKind::Token,
    }
}

impl Tracked for IssuedEntry {
    fn subject(&self) -> Subject {
        Subject::new(credential_kind(self.kind), self.id_str())
    }
    fn usage_slot(&self) -> &UsageSlot {
        &self.usage
    }
    fn detail(&self) -> Detail {
        match self.kind {
            IssuedKind::Session => Detail::LastSeen,
            IssuedKind::Token => Detail::Full,
        }
    }
}
