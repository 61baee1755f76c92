//! The embedded store: one redb file.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use super::{KeyCounters, KeyRecord, Store, StoreError, UsageRecord};
use crate::clock::Timestamp;

/// Bumped whenever the layout changes; opening an older file migrates it, a newer one is an
/// error.
const SCHEMA_VERSION: u32 = 1;
const SCHEMA_VERSION_KEY: &str = "schema_version";

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_meta");
const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_api_keys");
const KEY_COUNTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_key_counters");
/// Usage records by key and sequence number, for "recent usage of this key".
const USAGE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("guard_usage");
/// The same records by time, for retention.
const USAGE_BY_TIME: TableDefinition<(i64, u64), &str> =
    TableDefinition::new("guard_usage_by_time");
const USAGE_SEQ_KEY: &str = "usage_seq";

/// A [`Store`] in a redb file.
pub struct RedbStore {
    db: Database,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(e.into())
}

impl RedbStore {
    /// Opens the database at `path`, creating it if it does not exist.
    ///
    /// A file that is not a redb database, a redb database of another application, or one
    /// written by a newer guard is an error, never a panic and never overwritten.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let db = Database::create(path)
            .map_err(|source| StoreError::Open { path: path.to_owned(), source })?;
        let store = RedbStore { db };
        store.check_schema(path.to_owned())?;
        Ok(store)
    }

    fn check_schema(&self, path: PathBuf) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let tables: Vec<String> =
            txn.list_tables().map_err(db_err)?.map(|t| t.name().to_owned()).collect();
        let fresh = tables.is_empty();
        if !fresh && !tables.iter().any(|t| t == META.name()) {
            return Err(StoreError::Foreign { path });
        }
        {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let found = match meta.get(SCHEMA_VERSION_KEY).map_err(db_err)? {
                Some(v) => Some(decode_version(v.value())?),
                None => None,
            };
            match found {
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(StoreError::NewerSchema { path, found, supported: SCHEMA_VERSION });
                }
                Some(found) if found == SCHEMA_VERSION => {}
                // Older versions would be migrated here; version 1 is the first.
                _ => {
                    meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_le_bytes().as_slice())
                        .map_err(db_err)?;
                }
            }
            txn.open_table(KEYS).map_err(db_err)?;
            txn.open_table(KEY_COUNTERS).map_err(db_err)?;
            txn.open_table(USAGE).map_err(db_err)?;
            txn.open_table(USAGE_BY_TIME).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
}

fn decode_version(bytes: &[u8]) -> Result<u32, StoreError> {
    let bytes: [u8; 4] = bytes
        .try_into()
        .map_err(|_| StoreError::Damaged("the schema version is not a 32-bit number".into()))?;
    Ok(u32::from_le_bytes(bytes))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Damaged(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Damaged(e.to_string()))
}

impl Store for RedbStore {
    fn load_keys(&self) -> Result<Vec<(KeyRecord, KeyCounters)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let keys = txn.open_table(KEYS).map_err(db_err)?;
        let counters = txn.open_table(KEY_COUNTERS).map_err(db_err)?;
        let mut records = Vec::new();
        for entry in keys.iter().map_err(db_err)? {
            let (id, value) = entry.map_err(db_err)?;
            let record: KeyRecord = decode(value.value())?;
            let counts = match counters.get(id.value()).map_err(db_err)? {
                Some(c) => decode(c.value())?,
                None => KeyCounters::default(),
            };
            records.push((record, counts));
        }
        Ok(records)
    }

    fn insert_key(&self, record: &KeyRecord) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(KEYS).map_err(db_err)?;
            if table.get(record.id.as_str()).map_err(db_err)?.is_some() {
                return Err(StoreError::DuplicateId(record.id.clone()));
            }
            table.insert(record.id.as_str(), bytes.as_slice()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    fn update_key(&self, record: &KeyRecord) -> Result<bool, StoreError> {
        let bytes = encode(record)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(KEYS).map_err(db_err)?;
            if table.get(record.id.as_str()).map_err(db_err)?.is_none() {
                return Ok(false);
            }
            table.insert(record.id.as_str(), bytes.as_slice()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(true)
    }

    fn delete_key(&self, id: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut keys = txn.open_table(KEYS).map_err(db_err)?;
            if keys.remove(id).map_err(db_err)?.is_none() {
                return Ok(false);
            }
            txn.open_table(KEY_COUNTERS).map_err(db_err)?.remove(id).map_err(db_err)?;
            let mut usage = txn.open_table(USAGE).map_err(db_err)?;
            let mut by_time = txn.open_table(USAGE_BY_TIME).map_err(db_err)?;
            let doomed: Vec<(i64, u64)> = usage
                .range((id, 0)..=(id, u64::MAX))
                .map_err(db_err)?
                .map(|entry| {
                    let (key, value) = entry.map_err(db_err)?;
                    let record: UsageRecord = decode(value.value())?;
                    Ok((record.at, key.value().1))
                })
                .collect::<Result<_, StoreError>>()?;
            for (at, seq) in doomed {
                usage.remove((id, seq)).map_err(db_err)?;
                by_time.remove((at, seq)).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(true)
    }

    fn append_usage(
        &self,
        records: &[UsageRecord],
        counters: &[(String, KeyCounters)],
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let keys = txn.open_table(KEYS).map_err(db_err)?;
            let mut usage = txn.open_table(USAGE).map_err(db_err)?;
            let mut by_time = txn.open_table(USAGE_BY_TIME).map_err(db_err)?;
            let mut counts = txn.open_table(KEY_COUNTERS).map_err(db_err)?;
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let exists = |id: &str| keys.get(id).map(|v| v.is_some()).map_err(db_err);
            let mut last_seq = match meta.get(USAGE_SEQ_KEY).map_err(db_err)? {
                Some(v) => decode_seq(v.value())?,
                None => 0,
            };
            for record in records {
                last_seq = last_seq.max(record.seq);
                if !exists(&record.key_id)? {
                    continue;
                }
                let bytes = encode(record)?;
                usage
                    .insert((record.key_id.as_str(), record.seq), bytes.as_slice())
                    .map_err(db_err)?;
                by_time.insert((record.at, record.seq), record.key_id.as_str()).map_err(db_err)?;
            }
            for (id, counters) in counters {
                if !exists(id)? {
                    continue;
                }
                // Counters only grow: a batch may carry an older snapshot than one already
                // written (uses are counted before they are queued), so keep the larger.
                let stored: KeyCounters = match counts.get(id.as_str()).map_err(db_err)? {
                    Some(bytes) => decode(bytes.value())?,
                    None => KeyCounters::default(),
                };
                let merged = KeyCounters {
                    total_uses: stored.total_uses.max(counters.total_uses),
                    last_used_at: stored.last_used_at.max(counters.last_used_at),
                };
                counts.insert(id.as_str(), encode(&merged)?.as_slice()).map_err(db_err)?;
            }
            meta.insert(USAGE_SEQ_KEY, last_seq.to_le_bytes().as_slice()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    fn recent_usage(&self, key_id: &str, limit: usize) -> Result<Vec<UsageRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let usage = txn.open_table(USAGE).map_err(db_err)?;
        let range = usage.range((key_id, 0)..=(key_id, u64::MAX)).map_err(db_err)?;
        range.rev().take(limit).map(|entry| decode(entry.map_err(db_err)?.1.value())).collect()
    }

    fn prune_usage(&self, before: Timestamp) -> Result<u64, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let mut pruned = 0;
        {
            let mut usage = txn.open_table(USAGE).map_err(db_err)?;
            let mut by_time = txn.open_table(USAGE_BY_TIME).map_err(db_err)?;
            let doomed: Vec<((i64, u64), String)> = by_time
                .range(..(before, 0))
                .map_err(db_err)?
                .map(|entry| {
                    let (key, id) = entry.map_err(db_err)?;
                    Ok((key.value(), id.value().to_owned()))
                })
                .collect::<Result<_, StoreError>>()?;
            for ((at, seq), id) in doomed {
                by_time.remove((at, seq)).map_err(db_err)?;
                usage.remove((id.as_str(), seq)).map_err(db_err)?;
                pruned += 1;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(pruned)
    }

    fn last_usage_seq(&self) -> Result<u64, StoreError> {
        match self.meta(USAGE_SEQ_KEY)? {
            Some(bytes) => decode_seq(&bytes),
            None => Ok(0),
        }
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let meta = txn.open_table(META).map_err(db_err)?;
        Ok(meta.get(name).map_err(db_err)?.map(|v| v.value().to_vec()))
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(META).map_err(db_err)?.insert(name, value).map_err(db_err)?;
        txn.commit().map_err(db_err)
    }
}

fn decode_seq(bytes: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Damaged("the usage sequence is not a 64-bit number".into()))?;
    Ok(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> KeyRecord {
        KeyRecord {
            id: id.into(),
            hash: "00".repeat(32),
            name: "n".into(),
            owner: None,
            roles: vec!["admin".into()],
            created_at: 1,
            expires_at: None,
            revoked: false,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        {
            let store = RedbStore::open(&path).unwrap();
            store.insert_key(&record("a")).unwrap();
            assert!(matches!(store.insert_key(&record("a")), Err(StoreError::DuplicateId(_))));
        }
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(store.load_keys().unwrap(), vec![(record("a"), KeyCounters::default())]);
    }

    fn usage(seq: u64, key: &str, at: Timestamp) -> UsageRecord {
        UsageRecord {
            seq,
            key_id: key.into(),
            at,
            outcome: super::super::UsageOutcome::Ok,
            method: "GET".into(),
            route: "/r".into(),
        }
    }

    #[test]
    fn usage_is_appended_listed_pruned_and_deleted_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path().join("g.redb")).unwrap();
        store.insert_key(&record("a")).unwrap();
        store.insert_key(&record("b")).unwrap();
        let counters = KeyCounters { total_uses: 3, last_used_at: Some(30) };
        let older = KeyCounters { total_uses: 2, last_used_at: Some(20) };
        let batch = [usage(1, "a", 10), usage(2, "b", 20), usage(3, "a", 30), usage(4, "gone", 40)];
        store.append_usage(&batch, &[("a".into(), counters), ("gone".into(), counters)]).unwrap();
        assert_eq!(store.last_usage_seq().unwrap(), 4);
        let seqs =
            |id| store.recent_usage(id, 10).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(seqs("a"), vec![3, 1], "newest first");
        assert_eq!(store.recent_usage("a", 1).unwrap().len(), 1);
        assert_eq!(seqs("gone"), Vec::<u64>::new(), "no records for unknown keys");
        // A later batch carrying an older snapshot does not move the counters back.
        store.append_usage(&[], &[("a".into(), older)]).unwrap();
        let loaded = store.load_keys().unwrap();
        assert_eq!(loaded.iter().find(|(r, _)| r.id == "a").unwrap().1, counters);

        assert_eq!(store.prune_usage(15).unwrap(), 1);
        assert_eq!(seqs("a"), vec![3]);
        assert!(store.delete_key("a").unwrap());
        assert!(!store.delete_key("a").unwrap());
        assert_eq!(seqs("a"), Vec::<u64>::new());
        assert_eq!(seqs("b"), vec![2]);
        assert_eq!(store.prune_usage(i64::MAX).unwrap(), 1, "only b's record is left");
    }

    #[test]
    fn garbage_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.redb");
        std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
        let err = RedbStore::open(&garbage).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x5a; 8192], "left untouched");

        let foreign = dir.path().join("foreign.redb");
        {
            let db = Database::create(&foreign).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(TableDefinition::<u64, u64>::new("orders")).unwrap();
            txn.commit().unwrap();
        }
        let err = RedbStore::open(&foreign).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("not a guard database"));
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        drop(RedbStore::open(&path).unwrap());
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(SCHEMA_VERSION_KEY, 99u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = RedbStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }
}
