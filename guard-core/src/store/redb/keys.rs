//! API keys in the redb file: their change log.

use redb::ReadableDatabase;

use super::log::{self, Logged};
use super::schema::KEYS;
use super::{RedbStore, db_err};
use crate::store::{Changes, KeyChange, KeyRecord, KeyStore, StoreError};

impl Logged for KeyRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl KeyStore for RedbStore {
    async fn insert_keys(&self, records: Vec<KeyRecord>) -> Result<(), StoreError> {
        self.write(move |txn| KEYS.insert(txn, records)).await
    }

    async fn update_key(&self, expected: KeyRecord, record: KeyRecord) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let ids = txn.open_table(KEYS.ids).map_err(db_err)?;
            let rows = txn.open_table(KEYS.rows).map_err(db_err)?;
            let Some(old) = log::get::<KeyRecord>(&ids, &rows, &record.id)? else {
                return Ok(false);
            };
            drop((ids, rows));
            if old != expected {
                return Err(StoreError::Changed);
            }
            KEYS.update(txn, record)
        })
        .await
    }

    async fn delete_key(&self, id: String) -> Result<bool, StoreError> {
        self.write(move |txn| KEYS.delete(txn, &id, None)).await
    }

    async fn get_key(&self, id: String) -> Result<Option<KeyRecord>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let ids = txn.open_table(KEYS.ids).map_err(db_err)?;
            let rows = txn.open_table(KEYS.rows).map_err(db_err)?;
            log::get(&ids, &rows, &id)
        })
        .await
    }

    async fn count_keys(&self) -> Result<u64, StoreError> {
        self.run(|db| {
            log::count(&db.begin_read().map_err(db_err)?.open_table(KEYS.ids).map_err(db_err)?)
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
            log::changes(&txn.open_table(KEYS.rows).map_err(db_err)?, cursor, limit)
        })
        .await
    }
}
