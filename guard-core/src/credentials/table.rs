//! The in-memory table every credential index keeps: entries by their public id, hashed with
//! [`id_hash`], one shared allocation per entry.

use std::sync::Arc;

use hashbrown::HashTable;

use super::format::id_hash;

/// What a table holds: something with a public id.
pub(crate) trait Identified {
    /// The id, as bytes.
    fn id_bytes(&self) -> &[u8];
}

fn hasher<E: Identified>(entry: &Arc<E>) -> u64 {
    id_hash(entry.id_bytes())
}

/// Entries by id.
pub(crate) struct IdTable<E>(HashTable<Arc<E>>);

impl<E> Default for IdTable<E> {
    fn default() -> Self {
        IdTable(HashTable::new())
    }
}

impl<E: Identified> IdTable<E> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        IdTable(HashTable::with_capacity(capacity))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The entry with this id.
    pub(crate) fn get(&self, id: &[u8]) -> Option<&Arc<E>> {
        self.0.find(id_hash(id), |e| e.id_bytes() == id)
    }

    /// Adds an entry whose id is not in the table (as a load does, where each id comes once).
    pub(crate) fn insert_new(&mut self, entry: Arc<E>) {
        self.0.insert_unique(id_hash(entry.id_bytes()), entry, hasher);
    }

    /// Adds an entry, replacing any with its id.
    pub(crate) fn insert(&mut self, entry: Arc<E>) {
        self.remove(entry.id_bytes());
        self.insert_new(entry);
    }

    /// Removes the entry with this id, and returns it.
    pub(crate) fn remove(&mut self, id: &[u8]) -> Option<Arc<E>> {
        let found = self.0.find_entry(id_hash(id), |e| e.id_bytes() == id).ok()?;
        Some(found.remove().0)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<E>> {
        self.0.iter()
    }

    pub(crate) fn retain(&mut self, keep: impl FnMut(&mut Arc<E>) -> bool) {
        self.0.retain(keep);
    }
}
