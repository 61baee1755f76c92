//! [`KeyRing`]: the API keys of one guard, verified from memory and changed through the
//! store.
//!
//! The index follows the store: every write goes to the store first (durably), then the index
//! applies the store's changes since its cursor (`KeyStore::key_changes`), its own write among
//! them. So the next request sees a write as soon as it is acknowledged, and the same path
//! takes in writes made by another process when [`KeyRing::sync`] runs.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use compact_str::CompactString;

use super::entry::KeyEntry;
use super::index::{KeyIndex, RecentGrants};
use super::{CreatedKey, Expiry, KeyError, KeyInfo, KeyRejection, KeyState, NewKey, Renewed};
use crate::authz::{Grants, Principal};
use crate::clock::{Clock, DAY, Timestamp};
use crate::config::MAX_TTL_DAYS;
use crate::credentials::counters::load_counters;
use crate::credentials::format::{CredentialFormat, hash_for_nothing, hash_secret};
use crate::credentials::user::UserDirectory;
use crate::secret::Secret;
use crate::store::{KeyRecord, SharedStore, StoreError, catch_up};
use crate::usage::{CredentialKind, RateLimit, Subject};

/// How many records one load or sync reads per store call.
const PAGE: usize = 10_000;

/// Settings of a [`KeyRing`].
#[derive(Debug, Clone)]
pub struct KeyRingConfig {
    /// The shape of keys.
    pub format: CredentialFormat,
    /// Lifetime of a key created or renewed without an explicit expiry, in days.
    pub default_ttl_days: u32,
}

/// The API keys of one guard.
pub struct KeyRing {
    store: SharedStore,
    grants: Arc<Grants>,
    users: Arc<UserDirectory>,
    clock: Arc<dyn Clock>,
    config: KeyRingConfig,
    index: RwLock<KeyIndex>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("keys", &self.len()).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads every key, with its counters, from `store`.
    pub(crate) async fn load(
        store: SharedStore,
        grants: Arc<Grants>,
        users: Arc<UserDirectory>,
        clock: Arc<dyn Clock>,
        config: KeyRingConfig,
    ) -> Result<Self, StoreError> {
        let count = usize::try_from(store.count_keys().await?).unwrap_or(0);
        let ring = KeyRing {
            store,
            grants,
            users,
            clock,
            config,
            index: RwLock::new(KeyIndex::with_capacity(count)),
        };
        ring.load_all().await?;
        load_counters(&ring.store, CredentialKind::ApiKey, |id, counters| {
            ring.read_index().set_counters(id, counters);
        })
        .await?;
        Ok(ring)
    }

    /// The initial load: every change from the start of the store. The store reads the next
    /// page while this one goes into the index. Pages are read one after another, so on a
    /// store other instances write to, a key changed or deleted meanwhile comes again, later:
    /// the index then applies it as any change.
    async fn load_all(&self) -> Result<(), StoreError> {
        let mut grants = RecentGrants::new(&self.grants);
        let mut page = self.store.key_changes(0, PAGE).await?;
        while !page.changes.is_empty() {
            let next = self.store.key_changes(page.cursor, PAGE);
            let index_page = async {
                let mut index = self.write_index();
                for change in page.changes {
                    index.load(change, &mut grants, &self.grants, &self.config.format);
                }
                index.cursor = page.cursor;
            };
            // `zip` polls the read first, which starts it on the store's pool.
            let (next, ()) = futures_lite::future::zip(next, index_page).await;
            page = next?;
        }
        Ok(())
    }

    /// Applies every change the store made since the index last looked: this process's
    /// writes, and those of any other process sharing the store.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let fetch = |cursor| self.store.key_changes(cursor, PAGE);
        catch_up(&self.index, fetch, |index: &mut KeyIndex, change| {
            index.apply(change, &self.grants, &self.config.format);
        })
        .await
    }

    /// The format of this ring's keys.
    pub fn format(&self) -> &CredentialFormat {
        &self.config.format
    }

    /// How many keys exist.
    pub fn len(&self) -> usize {
        self.read_index().len()
    }

    /// Whether no key exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifies a presented key at `now`: a checksum, a lookup by id, one blake3 block, a
    /// constant-time comparison. Never touches the store, never allocates.
    pub fn verify(&self, presented: &[u8], now: Timestamp) -> Result<Arc<KeyEntry>, KeyRejection> {
        let parsed = self.config.format.parse(presented).map_err(|_| KeyRejection::Malformed)?;
        let index = self.read_index();
        let Some(entry) = index.get(parsed.id.as_bytes()).cloned() else {
            hash_for_nothing(parsed.hashed);
            return Err(KeyRejection::Unknown);
        };
        if !entry.hash_matches(&hash_secret(parsed.hashed)) {
            return Err(KeyRejection::Unknown);
        }
        if entry.is_owned() {
            let owner = index.owner(entry.id_str()).and_then(|id| self.users.get(id));
            if !owner.is_some_and(|user| user.is_enabled()) {
                return Err(KeyRejection::OwnerGone(entry));
            }
        }
        drop(index);
        match entry.state(now) {
            KeyState::Active => Ok(entry),
            KeyState::Revoked => Err(KeyRejection::Revoked(entry)),
            KeyState::Expired => Err(KeyRejection::Expired(entry)),
        }
    }

    /// Verifies a presented key now and returns its principal.
    pub fn authenticate(&self, presented: &[u8]) -> Result<Principal, KeyRejection> {
        self.verify(presented, self.clock.now()).map(|entry| KeyEntry::principal(&entry))
    }

    /// Creates a key, durably, and returns its plaintext (once).
    pub async fn create(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        let roles =
            self.grants.policy().validate_roles(new.roles).map_err(KeyError::UnknownRoles)?;
        let owner = new.owner.clone();
        if let Some(owner) = &new.owner {
            let user = self.users.get(owner).filter(|u| u.is_enabled());
            let user = user.ok_or(KeyError::UnknownOwner)?;
            let policy = self.grants.policy();
            let held = |role: &CompactString| {
                policy.role(role).is_some_and(|i| user.user_grant().roles.contains(i))
            };
            let beyond: Vec<String> =
                roles.iter().filter(|r| !held(r)).map(|r| r.to_string()).collect();
            if !beyond.is_empty() {
                return Err(KeyError::RolesBeyondOwner(beyond));
            }
        }
        let now = self.clock.now();
        let expires_at = self.expires_at(new.expiry, now)?;
        let generated = self.config.format.generate()?;
        let record = KeyRecord {
            id: generated.id.as_str().into(),
            hash: *generated.hash.as_bytes(),
            name: new.name.unwrap_or_default().into(),
            owner: new.owner.map(CompactString::from),
            roles,
            created_at: now,
            expires_at,
            revoked: false,
            rate_limit: new.rate_limit,
        };
        // 71 random bits make an id collision practically impossible; the store still refuses
        // one rather than overwrite a key.
        self.store.insert_keys(vec![record]).await?;
        self.sync().await?;
        if let Some(owner) = &owner {
            self.hold_to_owner(&generated.id, owner).await?;
        }
        let info = self.get(&generated.id)?;
        Ok(CreatedKey { key: Secret::new(generated.plaintext), info })
    }

    /// Checks a new key against its owner as the store has the owner now, after the key is
    /// written: a change of the owner's roles made while the key was being created either
    /// came before this read, and is applied here, or after the key was written, and then
    /// the change's own trimming ([`KeyRing::trim_owned`], which catches up first) finds the
    /// key. Either way no key keeps a role its owner lost, on one instance or several.
    async fn hold_to_owner(&self, id: &str, owner: &str) -> Result<(), KeyError> {
        let current = self.store.get_user(owner.to_owned()).await?;
        let Some(user) = current.filter(|u| !u.disabled) else {
            // Disabled or deleted meanwhile: the key goes with what the owner held.
            self.update(id, |record| record.revoked = true).await?;
            return Ok(());
        };
        let policy = self.grants.policy();
        let held = policy.grant(&user.roles).roles;
        self.change_record(id, |record| {
            record.roles.retain(|r| policy.role(r).is_some_and(|i| held.contains(i)));
        })
        .await?;
        self.sync().await?;
        Ok(())
    }

    /// The key with this id.
    pub fn get(&self, id: &str) -> Result<KeyInfo, KeyError> {
        let index = self.read_index();
        let entry = index.get(id.as_bytes()).ok_or(KeyError::NotFound)?;
        Ok(entry.info(&self.config.format, self.clock.now(), index.owner(id).map(|o| o.as_str())))
    }

    /// Every key, most recently used first; never-used keys last, newest first.
    pub fn list(&self) -> Vec<KeyInfo> {
        let index = self.read_index();
        let now = self.clock.now();
        let mut keyed: Vec<_> =
            index.entries().map(|e| (e.counters().last_used_at, e.created_at(), e)).collect();
        keyed
            .sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.id_str().cmp(b.2.id_str())));
        let owner = |e: &KeyEntry| index.owner(e.id_str()).map(|o| o.as_str());
        keyed.into_iter().map(|(_, _, e)| e.info(&self.config.format, now, owner(e))).collect()
    }

    /// Every owned key, as (key id, owner id).
    pub(crate) fn owned(&self) -> Vec<(String, String)> {
        let index = self.read_index();
        index
            .entries()
            .filter(|e| e.is_owned())
            .filter_map(|e| {
                index.owner(e.id_str()).map(|owner| (e.id_str().to_owned(), owner.to_string()))
            })
            .collect()
    }

    /// The ids of the keys a user owns.
    pub fn owned_by(&self, user_id: &str) -> Vec<String> {
        self.read_index().owned_by(user_id).into_iter().map(|id| id.to_string()).collect()
    }

    /// Takes from the keys a user owns the roles the user no longer holds (itself or by
    /// inheritance).
    pub async fn trim_owned(&self, user_id: &str, roles: &[CompactString]) -> Result<(), KeyError> {
        // Every key written so far, from any instance: one created while the roles changed
        // is trimmed here or by its creator (see `hold_to_owner`).
        self.sync().await?;
        let policy = self.grants.policy();
        let held = policy.grant(roles).roles;
        for id in self.owned_by(user_id) {
            self.change_record(&id, |record| {
                record.roles.retain(|r| policy.role(r).is_some_and(|i| held.contains(i)));
            })
            .await?;
        }
        self.sync().await?;
        Ok(())
    }

    /// Revokes a key: from the next request on, it is rejected.
    pub async fn revoke(&self, id: &str) -> Result<KeyInfo, KeyError> {
        self.update(id, |record| record.revoked = true).await.map(|(info, _)| info)
    }

    /// Gives a key a new expiry (`Expiry::Default` is now + the default lifetime) and
    /// reactivates it if it was revoked.
    pub async fn renew(&self, id: &str, expiry: Expiry) -> Result<Renewed, KeyError> {
        self.renew_limited(id, expiry, None).await
    }

    /// [`KeyRing::renew`], also giving the key a new rate limit (`Some(None)` removes it),
    /// in the same write.
    pub async fn renew_limited(
        &self,
        id: &str,
        expiry: Expiry,
        rate_limit: Option<Option<RateLimit>>,
    ) -> Result<Renewed, KeyError> {
        let expires_at = self.expires_at(expiry, self.clock.now())?;
        if let Some(owner) = self.read_index().owner(id)
            && !self.users.get(owner).is_some_and(|user| user.is_enabled())
        {
            return Err(KeyError::OwnerDisabled);
        }
        let (info, before) = self
            .update(id, |record| {
                record.revoked = false;
                record.expires_at = expires_at;
                if let Some(rate_limit) = rate_limit {
                    record.rate_limit = rate_limit;
                }
            })
            .await?;
        Ok(Renewed { info, reactivated: before != KeyState::Active })
    }

    /// Gives a key a new rate limit, or none.
    pub async fn set_rate_limit(
        &self,
        id: &str,
        rate_limit: Option<RateLimit>,
    ) -> Result<KeyInfo, KeyError> {
        self.update(id, |record| record.rate_limit = rate_limit).await.map(|(info, _)| info)
    }

    /// Deletes a key and its usage.
    pub async fn delete(&self, id: &str) -> Result<(), KeyError> {
        if !self.store.delete_key(id.to_owned()).await? {
            return Err(KeyError::NotFound);
        }
        self.sync().await?;
        self.store.delete_usage(Subject::new(CredentialKind::ApiKey, id)).await?;
        Ok(())
    }

    /// The usage subject of the key with this id.
    pub fn subject(&self, id: &str) -> Result<Subject, KeyError> {
        let entry = self.read_index().get(id.as_bytes()).cloned().ok_or(KeyError::NotFound)?;
        Ok(Subject::new(CredentialKind::ApiKey, entry.id_str()))
    }

    async fn update(
        &self,
        id: &str,
        change: impl Fn(&mut KeyRecord),
    ) -> Result<(KeyInfo, KeyState), KeyError> {
        let before = self.get(id)?.state;
        if !self.change_record(id, change).await? {
            return Err(KeyError::NotFound);
        }
        self.sync().await?;
        Ok((self.get(id)?, before))
    }

    /// Reads a key's record from the store, changes it, and writes it back if it is still
    /// what was read, reading again if another write (of this instance or another) came
    /// first: a change is made to the latest record, never undoing another. `false` if there
    /// is no such key.
    async fn change_record(
        &self,
        id: &str,
        change: impl Fn(&mut KeyRecord),
    ) -> Result<bool, KeyError> {
        loop {
            let Some(read) = self.store.get_key(id.to_owned()).await? else { return Ok(false) };
            let mut record = read.clone();
            change(&mut record);
            if record == read {
                return Ok(true);
            }
            match self.store.update_key(read, record).await {
                Ok(found) => return Ok(found),
                Err(StoreError::Changed) => continue,
                Err(other) => return Err(other.into()),
            }
        }
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

    fn read_index(&self) -> RwLockReadGuard<'_, KeyIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_index(&self) -> RwLockWriteGuard<'_, KeyIndex> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
