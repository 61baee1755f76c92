//! The embedded store: one redb file.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use super::{KeyRecord, Store, StoreError};

/// Bumped whenever the layout changes; opening an older file migrates it, a newer one is an
/// error.
const SCHEMA_VERSION: u32 = 1;
const SCHEMA_VERSION_KEY: &str = "schema_version";

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_meta");
const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_api_keys");

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
        let db = Database::create(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let store = RedbStore { db };
        store.check_schema(path.to_owned())?;
        Ok(store)
    }

    fn check_schema(&self, path: PathBuf) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let tables: Vec<String> = txn
            .list_tables()
            .map_err(db_err)?
            .map(|t| t.name().to_owned())
            .collect();
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
                    return Err(StoreError::NewerSchema {
                        path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Some(found) if found == SCHEMA_VERSION => {}
                // Older versions would be migrated here; version 1 is the first.
                _ => {
                    meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_le_bytes().as_slice())
                        .map_err(db_err)?;
                }
            }
            txn.open_table(KEYS).map_err(db_err)?;
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
    fn load_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(KEYS).map_err(db_err)?;
        let mut records = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (_, value) = entry.map_err(db_err)?;
            records.push(decode(value.value())?);
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
            table
                .insert(record.id.as_str(), bytes.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
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
            assert!(matches!(
                store.insert_key(&record("a")),
                Err(StoreError::DuplicateId(_))
            ));
        }
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(store.load_keys().unwrap(), vec![record("a")]);
    }

    #[test]
    fn garbage_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.redb");
        std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
        let err = RedbStore::open(&garbage).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert_eq!(
            std::fs::read(&garbage).unwrap(),
            vec![0x5a; 8192],
            "left untouched"
        );

        let foreign = dir.path().join("foreign.redb");
        {
            let db = Database::create(&foreign).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(TableDefinition::<u64, u64>::new("orders"))
                .unwrap();
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
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }
}
