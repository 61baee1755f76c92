//! Named settings in PostgreSQL: the admin secret's hash, the recorded policy.

use guard_core::store::{MetaStore, Schema, StoreError};

use crate::PostgresStore;
use crate::changes::notify;
use crate::connect::newest_version;
use crate::error::store_error;

impl MetaStore for PostgresStore {
    fn schema(&self) -> Schema {
        // What `connect` migrated it to (a newer one is refused there).
        Schema { backend: "PostgreSQL", version: u32::try_from(newest_version()).unwrap_or(0) }
    }

    async fn meta(&self, name: String) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(move |pool, _| async move {
            sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
                .bind(name)
                .fetch_optional(&pool)
                .await
                .map_err(store_error)
        })
        .await
    }

    async fn set_meta(&self, name: String, value: Vec<u8>) -> Result<(), StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;
            sqlx::query(
                "INSERT INTO meta (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(value)
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;
            // A rotated admin secret is taken in by the other instances at once.
            notify(&mut txn, &writing, "meta").await?;
            txn.commit().await.map_err(store_error)
        })
        .await
    }

    async fn replace_meta(
        &self,
        name: String,
        expected: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;
            // The row is locked by the update: of two concurrent replacements of one value,
            // the second sees the first's and matches nothing.
            let replaced = sqlx::query("UPDATE meta SET value = $3 WHERE name = $1 AND value = $2")
                .bind(&name)
                .bind(&expected)
                .bind(&value)
                .execute(&mut *txn)
                .await
                .map_err(store_error)?
                .rows_affected()
                == 1;
            if replaced {
                notify(&mut txn, &writing, "meta").await?;
            }
            txn.commit().await.map_err(store_error)?;
            Ok(replaced)
        })
        .await
    }
}
