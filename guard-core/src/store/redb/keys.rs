//! API keys in the redb file: a change log ordered by sequence number, and an index by id.

use std::collections::HashSet;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, Table};
use serde::{Deserialize, Serialize};

use super::schema::{KEY_LOG, KEYS};
use super::{RedbStore, db_err};
use crate::store::{Changes, KeyChange, KeyRecord, KeyStore, StoreError};

/// One row of the change log.
#[derive(Serialize, Deserialize)]
pub(super) enum LogEntry {
    /// The key as it is now.
    Key(KeyRecord),
    /// The key with this id was deleted.
    Deleted(String),
}

pub(super) fn encode(entry: &LogEntry) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(entry).map_err(|e| StoreError::Damaged(e.to_string()))
}

fn decode(bytes: &[u8]) -> Result<LogEntry, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Damaged(e.to_string()))
}

/// The next sequence number: one above the newest change (a key's latest change is never
/// removed, so the newest row is the highest number ever given).
pub(super) fn next_seq(log: &Table<'_, u64, &[u8]>) -> Result<u64, StoreError> {
    Ok(log.last().map_err(db_err)?.map_or(1, |(seq, _)| seq.value() + 1))
}

impl KeyStore for RedbStore {
    async fn insert_keys(&self, records: Vec<KeyRecord>) -> Result<(), StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut keys = txn.open_table(KEYS).map_err(db_err)?;
                let mut log = txn.open_table(KEY_LOG).map_err(db_err)?;
                let mut seen = HashSet::with_capacity(records.len());
                for record in &records {
                    let taken = keys.get(record.id.as_str()).map_err(db_err)?.is_some();
                    if taken || !seen.insert(record.id.as_str()) {
                        // Dropping the transaction uncommitted writes nothing.
                        return Err(StoreError::DuplicateId(record.id.to_string()));
                    }
                }
                for (seq, record) in (next_seq(&log)?..).zip(records) {
                    keys.insert(record.id.as_str(), seq).map_err(db_err)?;
                    let bytes = encode(&LogEntry::Key(record))?;
                    log.insert(seq, bytes.as_slice()).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn update_key(&self, record: KeyRecord) -> Result<bool, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut keys = txn.open_table(KEYS).map_err(db_err)?;
                let mut log = txn.open_table(KEY_LOG).map_err(db_err)?;
                let Some(old) = keys.get(record.id.as_str()).map_err(db_err)?.map(|s| s.value())
                else {
                    return Ok(false);
                };
                let seq = next_seq(&log)?;
                log.remove(old).map_err(db_err)?;
                let id = record.id.clone();
                log.insert(seq, encode(&LogEntry::Key(record))?.as_slice()).map_err(db_err)?;
                keys.insert(id.as_str(), seq).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    async fn delete_key(&self, id: String) -> Result<bool, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut keys = txn.open_table(KEYS).map_err(db_err)?;
                let mut log = txn.open_table(KEY_LOG).map_err(db_err)?;
                let Some(old) = keys.remove(id.as_str()).map_err(db_err)?.map(|s| s.value()) else {
                    return Ok(false);
                };
                let seq = next_seq(&log)?;
                log.remove(old).map_err(db_err)?;
                log.insert(seq, encode(&LogEntry::Deleted(id))?.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    async fn get_key(&self, id: String) -> Result<Option<KeyRecord>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let keys = txn.open_table(KEYS).map_err(db_err)?;
            let log = txn.open_table(KEY_LOG).map_err(db_err)?;
            let Some(seq) = keys.get(id.as_str()).map_err(db_err)?.map(|s| s.value()) else {
                return Ok(None);
            };
            let Some(bytes) = log.get(seq).map_err(db_err)? else {
                return Err(StoreError::Damaged(format!("key {id} has no record")));
            };
            match decode(bytes.value())? {
                LogEntry::Key(record) => Ok(Some(record)),
                LogEntry::Deleted(_) => Ok(None),
            }
        })
        .await
    }

    async fn count_keys(&self) -> Result<u64, StoreError> {
        self.run(|db| {
            let txn = db.begin_read().map_err(db_err)?;
            txn.open_table(KEYS).map_err(db_err)?.len().map_err(db_err)
        })
        .await
    }

    async fn key_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<KeyChange>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let log = txn.open_table(KEY_LOG).map_err(db_err)?;
            let mut changes = Vec::new();
            let mut last = cursor;
            for row in log.range(cursor.saturating_add(1)..).map_err(db_err)?.take(limit) {
                let (seq, bytes) = row.map_err(db_err)?;
                let seq = seq.value();
                last = seq;
                changes.push(match decode(bytes.value())? {
                    LogEntry::Key(record) => {
                        KeyChange { seq, id: record.id.clone(), record: Some(record) }
                    }
                    LogEntry::Deleted(id) => KeyChange { seq, id: id.into(), record: None },
                });
            }
            Ok(Changes { changes, cursor: last })
        })
        .await
    }
}
