//! Users in the redb file: their change log, and their names, unique.

use redb::{ReadableDatabase, ReadableTable};

use super::log::{self, Logged};
use super::schema::{USER_NAMES, USERS};
use super::{RedbStore, db_err};
use crate::store::{Changes, StoreError, UserChange, UserRecord, UserStore};

impl Logged for UserRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl UserStore for RedbStore {
    async fn insert_user(&self, record: UserRecord) -> Result<(), StoreError> {
        self.write(move |txn| {
            let mut names = txn.open_table(USER_NAMES).map_err(db_err)?;
            if names.get(record.normalized.as_str()).map_err(db_err)?.is_some() {
                return Err(StoreError::NameTaken);
            }
            names.insert(record.normalized.as_str(), record.id.as_str()).map_err(db_err)?;
            drop(names);
            USERS.insert(txn, vec![record])
        })
        .await
    }

    async fn update_user(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let ids = txn.open_table(USERS.ids).map_err(db_err)?;
            let rows = txn.open_table(USERS.rows).map_err(db_err)?;
            let Some(old) = log::get::<UserRecord>(&ids, &rows, &record.id)? else {
                return Ok(false);
            };
            drop((ids, rows));
            if old != expected {
                return Err(StoreError::Changed);
            }
            if old.normalized != record.normalized {
                let mut names = txn.open_table(USER_NAMES).map_err(db_err)?;
                if names.get(record.normalized.as_str()).map_err(db_err)?.is_some() {
                    return Err(StoreError::NameTaken);
                }
                names.remove(old.normalized.as_str()).map_err(db_err)?;
                names.insert(record.normalized.as_str(), record.id.as_str()).map_err(db_err)?;
            }
            USERS.update(txn, record)
        })
        .await
    }

    async fn delete_user(&self, id: String) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let ids = txn.open_table(USERS.ids).map_err(db_err)?;
            let rows = txn.open_table(USERS.rows).map_err(db_err)?;
            let Some(old) = log::get::<UserRecord>(&ids, &rows, &id)? else {
                return Ok(false);
            };
            drop((ids, rows));
            txn.open_table(USER_NAMES)
                .map_err(db_err)?
                .remove(old.normalized.as_str())
                .map_err(db_err)?;
            USERS.delete(txn, &id, None)
        })
        .await
    }

    async fn get_user(&self, id: String) -> Result<Option<UserRecord>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let ids = txn.open_table(USERS.ids).map_err(db_err)?;
            let rows = txn.open_table(USERS.rows).map_err(db_err)?;
            log::get(&ids, &rows, &id)
        })
        .await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        self.run(|db| {
            log::count(&db.begin_read().map_err(db_err)?.open_table(USERS.ids).map_err(db_err)?)
        })
        .await
    }

    async fn user_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<UserChange>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            log::changes(&txn.open_table(USERS.rows).map_err(db_err)?, cursor, limit)
        })
        .await
    }
}
