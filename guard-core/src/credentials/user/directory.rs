//! [`UserDirectory`]: every user in memory, by id and by name, following the store like the
//! key ring does: writes go to the store, then the directory applies the store's changes.

use hashbrown::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use compact_str::CompactString;

use super::entry::UserEntry;
use super::{UserError, UserInfo};
use crate::authz::Grants;
use crate::store::{Follows, SharedStore, StoreError, UserChange, UserRecord, catch_up};

const PAGE: usize = 10_000;

/// By id and by name; hashbrown's fast hasher, since every request with a session or token
/// looks its user up (ids are random and names are not chosen by requests, so there is no
/// flooding to fear).
#[derive(Default)]
struct Index {
    by_id: HashMap<CompactString, Arc<UserEntry>>,
    by_name: HashMap<CompactString, Arc<UserEntry>>,
    cursor: u64,
}

impl Follows for Index {
    fn cursor(&self) -> u64 {
        self.cursor
    }
    fn set_cursor(&mut self, seq: u64) {
        self.cursor = seq;
    }
}

/// Every user of one guard.
pub struct UserDirectory {
    store: SharedStore,
    grants: Arc<Grants>,
    index: RwLock<Index>,
}

impl std::fmt::Debug for UserDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDirectory").field("users", &self.len()).finish_non_exhaustive()
    }
}

impl UserDirectory {
    /// Loads every user from `store`.
    pub(crate) async fn load(store: SharedStore, grants: Arc<Grants>) -> Result<Self, StoreError> {
        let directory = UserDirectory { store, grants, index: RwLock::new(Index::default()) };
        directory.sync().await?;
        Ok(directory)
    }

    /// Applies every change the store made since the directory last looked; returns the ids
    /// of the users it changed.
    pub async fn sync(&self) -> Result<Vec<CompactString>, StoreError> {
        let fetch = |cursor| self.store.user_changes(cursor, PAGE);
        let mut changed = Vec::new();
        catch_up(&self.index, fetch, |index, change| {
            changed.push(change.id.clone());
            self.apply(index, change);
        })
        .await?;
        Ok(changed)
    }

    fn apply(&self, index: &mut Index, change: UserChange) {
        let old = index.by_id.remove(&change.id);
        if let Some(old) = &old {
            index.by_name.remove(&old.record.normalized);
        }
        if let Some(record) = change.record {
            let grant = self.grants.of(&record.roles);
            let entry = Arc::new(UserEntry::new(record, grant, old.as_deref()));
            index.by_name.insert(entry.record.normalized.clone(), Arc::clone(&entry));
            index.by_id.insert(entry.record.id.clone(), entry);
        }
    }

    /// How many users exist.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Whether no user exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The user with this id as the store has it now, which may be ahead of the directory
    /// (another instance's write not yet followed).
    pub(crate) async fn stored(&self, id: String) -> Result<Option<UserRecord>, StoreError> {
        self.store.get_user(id).await
    }

    /// The user with this id, as it is now.
    pub fn get(&self, id: &str) -> Option<Arc<UserEntry>> {
        self.read().by_id.get(id).cloned()
    }

    /// The user with this normalized name.
    pub fn by_name(&self, normalized: &str) -> Option<Arc<UserEntry>> {
        self.read().by_name.get(normalized).cloned()
    }

    /// Every user, by name.
    pub fn list(&self) -> Vec<UserInfo> {
        let mut users: Vec<Arc<UserEntry>> = self.read().by_id.values().cloned().collect();
        users.sort_by(|a, b| a.record.normalized.cmp(&b.record.normalized));
        users.iter().map(|u| u.info()).collect()
    }

    /// The stored record of a user (with its password hash), for a change.
    pub(crate) fn record(&self, id: &str) -> Result<UserRecord, UserError> {
        self.get(id).map(|u| u.record.clone()).ok_or(UserError::NotFound)
    }

    /// Adds a user, durably. The directory takes it in at its next [`UserDirectory::sync`],
    /// which the accounts run at once, so that what was issued follows too.
    pub(crate) async fn insert(&self, record: UserRecord) -> Result<(), UserError> {
        Ok(self.store.insert_user(record).await?)
    }

    /// Replaces a user's record, durably, if the stored one is still `expected`.
    pub(crate) async fn update(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> Result<(), UserError> {
        if !self.store.update_user(expected, record).await? {
            return Err(UserError::NotFound);
        }
        Ok(())
    }

    /// Deletes a user, durably.
    pub(crate) async fn delete(&self, id: &str) -> Result<(), UserError> {
        if !self.store.delete_user(id.to_owned()).await? {
            return Err(UserError::NotFound);
        }
        Ok(())
    }

    /// The grants interner.
    pub(crate) fn grants(&self) -> &Grants {
        &self.grants
    }

    fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }
}
