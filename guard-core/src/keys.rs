//! API keys: creation, and verification against an in-memory index.
//!
//! The index maps the blake3 hash of a whole key to its state and its prebuilt [`Principal`],
//! so verifying a key is a checksum, one hash and one map lookup: no store read, no
//! secret-dependent comparison. Every write goes to the store first, durably, and then to the
//! index, under one lock, so the next request sees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::clock::{Clock, Timestamp};
use crate::key_format::{KeyFormat, hash_key};
use crate::policy::Policy;
use crate::principal::{Principal, PrincipalKind};
use crate::random::RandomError;
use crate::store::{KeyRecord, Store, StoreError};

const DAY: i64 = 24 * 60 * 60;

/// The longest lifetime a key can be given in days (100 years).
pub const MAX_TTL_DAYS: u32 = 36_500;

/// When a new key stops working.
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

/// What may be shown of a key.
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
    /// Whether it was revoked.
    pub revoked: bool,
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

struct Entry {
    record: KeyRecord,
    principal: Principal,
}

#[derive(Default)]
struct Index {
    by_hash: HashMap<[u8; 32], Arc<Entry>>,
    by_id: HashMap<String, [u8; 32]>,
}

/// The API keys of one guard: store, index and format.
pub struct KeyRing {
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    format: KeyFormat,
    clock: Arc<dyn Clock>,
    default_ttl_days: u32,
    index: RwLock<Index>,
    /// Serialises writes so that store and index change in the same order.
    writes: Mutex<()>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads every key from `store` into the index.
    pub fn load(
        store: Arc<dyn Store>,
        policy: Arc<Policy>,
        format: KeyFormat,
        clock: Arc<dyn Clock>,
        default_ttl_days: u32,
    ) -> Result<Self, StoreError> {
        let records = store.load_keys()?;
        let ring = KeyRing {
            store,
            policy,
            format,
            clock,
            default_ttl_days,
            index: RwLock::new(Index::default()),
            writes: Mutex::new(()),
        };
        let mut undeclared = 0usize;
        {
            let mut index = ring.index.write().unwrap_or_else(PoisonError::into_inner);
            for record in records {
                let entry = ring.entry(record);
                undeclared += ring.policy.grant(&entry.record.roles).unknown.len();
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

    /// The format of this guard's keys.
    pub fn format(&self) -> &KeyFormat {
        &self.format
    }

    /// How many keys are known.
    pub fn len(&self) -> usize {
        self.read_index().by_hash.len()
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifies a presented key. Never touches the store.
    pub fn authenticate(&self, presented: &[u8]) -> Result<Principal, KeyRejection> {
        let parsed = self
            .format
            .parse(presented)
            .map_err(|_| KeyRejection::Malformed)?;
        let hash = hash_key(parsed.full);
        let entry = self
            .read_index()
            .by_hash
            .get(hash.as_bytes())
            .cloned()
            .ok_or(KeyRejection::Unknown)?;
        let record = &entry.record;
        if record.revoked {
            return Err(KeyRejection::Revoked {
                id: record.id.clone(),
            });
        }
        if record.expires_at.is_some_and(|at| self.clock.now() >= at) {
            return Err(KeyRejection::Expired {
                id: record.id.clone(),
            });
        }
        Ok(entry.principal.clone())
    }

    /// Creates a key, durably, and returns its plaintext (once).
    pub fn create(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        let roles = self.validate_roles(new.roles)?;
        let now = self.clock.now();
        let expires_at = self.expires_at(new.expiry, now)?;
        let generated = self.format.generate()?;
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
        let _write = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        // 72 random bits make an id collision practically impossible; the store still
        // refuses one rather than overwrite a key.
        self.store.insert_key(&record)?;
        let entry = self.entry(record);
        let info = self.info(&entry.record);
        self.write_index().insert(entry);
        Ok(CreatedKey {
            key: Secret(generated.plaintext),
            info,
        })
    }

    /// The key with this id, if any.
    pub fn get(&self, id: &str) -> Option<KeyInfo> {
        let index = self.read_index();
        let hash = index.by_id.get(id)?;
        index.by_hash.get(hash).map(|e| self.info(&e.record))
    }

    fn validate_roles(&self, roles: Vec<String>) -> Result<Vec<String>, KeyError> {
        let unknown: Vec<String> = roles
            .iter()
            .filter(|r| !self.policy.has_role(r))
            .cloned()
            .collect();
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
            Expiry::Default => in_days(self.default_ttl_days),
            Expiry::InDays(days) => in_days(days),
            Expiry::At(at) if at > now => Ok(Some(at)),
            Expiry::At(_) => Err(KeyError::ExpiryNotInFuture),
        }
    }

    fn entry(&self, record: KeyRecord) -> Entry {
        let grant = self.policy.grant(&record.roles);
        let name = if record.name.is_empty() {
            self.format.display_prefix(&record.id)
        } else {
            record.name.clone()
        };
        let principal = Principal::new(PrincipalKind::ApiKey, record.id.clone(), name, &grant);
        Entry { record, principal }
    }

    fn info(&self, record: &KeyRecord) -> KeyInfo {
        KeyInfo {
            id: record.id.clone(),
            prefix: self.format.display_prefix(&record.id),
            name: record.name.clone(),
            roles: record.roles.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked: record.revoked,
        }
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Index {
    fn insert(&mut self, entry: Entry) {
        let Some(hash) = decode_hash(&entry.record.hash) else {
            tracing::error!(id = %entry.record.id, "stored key hash is damaged; key disabled");
            return;
        };
        self.by_id.insert(entry.record.id.clone(), hash);
        self.by_hash.insert(hash, Arc::new(entry));
    }
}

fn decode_hash(hex: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(hex).ok().map(|h| *h.as_bytes())
}
