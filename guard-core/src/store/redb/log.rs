//! The change log every aggregate of the redb file keeps: records in a table ordered by
//! sequence number, one row per record (its latest change, or its deletion), and an index
//! from id to sequence number. A scan from the start is a full load in write order; a scan
//! from a cursor is what changed since.

use std::collections::HashSet;

use compact_str::CompactString;
use redb::{ReadableTable, ReadableTableMetadata, Table, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::db_err;
use crate::store::{Change, Changes, StoreError};

/// A record kept in a change log.
pub(super) trait Logged: Serialize + DeserializeOwned + Send + 'static {
    fn id(&self) -> &str;
}

/// One row of a change log.
#[derive(Serialize, Deserialize)]
pub(super) enum Entry<R> {
    /// The record as it is now.
    Record(R),
    /// The record with this id was deleted.
    Deleted(CompactString),
    /// The record with this id was deleted, a deletion that can be forgotten after this time
    /// (for a session or token, its expiry: by then every follower has dropped it anyway).
    DeletedAt(CompactString, i64),
}

/// The two tables of one aggregate's log.
#[derive(Clone, Copy)]
pub(super) struct Log {
    /// Id → the sequence number of its latest change.
    pub(super) ids: TableDefinition<'static, &'static str, u64>,
    /// Sequence number → the latest change of one record.
    pub(super) rows: TableDefinition<'static, u64, &'static [u8]>,
}

pub(super) fn encode<R: Serialize>(entry: &Entry<R>) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(entry).map_err(|e| StoreError::Damaged(e.to_string()))
}

pub(super) fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<Entry<R>, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Damaged(e.to_string()))
}

/// The next sequence number: one above the newest change (a record's latest change is never
/// removed but by a newer one, so the newest row is the highest number ever given).
pub(super) fn next_seq(rows: &Table<'_, u64, &[u8]>) -> Result<u64, StoreError> {
    Ok(rows.last().map_err(db_err)?.map_or(1, |(seq, _)| seq.value() + 1))
}

impl Log {
    /// Adds records, all or none: a taken or repeated id is [`StoreError::DuplicateId`].
    pub(super) fn insert<R: Logged>(
        &self,
        txn: &WriteTransaction,
        records: Vec<R>,
    ) -> Result<(), StoreError> {
        let mut ids = txn.open_table(self.ids).map_err(db_err)?;
        let mut rows = txn.open_table(self.rows).map_err(db_err)?;
        let mut seen = HashSet::with_capacity(records.len());
        for record in &records {
            let taken = ids.get(record.id()).map_err(db_err)?.is_some();
            if taken || !seen.insert(record.id()) {
                return Err(StoreError::DuplicateId(record.id().to_owned()));
            }
        }
        for (seq, record) in (next_seq(&rows)?..).zip(records) {
            ids.insert(record.id(), seq).map_err(db_err)?;
            rows.insert(seq, encode(&Entry::Record(record))?.as_slice()).map_err(db_err)?;
        }
        Ok(())
    }

    /// Replaces a record; `false` if there is none with its id.
    pub(super) fn update<R: Logged>(
        &self,
        txn: &WriteTransaction,
        record: R,
    ) -> Result<bool, StoreError> {
        let mut ids = txn.open_table(self.ids).map_err(db_err)?;
        let mut rows = txn.open_table(self.rows).map_err(db_err)?;
        let Some(old) = ids.get(record.id()).map_err(db_err)?.map(|s| s.value()) else {
            return Ok(false);
        };
        let seq = next_seq(&rows)?;
        rows.remove(old).map_err(db_err)?;
        ids.insert(record.id(), seq).map_err(db_err)?;
        rows.insert(seq, encode(&Entry::Record(record))?.as_slice()).map_err(db_err)?;
        Ok(true)
    }

    /// Deletes a record, leaving its deletion in the log (with its time, if given, so that
    /// it can be forgotten later); `false` if there is none.
    pub(super) fn delete(
        &self,
        txn: &WriteTransaction,
        id: &str,
        at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut ids = txn.open_table(self.ids).map_err(db_err)?;
        let mut rows = txn.open_table(self.rows).map_err(db_err)?;
        let Some(old) = ids.remove(id).map_err(db_err)?.map(|s| s.value()) else {
            return Ok(false);
        };
        let seq = next_seq(&rows)?;
        rows.remove(old).map_err(db_err)?;
        let entry: Entry<()> = match at {
            Some(at) => Entry::DeletedAt(id.into(), at),
            None => Entry::Deleted(id.into()),
        };
        rows.insert(seq, encode(&entry)?.as_slice()).map_err(db_err)?;
        Ok(true)
    }

    /// Removes a record and its row without a trace: for records that expire, which every
    /// follower drops by itself.
    pub(super) fn forget(&self, txn: &WriteTransaction, id: &str) -> Result<(), StoreError> {
        let mut ids = txn.open_table(self.ids).map_err(db_err)?;
        let mut rows = txn.open_table(self.rows).map_err(db_err)?;
        if let Some(seq) = ids.remove(id).map_err(db_err)?.map(|s| s.value()) {
            rows.remove(seq).map_err(db_err)?;
        }
        Ok(())
    }

    /// Whether a record with this id exists.
    pub(super) fn exists(&self, txn: &WriteTransaction, id: &str) -> Result<bool, StoreError> {
        let ids = txn.open_table(self.ids).map_err(db_err)?;
        Ok(ids.get(id).map_err(db_err)?.is_some())
    }
}

/// The record with this id, read through any transaction's tables.
pub(super) fn get<R: Logged>(
    ids: &impl ReadableTable<&'static str, u64>,
    rows: &impl ReadableTable<u64, &'static [u8]>,
    id: &str,
) -> Result<Option<R>, StoreError> {
    let Some(seq) = ids.get(id).map_err(db_err)?.map(|s| s.value()) else {
        return Ok(None);
    };
    let Some(bytes) = rows.get(seq).map_err(db_err)? else {
        return Err(StoreError::Damaged(format!("record {id} is missing from its log")));
    };
    match decode(bytes.value())? {
        Entry::Record(record) => Ok(Some(record)),
        Entry::Deleted(_) | Entry::DeletedAt(..) => Ok(None),
    }
}

/// Up to `limit` changes after `cursor`.
pub(super) fn changes<R: Logged>(
    rows: &impl ReadableTable<u64, &'static [u8]>,
    cursor: u64,
    limit: usize,
) -> Result<Changes<Change<R>>, StoreError> {
    let mut changes = Vec::new();
    let mut last = cursor;
    for row in rows.range(cursor.saturating_add(1)..).map_err(db_err)?.take(limit) {
        let (seq, bytes) = row.map_err(db_err)?;
        let seq = seq.value();
        last = seq;
        changes.push(match decode::<R>(bytes.value())? {
            Entry::Record(record) => Change { seq, id: record.id().into(), record: Some(record) },
            Entry::Deleted(id) | Entry::DeletedAt(id, _) => Change { seq, id, record: None },
        });
    }
    Ok(Changes { changes, cursor: last })
}

/// How many records there are.
pub(super) fn count(ids: &impl ReadableTableMetadata) -> Result<u64, StoreError> {
    ids.len().map_err(db_err)
}
