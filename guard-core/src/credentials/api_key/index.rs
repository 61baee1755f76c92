//! The in-memory index of API keys: one hash table from key id to entry, and the store cursor
//! it has followed up to.

use std::collections::HashMap;
use std::sync::Arc;

use compact_str::CompactString;

use super::entry::KeyEntry;
use crate::authz::{Grant, Grants};
use crate::credentials::format::CredentialFormat;
use crate::credentials::table::IdTable;
use crate::store::{Follows, KeyChange, KeyRecord};
use crate::usage::Counters;

#[derive(Default)]
pub(super) struct KeyIndex {
    table: IdTable<KeyEntry>,
    /// Owned keys' owners, by key id: few keys are owned, so this is not in every entry.
    owners: HashMap<CompactString, CompactString>,
    /// The sequence number of the last store change applied.
    pub(super) cursor: u64,
}

/// The few role lists a load met last, in front of the shared interner: most keys hold one of
/// a handful of lists, and a million lookups under the interner's lock add up.
pub(super) struct RecentGrants<'a> {
    grants: &'a Grants,
    recent: Vec<(Vec<CompactString>, Arc<Grant>)>,
}

impl<'a> RecentGrants<'a> {
    const KEPT: usize = 8;

    pub(super) fn new(grants: &'a Grants) -> Self {
        RecentGrants { grants, recent: Vec::with_capacity(Self::KEPT) }
    }

    fn of(&mut self, roles: &[CompactString]) -> Arc<Grant> {
        if let Some((_, grant)) = self.recent.iter().find(|(r, _)| r.as_slice() == roles) {
            return Arc::clone(grant);
        }
        let grant = self.grants.of(roles);
        if self.recent.len() == Self::KEPT {
            self.recent.remove(0);
        }
        self.recent.push((roles.to_vec(), Arc::clone(&grant)));
        grant
    }
}

impl Follows for KeyIndex {
    fn cursor(&self) -> u64 {
        self.cursor
    }
    fn set_cursor(&mut self, seq: u64) {
        self.cursor = seq;
    }
}

impl KeyIndex {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        KeyIndex { table: IdTable::with_capacity(capacity), owners: HashMap::new(), cursor: 0 }
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn get(&self, id: &[u8]) -> Option<&Arc<KeyEntry>> {
        self.table.get(id)
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = &Arc<KeyEntry>> {
        self.table.iter()
    }

    /// Adds a key from the initial load, where each key comes once (the store keeps only its
    /// latest change): no lookup first.
    pub(super) fn load(
        &mut self,
        record: &KeyRecord,
        grants: &mut RecentGrants<'_>,
        format: &CredentialFormat,
    ) {
        if let Some(owner) = &record.owner {
            self.owners.insert(record.id.clone(), owner.clone());
        }
        let grant = grants.of(&record.roles);
        match KeyEntry::new(record, grant, Counters::default(), format) {
            Some(entry) => self.table.insert_new(Arc::new(entry)),
            None => tracing::error!(id = %record.id, "a stored key is malformed; it is left out"),
        }
    }

    /// Applies one change from the store: a new key, a changed one, or a deletion.
    pub(super) fn apply(&mut self, change: KeyChange, grants: &Grants, format: &CredentialFormat) {
        let id = change.id.as_bytes();
        self.owners.remove(&change.id);
        if let Some(owner) = change.record.as_ref().and_then(|r| r.owner.clone()) {
            self.owners.insert(change.id.clone(), owner);
        }
        let Some(record) = change.record else {
            self.table.remove(id);
            return;
        };
        let grant = grants.of(&record.roles);
        if let Some(entry) = self.table.get(id)
            && entry.same_identity(&record, &grant)
        {
            entry.set_state(&record);
            return;
        }
        // New, or renamed or re-roled: a new entry, carrying the counts.
        let counters = self.table.remove(id).map_or_else(Counters::default, |e| e.counters());
        match KeyEntry::new(&record, grant, counters, format) {
            Some(entry) => self.table.insert_new(Arc::new(entry)),
            None => tracing::error!(id = %record.id, "a stored key is malformed; it is left out"),
        }
    }

    /// The owner of a key, if it has one.
    pub(super) fn owner(&self, id: &str) -> Option<&CompactString> {
        self.owners.get(id)
    }

    /// The keys a user owns, by id.
    pub(super) fn owned_by(&self, user_id: &str) -> Vec<CompactString> {
        self.owners
            .iter()
            .filter(|(_, owner)| *owner == user_id)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Sets the counters of a loaded key.
    pub(super) fn set_counters(&self, id: &str, counters: Counters) {
        if let Some(entry) = self.get(id.as_bytes()) {
            entry.set_counters(counters);
        }
    }
}
