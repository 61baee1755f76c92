//! Named settings in the redb file.

use redb::{ReadableDatabase, ReadableTable};

use super::schema::{META, SCHEMA_VERSION};
use super::{RedbStore, db_err};
use crate::store::{MetaStore, Schema, StoreError};

impl MetaStore for RedbStore {
    fn schema(&self) -> Schema {
        Schema { backend: "redb", version: SCHEMA_VERSION }
    }

    async fn meta(&self, name: String) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let meta = txn.open_table(META).map_err(db_err)?;
            Ok(meta.get(name.as_str()).map_err(db_err)?.map(|v| v.value().to_vec()))
        })
        .await
    }

    async fn set_meta(&self, name: String, value: Vec<u8>) -> Result<(), StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            txn.open_table(META)
                .map_err(db_err)?
                .insert(name.as_str(), value.as_slice())
                .map_err(db_err)?;
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn replace_meta(
        &self,
        name: String,
        expected: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<bool, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut meta = txn.open_table(META).map_err(db_err)?;
                let current = meta.get(name.as_str()).map_err(db_err)?.map(|v| v.value().to_vec());
                if current.as_deref() != Some(expected.as_slice()) {
                    return Ok(false);
                }
                meta.insert(name.as_str(), value.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }
}
