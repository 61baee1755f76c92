//! One key in memory: what verifying a request needs, and nothing an administrator alone
//! looks at, in one allocation. The entry is also the key's identity and its usage handle, so
//! resolving a caller by key allocates nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use compact_str::CompactString;

use super::{KeyInfo, KeyState};
use crate::authz::{Grant, Identity, Principal, PrincipalKind};
use crate::clock::Timestamp;
use crate::credentials::format::{CredentialFormat, HashHead, ID_LEN};
use crate::credentials::table::Identified;
use crate::store::KeyRecord;
use crate::usage::{Counters, CredentialKind, RateLimiter, Subject, Tracked, UsageSlot};

const NEVER: Timestamp = i64::MAX;

/// An API key in the in-memory index.
pub struct KeyEntry {
    id: [u8; ID_LEN],
    hash_head: HashHead,
    created_at: Timestamp,
    /// `i64::MAX` for a key that never expires; changes on renewal.
    expires_at: AtomicI64,
    revoked: AtomicBool,
    /// Whether `name` is the key's own name rather than its display prefix.
    named: bool,
    /// Whether a user owns it (the index keeps who: few keys are owned).
    owned: bool,
    /// The principal's name: the key's name, or `gk_<id>` if it has none.
    name: CompactString,
    grant: Arc<Grant>,
    usage: UsageSlot,
    /// Its rate limit and what is used of it, if it is limited.
    limiter: Option<Arc<RateLimiter>>,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry").field("id", &self.id_str()).finish_non_exhaustive()
    }
}

impl KeyEntry {
    /// The entry for a stored record; `None` if the record is not a well-formed key of this
    /// format (it is then logged and left out).
    pub(super) fn new(
        record: &KeyRecord,
        grant: Arc<Grant>,
        counters: Counters,
        format: &CredentialFormat,
    ) -> Option<Self> {
        let id: [u8; ID_LEN] = record.id.as_bytes().try_into().ok()?;
        if !id.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let named = !record.name.is_empty();
        let name = if named {
            CompactString::new(&record.name)
        } else {
            CompactString::new(format.display_prefix(&record.id))
        };
        Some(KeyEntry {
            id,
            hash_head: HashHead::of(&record.hash),
            created_at: record.created_at,
            expires_at: AtomicI64::new(record.expires_at.unwrap_or(NEVER)),
            revoked: AtomicBool::new(record.revoked),
            named,
            owned: record.owner.is_some(),
            name,
            grant,
            usage: UsageSlot::new(counters),
            limiter: record
                .rate_limit
                .map(|limit| Arc::new(RateLimiter::new(limit, format!("k:{}", record.id).into()))),
        })
    }

    /// The principal this key proves: the entry is both its identity and its credential, so
    /// this costs one reference count and no allocation.
    pub fn principal(entry: &Arc<KeyEntry>) -> Principal {
        Principal::from_identity(entry.clone())
    }

    /// The key id.
    pub fn id_str(&self) -> &str {
        // Checked to be ASCII alphanumeric at construction.
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// Whether `hash` (of a presented key's secret part) is this key's, in constant time.
    pub(super) fn hash_matches(&self, hash: &blake3::Hash) -> bool {
        self.hash_head.matches(hash)
    }

    /// Whether a change to `record` can be applied in place (only revocation and expiry
    /// changed), rather than by a new entry.
    pub(super) fn same_identity(&self, record: &KeyRecord, grant: &Arc<Grant>) -> bool {
        self.hash_head == HashHead::of(&record.hash)
            && self.created_at == record.created_at
            && self.named != record.name.is_empty()
            && (!self.named || self.name == record.name)
            && Arc::ptr_eq(&self.grant, grant)
            && self.owned == record.owner.is_some()
            && self.limiter.as_ref().map(|l| l.limit()) == record.rate_limit
    }

    /// Takes over what `old` (this key before a change) used of its rate limit, if the limit
    /// is the same: a rename does not refill the allowance.
    pub(super) fn carry_limit_from(&mut self, old: &KeyEntry) {
        if let (Some(new), Some(old)) = (&self.limiter, &old.limiter)
            && new.limit() == old.limit()
        {
            self.limiter = Some(Arc::clone(old));
        }
    }

    pub(super) fn set_state(&self, record: &KeyRecord) {
        self.expires_at.store(record.expires_at.unwrap_or(NEVER), Ordering::Release);
        self.revoked.store(record.revoked, Ordering::Release);
    }

    /// Active, revoked or expired at `now`.
    pub fn state(&self, now: Timestamp) -> KeyState {
        if self.revoked.load(Ordering::Acquire) {
            KeyState::Revoked
        } else if now >= self.expires_at.load(Ordering::Acquire) {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }

    pub(super) fn counters(&self) -> Counters {
        self.usage.counters()
    }

    pub(super) fn set_counters(&self, counters: Counters) {
        self.usage.reset(counters);
    }

    pub(super) fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// Whether a user owns the key.
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    /// What the admin API shows of the key at `now`.
    pub(super) fn info(
        &self,
        format: &CredentialFormat,
        now: Timestamp,
        owner: Option<&str>,
    ) -> KeyInfo {
        let counters = self.counters();
        let expires_at = self.expires_at.load(Ordering::Acquire);
        KeyInfo {
            id: self.id_str().to_owned(),
            prefix: format.display_prefix(self.id_str()),
            name: if self.named { self.name.to_string() } else { String::new() },
            roles: self.grant.assigned.clone(),
            owner: owner.map(str::to_owned),
            created_at: self.created_at,
            expires_at: (expires_at != NEVER).then_some(expires_at),
            state: self.state(now),
            total_uses: counters.uses,
            last_used_at: counters.last_used_at,
            rate_limit: self.limiter.as_ref().map(|l| l.limit()),
        }
    }
}

impl Identified for KeyEntry {
    fn id_bytes(&self) -> &[u8] {
        &self.id
    }
}

impl Identity for KeyEntry {
    fn id(&self) -> &str {
        self.id_str()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> PrincipalKind {
        PrincipalKind::ApiKey
    }
    fn grant(&self) -> &Grant {
        &self.grant
    }
    fn credential(&self) -> Option<&dyn Tracked> {
        Some(self)
    }
    fn credential_handle(self: Arc<Self>) -> Option<Arc<dyn Tracked>> {
        Some(self)
    }
    fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.limiter.as_ref()
    }
}

impl Tracked for KeyEntry {
    fn subject(&self) -> Subject {
        Subject::new(CredentialKind::ApiKey, self.id_str())
    }
    fn usage_slot(&self) -> &UsageSlot {
        &self.usage
    }
}
