//! The in-memory index of API keys: one hash table from key id to entry, and the store cursor
//! it has followed up to.

use std::collections::HashMap;
use std::sync::Arc;

use compact_str::CompactString;

use super::entry::KeyEntry;
use crate::authz::{Grant, Grants};
use crate::credentials::format::CredentialFormat;
use crate::credentials::table::IdTable;
use crate::store::{Follows, KeyChange};
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

    /// Takes one change of the initial load. A key that is not in the index yet (the common
    /// case: the store keeps each key's latest change once) goes in without more ado; one that
    /// is, or a deletion, was written while the load went on, and is applied as any change.
    pub(super) fn load(
        &mut self,
        change: KeyChange,
        recent: &mut RecentGrants<'_>,
        grants: &Grants,
        format: &CredentialFormat,
    ) {
        let Some(record) =
            change.record.as_ref().filter(|_| self.get(change.id.as_bytes()).is_none())
        else {
            self.apply(change, grants, format);
            return;
        };
        if let Some(owner) = &record.owner {
            self.owners.insert(record.id.clone(), owner.clone());
        }
        let grant = recent.of(&record.roles);
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
        // New, or renamed, re-roled or re-limited: a new entry, carrying the counts (and the
        // allowance used, under the same limit).
        let old = self.table.remove(id);
        let counters = old.as_ref().map_or_else(Counters::default, |e| e.counters());
        match KeyEntry::new(&record, grant, counters, format) {
            Some(mut entry) => {
                if let Some(old) = &old {
                    entry.carry_limit_from(old);
                }
                self.table.insert_new(Arc::new(entry));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Policy, PolicySpec, RoleSpec};
    use crate::store::{Change, KeyRecord};

    static SPEC: PolicySpec = PolicySpec::new(1, &["read"], &[RoleSpec::new("reader", &[], &[0])]);

    fn change(seq: u64, format: &CredentialFormat, name: Option<&str>, id: &str) -> KeyChange {
        let record = name.map(|name| KeyRecord {
            id: id.into(),
            hash: *format.generate().unwrap().hash.as_bytes(),
            name: name.into(),
            owner: None,
            roles: vec!["reader".into()],
            created_at: 1,
            expires_at: None,
            rate_limit: None,
            revoked: name == "revoked",
        });
        Change { seq, id: id.into(), record }
    }

    /// A load that meets a key again (changed while the load went on, so on a later page) or
    /// its deletion keeps one entry per key, as it is last.
    #[test]
    fn a_load_takes_in_changes_made_while_it_went_on() {
        let grants = Grants::new(std::sync::Arc::new(Policy::new(&SPEC).unwrap()));
        let format = CredentialFormat::default();
        let mut recent = RecentGrants::new(&grants);
        let mut index = KeyIndex::default();
        let (a, b) = ("AAAAAAAAAAAA", "BBBBBBBBBBBB");
        for change in [
            change(1, &format, Some("first"), a),
            change(2, &format, Some("first"), b),
            change(3, &format, Some("revoked"), a),
            change(4, &format, None, b),
        ] {
            index.load(change, &mut recent, &grants, &format);
        }
        assert_eq!(index.len(), 1, "one entry for a, none for b");
        let entry = index.get(a.as_bytes()).unwrap();
        assert_eq!(entry.state(0), super::super::KeyState::Revoked);
        assert!(index.get(b.as_bytes()).is_none());
    }
}
