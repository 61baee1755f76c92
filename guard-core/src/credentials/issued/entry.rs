//! One session or token in memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use compact_str::CompactString;

use super::{IssuedInfo, IssuedKind};
use crate::authz::{Grant, Identity, PrincipalKind};
use crate::clock::Timestamp;
use crate::credentials::format::{HashHead, ID_LEN};
use crate::credentials::table::Identified;
use crate::credentials::user::UserEntry;
use crate::store::IssuedRecord;
use crate::usage::{Counters, Detail, RateLimiter, Subject, Tracked, UsageSlot};

/// A session or bearer token in the in-memory index.
pub struct IssuedEntry {
    kind: IssuedKind,
    id: [u8; ID_LEN],
    hash_head: HashHead,
    user_id: CompactString,
    user_generation: u32,
    created_at: Timestamp,
    expires_at: Timestamp,
    idle_timeout: Option<i64>,
    /// When it was last used (or issued): the idle clock, read on every request without the
    /// usage lock.
    last_seen: AtomicI64,
    /// Its user as they are now, if enabled and of its generation: the ring replaces the
    /// entry when the user changes, so a request needs no lookup of its user, and a session
    /// is one principal.
    user: Option<Arc<UserEntry>>,
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

impl IssuedEntry {
    pub(super) fn new(
        record: &IssuedRecord,
        counters: Counters,
        user: Option<Arc<UserEntry>>,
    ) -> Option<Self> {
        let id: [u8; ID_LEN] = record.id.as_bytes().try_into().ok()?;
        if !id.iter().all(u8::is_ascii_alphanumeric) || record.revoked {
            return None;
        }
        Some(IssuedEntry {
            kind: IssuedKind::of(record.kind)?,
            id,
            hash_head: HashHead::of(&record.hash),
            user_id: record.user_id.clone(),
            user_generation: record.user_generation,
            created_at: record.created_at,
            expires_at: record.expires_at,
            idle_timeout: record.idle_timeout,
            last_seen: AtomicI64::new(
                record
                    .created_at
                    .max(counters.last_used_at.unwrap_or(i64::MIN))
                    .max(record.last_seen_at.unwrap_or(i64::MIN)),
            ),
            user: user.filter(|u| u.is_enabled() && u.generation() == record.user_generation),
            usage: UsageSlot::new(counters),
        })
    }

    /// The same credential for its user as they are now (or gone), with its counts.
    pub(super) fn with_user(&self, user: Option<Arc<UserEntry>>) -> Self {
        IssuedEntry {
            kind: self.kind,
            id: self.id,
            hash_head: self.hash_head,
            user_id: self.user_id.clone(),
            user_generation: self.user_generation,
            created_at: self.created_at,
            expires_at: self.expires_at,
            idle_timeout: self.idle_timeout,
            last_seen: AtomicI64::new(self.last_seen.load(Ordering::Relaxed)),
            user: user.filter(|u| u.is_enabled() && u.generation() == self.user_generation),
            usage: UsageSlot::new(self.usage.counters()),
        }
    }

    /// Whether `record` is this credential, changed at most in when it was last seen (by this
    /// instance or another): then the entry takes the change in place.
    pub(super) fn is_record_of(&self, record: &IssuedRecord) -> bool {
        self.kind.credential_kind() == record.kind
            && self.hash_head == HashHead::of(&record.hash)
            && self.user_id == record.user_id
            && self.user_generation == record.user_generation
            && self.created_at == record.created_at
            && self.expires_at == record.expires_at
            && self.idle_timeout == record.idle_timeout
            && !record.revoked
    }

    /// Whether its user exists, is enabled, and is of the generation it was issued for.
    pub(crate) fn user_generation(&self) -> u32 {
        self.user_generation
    }

    /// Whether its user exists, is enabled, and is of the generation it was issued for.
    pub fn has_user(&self) -> bool {
        self.user.is_some()
    }

    /// The credential's id.
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// Session or token.
    pub fn kind(&self) -> IssuedKind {
        self.kind
    }

    /// The user it was issued to.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Whether `hash` (of a presented credential's secret part) is this one's, in constant
    /// time.
    pub(super) fn hash_matches(&self, hash: &blake3::Hash) -> bool {
        self.hash_head.matches(hash)
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
        now - self.last_seen.load(Ordering::Relaxed) < idle
    }

    /// Notes a use at `now`, which restarts the idle clock.
    pub(super) fn seen(&self, now: Timestamp) {
        // Most requests come in a second already noted: a read, no write.
        if now > self.last_seen.load(Ordering::Relaxed) {
            self.last_seen.fetch_max(now, Ordering::Relaxed);
        }
    }

    pub(super) fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    pub(super) fn set_counters(&self, counters: Counters) {
        self.usage.reset(counters);
        if let Some(last) = counters.last_used_at {
            self.seen(last);
        }
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

impl Identified for IssuedEntry {
    fn id_bytes(&self) -> &[u8] {
        &self.id
    }
}

impl Tracked for IssuedEntry {
    fn subject(&self) -> Subject {
        Subject::new(self.kind.credential_kind(), self.id_str())
    }
    fn usage_slot(&self) -> &UsageSlot {
        &self.usage
    }
    fn detail(&self) -> Detail {
        self.kind.detail()
    }
}

/// A session or token is its user's principal, of kind session or token, and its own
/// credential.
impl Identity for IssuedEntry {
    fn id(&self) -> &str {
        &self.user_id
    }
    fn name(&self) -> &str {
        self.user.as_deref().map_or("", |u| u.name())
    }
    fn kind(&self) -> PrincipalKind {
        self.kind.principal_kind()
    }
    fn grant(&self) -> &Grant {
        static NOTHING: std::sync::LazyLock<Grant> = std::sync::LazyLock::new(Grant::default);
        self.user.as_deref().map_or(&NOTHING, |u| u.grant())
    }
    fn credential(&self) -> Option<&dyn Tracked> {
        Some(self)
    }
    fn credential_handle(self: Arc<Self>) -> Option<Arc<dyn Tracked>> {
        Some(self)
    }
    fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.user.as_deref().and_then(|u| u.rate_limiter())
    }
}
