//! The in-memory index of API keys: one hash table from key id to entry, and the store cursor
//! it has followed up to.

use std::sync::Arc;

use hashbrown::HashTable;

use super::entry::{KeyEntry, id_hash};
use super::format::KeyFormat;
use crate::authz::Grants;
use crate::store::{Counters, KeyChange};

#[derive(Default)]
pub(super) struct KeyIndex {
    table: HashTable<Arc<KeyEntry>>,
    /// The sequence number of the last store change applied.
    pub(super) cursor: u64,
}

fn hasher(entry: &Arc<KeyEntry>) -> u64 {
    id_hash(entry.id_bytes())
}

impl KeyIndex {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        KeyIndex { table: HashTable::with_capacity(capacity), cursor: 0 }
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn get(&self, id: &[u8]) -> Option<&Arc<KeyEntry>> {
        self.table.find(id_hash(id), |e| e.id_bytes() == id)
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = &Arc<KeyEntry>> {
        self.table.iter()
    }

    /// Applies one change from the store: a new key, a changed one, or a deletion.
    pub(super) fn apply(&mut self, change: KeyChange, grants: &Grants, format: &KeyFormat) {
        let id = change.id.as_bytes();
        let hash = id_hash(id);
        let existing = self.table.find_entry(hash, |e| e.id_bytes() == id).ok();
        let Some(record) = change.record else {
            if let Some(entry) = existing {
                entry.remove();
            }
            return;
        };
        let grant = grants.of(&record.roles);
        let counters = match existing {
            Some(entry) if entry.get().same_identity(&record, &grant) => {
                entry.get().set_state(&record);
                return;
            }
            // Renamed or re-roled: a new entry, carrying the counts.
            Some(entry) => entry.remove().0.counters(),
            None => Counters::default(),
        };
        match KeyEntry::new(&record, grant, counters, format) {
            Some(entry) => {
                self.table.insert_unique(hash, Arc::new(entry), hasher);
            }
            None => tracing::error!(id = %record.id, "a stored key is malformed; it is left out"),
        }
    }

    /// Sets the counters of a loaded key.
    pub(super) fn set_counters(&self, id: &str, counters: Counters) {
        if let Some(entry) = self.get(id.as_bytes()) {
            entry.set_counters(counters);
        }
    }
}
