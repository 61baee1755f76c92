//! API keys: creation, verification, lifecycle and usage.
//!
//! The index maps the blake3 hash of a whole key to its state and its prebuilt [`Principal`],
//! so verifying a key is a checksum, one hash and one map lookup: no store read, no
//! secret-dependent comparison. Every write goes to the store first, durably, then to the
//! index, under one lock, so the next request sees it and concurrent writes to one key end in
//! the state of the last one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::clock::{Clock, Timestamp};
use crate::key_format::{KeyFormat, hash_key};
use crate::policy::Policy;
use crate::principal::{Principal, PrincipalKind};
use crate::random::RandomError;
use crate::store::{KeyCounters, KeyRecord, Store, StoreError, UsageOutcome, UsageRecord};
use crate::usage::{KeyStats, UsageConfig, UsageLog};

const DAY: i64 = 24 * 60 * 60;

/// The longest lifetime a key can be given in days (100 years).
pub const MAX_TTL_DAYS: u32 = 36_500;

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
    /// Role names, each declared by the policy.
    pub roles: Vec<String>,
    /// When it expires.
    pub expiry: Expiry,
}

/// A key just created. `key` is the only copy of the plaintext: show it once.
#[derive(Debug)]
pub struct CreatedKey {
    /// The plaintext key, not kept anywhere.
    pub key: Secret,
    /// Its public description.
    pub info: KeyInfo,
}

/// A plaintext secret. Its `Debug` form is redacted so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub(crate) fn new(secret: String) -> Self {
        Secret(secret)
    }

    /// The secret itself, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
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
}

/// Why a key could not be created or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Role names the policy does not declare.
    #[error("unknown role(s): {}", .0.join(", "))]
    UnknownRoles(Vec<String>),
    /// An expiry time that is not in the future.
    #[error("the expiry time must be in the future")]
    ExpiryNotInFuture,
    /// A lifetime out of range.
    #[error("the lifetime must be between 1 and {MAX_TTL_DAYS} days")]
    InvalidTtl,
    /// No key has this id.
    #[error("no such key")]
    NotFound,
    /// Randomness was unavailable.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented key was not accepted. The HTTP layer answers every variant alike; the
/// distinction is for usage records and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRejection {
    /// Not a well-formed key (bad shape or checksum): no lookup was made.
    Malformed,
    /// Well-formed, but no such key.
    Unknown,
    /// A real key, revoked.
    Revoked {
        /// Its id.
        id: String,
    },
    /// A real key, past its expiry.
    Expired {
        /// Its id.
        id: String,
    },
}

/// What changed when a key was renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewed {
    /// The key now.
    pub info: KeyInfo,
    /// Whether it was revoked or expired before and works again now.
    pub reactivated: bool,
}

/// A key verified for one request: records that request's outcome without another lookup.
#[derive(Clone)]
pub struct KeyUse {
    entry: Arc<Entry>,
    /// When it was verified, which is when the use is recorded as made.
    at: Timestamp,
}

impl std::fmt::Debug for KeyUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyUse").field("id", &self.entry.id).field("at", &self.at).finish()
    }
}

struct Entry {
    id: Arc<str>,
    record: KeyRecord,
    principal: Principal,
    /// Shared by every version of the entry, so counts survive revocation and renewal.
    stats: Arc<KeyStats>,
}

#[derive(Default)]
struct Index {
    by_hash: HashMap<[u8; 32], Arc<Entry>>,
    by_id: HashMap<Arc<str>, Arc<Entry>>,
}

/// Settings of a [`KeyRing`].
#[derive(Debug, Clone)]
pub struct KeyRingConfig {
    /// The shape of keys.
    pub format: KeyFormat,
    /// Lifetime of a key created or renewed without an explicit expiry, in days.
    pub default_ttl_days: u32,
    /// How usage is recorded.
    pub usage: UsageConfig,
}

/// The API keys of one guard: store, index, usage log.
pub struct KeyRing {
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    config: KeyRingConfig,
    index: RwLock<Index>,
    /// Serialises writes so that store and index change in the same order.
    writes: Mutex<()>,
    usage: UsageLog,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("keys", &self.len()).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads every key from `store` into the index and starts the usage writer.
    pub fn load(
        store: Arc<dyn Store>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
        config: KeyRingConfig,
    ) -> Result<Self, StoreError> {
        let records = store.load_keys()?;
        let usage = UsageLog::start(Arc::clone(&store), Arc::clone(&clock), config.usage.clone())?;
        let ring = KeyRing {
            store,
            policy,
            clock,
            config,
            index: RwLock::new(Index::default()),
            writes: Mutex::new(()),
            usage,
        };
        let mut undeclared = 0usize;
        {
            let mut index = ring.write_index();
            for (record, counters) in records {
                undeclared += ring.policy.grant(&record.roles).unknown.len();
                let entry = ring.entry(record, Arc::new(KeyStats::new(counters)));
                index.insert(entry);
            }
        }
        if undeclared > 0 {
            tracing::warn!(
                count = undeclared,
                "stored API keys hold roles the policy no longer declares; they grant nothing"
            );
        }
        Ok(ring)
    }

    /// The format of this ring's keys.
    pub fn format(&self) -> &KeyFormat {
        &self.config.format
    }

    /// How many keys exist.
    pub fn len(&self) -> usize {
        self.read_index().by_id.len()
    }

    /// Whether no key exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifies a presented key. Never touches the store.
    pub fn authenticate(&self, presented: &[u8]) -> Result<Principal, KeyRejection> {
        self.verify(presented).map(|(principal, _)| principal)
    }

    /// Verifies a presented key and returns, with the caller, the handle through which the
    /// outcome of the request is recorded once it is known ([`KeyRing::record`]).
    pub fn verify(&self, presented: &[u8]) -> Result<(Principal, KeyUse), KeyRejection> {
        let parsed = self.config.format.parse(presented).map_err(|_| KeyRejection::Malformed)?;
        let hash = hash_key(parsed.hashed);
        let entry =
            self.read_index().by_hash.get(hash.as_bytes()).cloned().ok_or(KeyRejection::Unknown)?;
        let at = self.clock.now();
        match state_at(&entry.record, at) {
            KeyState::Active => Ok((entry.principal.clone(), KeyUse { entry, at })),
            KeyState::Revoked => Err(KeyRejection::Revoked { id: entry.record.id.clone() }),
            KeyState::Expired => Err(KeyRejection::Expired { id: entry.record.id.clone() }),
        }
    }

    /// Records the outcome of a request that [`KeyRing::verify`] authenticated: counts it at
    /// once and queues its record for the writer.
    pub fn record(&self, key: &KeyUse, outcome: UsageOutcome, method: &http::Method, route: &str) {
        self.usage.record(&key.entry.id, &key.entry.stats, key.at, outcome, method, route);
    }

    /// Records one authentication attempt with the key `id` (a revoked or expired one, say),
    /// now. Unknown ids are ignored.
    pub fn record_use(&self, id: &str, outcome: UsageOutcome, method: &http::Method, route: &str) {
        let entry = self.read_index().by_id.get(id).cloned();
        if let Some(entry) = entry {
            let now = self.clock.now();
            self.usage.record(&entry.id, &entry.stats, now, outcome, method, route);
        }
    }

    /// Creates a key, durably, and returns its plaintext (once).
    pub fn create(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        let roles = self.validate_roles(new.roles)?;
        let now = self.clock.now();
        let expires_at = self.expires_at(new.expiry, now)?;
        let generated = self.config.format.generate()?;
        let record = KeyRecord {
            id: generated.id,
            hash: generated.hash.to_hex().to_string(),
            name: new.name.unwrap_or_default(),
            owner: None,
            roles,
            created_at: now,
            expires_at,
            revoked: false,
        };
        let _write = self.lock_writes();
        // 71 random bits make an id collision practically impossible; the store still
        // refuses one rather than overwrite a key.
        self.store.insert_key(&record)?;
        let entry = self.entry(record, Arc::new(KeyStats::new(KeyCounters::default())));
        let info = self.info(&entry);
        self.write_index().insert(entry);
        Ok(CreatedKey { key: Secret(generated.plaintext), info })
    }

    /// The key with this id.
    pub fn get(&self, id: &str) -> Result<KeyInfo, KeyError> {
        let entry = self.read_index().by_id.get(id).cloned().ok_or(KeyError::NotFound)?;
        Ok(self.info(&entry))
    }

    /// Every key, most recently used first; never-used keys last, newest first.
    pub fn list(&self) -> Vec<KeyInfo> {
        let entries: Vec<Arc<Entry>> = self.read_index().by_id.values().cloned().collect();
        let mut keys: Vec<KeyInfo> = entries.iter().map(|e| self.info(e)).collect();
        keys.sort_by(|a, b| {
            b.last_used_at
                .cmp(&a.last_used_at)
                .then(b.created_at.cmp(&a.created_at))
                .then(a.id.cmp(&b.id))
        });
        keys
    }

    /// Revokes a key: from the next request on, it is rejected.
    pub fn revoke(&self, id: &str) -> Result<KeyInfo, KeyError> {
        self.update(id, |record| {
            record.revoked = true;
            Ok(())
        })
        .map(|(info, _)| info)
    }

    /// Gives a key a new expiry (`Expiry::Default` is now + the default lifetime) and
    /// reactivates it if it was revoked.
    pub fn renew(&self, id: &str, expiry: Expiry) -> Result<Renewed, KeyError> {
        let now = self.clock.now();
        let expires_at = self.expires_at(expiry, now)?;
        let (info, before) = self.update(id, |record| {
            record.revoked = false;
            record.expires_at = expires_at;
            Ok(())
        })?;
        Ok(Renewed { info, reactivated: before != KeyState::Active })
    }

    /// Deletes a key and its usage records.
    pub fn delete(&self, id: &str) -> Result<(), KeyError> {
        let _write = self.lock_writes();
        if !self.read_index().by_id.contains_key(id) {
            return Err(KeyError::NotFound);
        }
        if !self.store.delete_key(id)? {
            return Err(KeyError::NotFound);
        }
        self.write_index().remove(id);
        Ok(())
    }

    /// The latest `limit` usage records of a key, newest first, including those not yet
    /// written.
    pub fn usage(&self, id: &str, limit: usize) -> Result<Vec<UsageRecord>, KeyError> {
        if !self.read_index().by_id.contains_key(id) {
            return Err(KeyError::NotFound);
        }
        Ok(self.usage.recent(id, limit)?)
    }

    /// Writes every buffered usage record now.
    pub fn flush_usage(&self) -> Result<(), StoreError> {
        self.usage.flush()
    }

    /// Flushes usage and stops the writer thread. Records made afterwards are written when
    /// the ring is dropped.
    pub fn shutdown(&self) {
        self.usage.shutdown();
    }

    fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut KeyRecord) -> Result<(), KeyError>,
    ) -> Result<(KeyInfo, KeyState), KeyError> {
        let _write = self.lock_writes();
        let current = self.read_index().by_id.get(id).cloned().ok_or(KeyError::NotFound)?;
        let before = self.state(&current.record);
        let mut record = current.record.clone();
        change(&mut record)?;
        if !self.store.update_key(&record)? {
            return Err(KeyError::NotFound);
        }
        let entry = Entry {
            id: Arc::clone(&current.id),
            record,
            principal: current.principal.clone(),
            stats: Arc::clone(&current.stats),
        };
        let info = self.info(&entry);
        self.write_index().insert(entry);
        Ok((info, before))
    }

    fn state(&self, record: &KeyRecord) -> KeyState {
        state_at(record, self.clock.now())
    }

    fn validate_roles(&self, roles: Vec<String>) -> Result<Vec<String>, KeyError> {
        let unknown: Vec<String> =
            roles.iter().filter(|r| !self.policy.has_role(r)).cloned().collect();
        if !unknown.is_empty() {
            return Err(KeyError::UnknownRoles(unknown));
        }
        let mut unique = Vec::with_capacity(roles.len());
        for role in roles {
            if !unique.contains(&role) {
                unique.push(role);
            }
        }
        Ok(unique)
    }

    fn expires_at(&self, expiry: Expiry, now: Timestamp) -> Result<Option<Timestamp>, KeyError> {
        let in_days = |days: u32| {
            if (1..=MAX_TTL_DAYS).contains(&days) {
                Ok(Some(now + i64::from(days) * DAY))
            } else {
                Err(KeyError::InvalidTtl)
            }
        };
        match expiry {
            Expiry::Never => Ok(None),
            Expiry::Default => in_days(self.config.default_ttl_days),
            Expiry::InDays(days) => in_days(days),
            Expiry::At(at) if at > now => Ok(Some(at)),
            Expiry::At(_) => Err(KeyError::ExpiryNotInFuture),
        }
    }

    fn entry(&self, record: KeyRecord, stats: Arc<KeyStats>) -> Entry {
        let grant = self.policy.grant(&record.roles);
        let name = if record.name.is_empty() {
            self.config.format.display_prefix(&record.id)
        } else {
            record.name.clone()
        };
        let principal = Principal::new(PrincipalKind::ApiKey, record.id.clone(), name, &grant);
        Entry { id: Arc::from(record.id.as_str()), record, principal, stats }
    }

    fn info(&self, entry: &Entry) -> KeyInfo {
        let record = &entry.record;
        let counters = entry.stats.counters();
        KeyInfo {
            id: record.id.clone(),
            prefix: self.config.format.display_prefix(&record.id),
            name: record.name.clone(),
            roles: record.roles.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            state: self.state(record),
            total_uses: counters.total_uses,
            last_used_at: counters.last_used_at,
        }
    }

    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_index(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_index(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn state_at(record: &KeyRecord, now: Timestamp) -> KeyState {
    if record.revoked {
        KeyState::Revoked
    } else if record.expires_at.is_some_and(|at| now >= at) {
        KeyState::Expired
    } else {
        KeyState::Active
    }
}

impl Index {
    fn insert(&mut self, entry: Entry) {
        let Some(hash) = decode_hash(&entry.record.hash) else {
            tracing::error!(id = %entry.record.id, "stored key hash is damaged; key disabled");
            return;
        };
        let entry = Arc::new(entry);
        self.by_id.insert(Arc::clone(&entry.id), Arc::clone(&entry));
        self.by_hash.insert(hash, entry);
    }

    fn remove(&mut self, id: &str) {
        if let Some(hash) = self.by_id.remove(id).and_then(|e| decode_hash(&e.record.hash)) {
            self.by_hash.remove(&hash);
        }
    }
}

fn decode_hash(hex: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(hex).ok().map(|h| *h.as_bytes())
}
