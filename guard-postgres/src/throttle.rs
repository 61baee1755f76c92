//! Login throttling in PostgreSQL, shared by every instance: one transaction per attempt
//! locks the attempt's counts (in key order, so that concurrent attempts never deadlock),
//! changes them and writes them back.

use std::collections::HashMap;

use guard_core::clock::Timestamp;
use guard_core::store::{FailureCount, FailureUpdate, StoreError, ThrottleStore};
use sqlx::{PgPool, Postgres, Transaction};

use crate::PostgresStore;
use crate::error::store_error;

/// How many times an update is tried again when PostgreSQL reports a deadlock or a
/// serialization failure (neither should happen; both are safe to retry).
const RETRIES: usize = 3;

fn retryable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

async fn read_locked(
    txn: &mut Transaction<'static, Postgres>,
    keys: &[String],
) -> Result<HashMap<String, FailureCount>, sqlx::Error> {
    // Make every count exist, so that all of them are locked below.
    sqlx::query(
        "INSERT INTO throttle_failures (key, failures, blocked_until, last)
         SELECT key, 0, 0, 0 FROM unnest($1::text[]) AS k(key)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(keys)
    .execute(&mut **txn)
    .await?;
    let rows: Vec<(String, i32, i64, i64)> = sqlx::query_as(
        "SELECT key, failures, blocked_until, last FROM throttle_failures
         WHERE key = ANY($1) ORDER BY key FOR UPDATE",
    )
    .bind(keys)
    .fetch_all(&mut **txn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, failures, blocked_until, last)| {
            let failures = u32::try_from(failures).unwrap_or(0);
            (key, FailureCount { failures, blocked_until, last })
        })
        .collect())
}

async fn write(
    txn: &mut Transaction<'static, Postgres>,
    keys: &[String],
    counts: &[FailureCount],
) -> Result<(), sqlx::Error> {
    let failures: Vec<i32> =
        counts.iter().map(|c| i32::try_from(c.failures).unwrap_or(i32::MAX)).collect();
    sqlx::query(
        "UPDATE throttle_failures AS t
         SET failures = u.failures, blocked_until = u.blocked_until, last = u.last
         FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[])
              AS u(key, failures, blocked_until, last)
         WHERE t.key = u.key",
    )
    .bind(keys)
    .bind(failures)
    .bind(counts.iter().map(|c| c.blocked_until).collect::<Vec<_>>())
    .bind(counts.iter().map(|c| c.last).collect::<Vec<_>>())
    .execute(&mut **txn)
    .await?;
    // A count back at the default is as if never counted. An attempt waiting on its lock
    // then finds no row, and starts again (`update_once`).
    sqlx::query(
        "DELETE FROM throttle_failures
         WHERE key = ANY($1) AND failures = 0 AND blocked_until = 0 AND last = 0",
    )
    .bind(keys)
    .execute(&mut **txn)
    .await?;
    Ok(())
}

/// A transaction holding the locks of `keys`' counts, and the counts. If another attempt
/// removed a count (back at the default) while this one waited for its lock, the row it
/// waited for is gone: it starts again, so that the count it makes is not lost.
async fn update_once(
    pool: &PgPool,
    keys: &[String],
) -> Result<(Transaction<'static, Postgres>, Vec<FailureCount>), sqlx::Error> {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    loop {
        let mut txn = pool.begin().await?;
        let stored = read_locked(&mut txn, &sorted).await?;
        if stored.len() == sorted.len() {
            let before = keys.iter().map(|k| stored.get(k).copied().unwrap_or_default()).collect();
            return Ok((txn, before));
        }
        txn.rollback().await?;
    }
}

impl ThrottleStore for PostgresStore {
    async fn update_failures(
        &self,
        keys: Vec<String>,
        update: FailureUpdate,
    ) -> Result<Vec<FailureCount>, StoreError> {
        self.run(move |pool, _| async move {
            let mut update = Some(update);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = async {
                    let (mut txn, before) = update_once(&pool, &keys).await?;
                    let mut counts: Vec<FailureCount> = before.clone();
                    if let Some(update) = update.take() {
                        update(&mut counts);
                    }
                    write(&mut txn, &keys, &counts).await?;
                    txn.commit().await?;
                    Ok::<_, sqlx::Error>(before)
                }
                .await;
                match result {
                    Ok(before) => return Ok(before),
                    // The update ran against counts that were not written: it may be run
                    // again only while it has not been consumed, which a retryable failure
                    // before the write never does.
                    Err(error) if retryable(&error) && attempt < RETRIES && update.is_some() => {}
                    Err(error) => return Err(store_error(error)),
                }
            }
        })
        .await
    }

    async fn known_address(&self, user: String, address: String) -> Result<bool, StoreError> {
        self.run(move |pool, _| async move {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM throttle_known WHERE user_id = $1 AND address = $2)",
            )
            .bind(user)
            .bind(address)
            .fetch_one(&pool)
            .await
            .map_err(store_error)
        })
        .await
    }

    async fn remember_address(
        &self,
        user: String,
        address: String,
        at: Timestamp,
        keep: u32,
    ) -> Result<(), StoreError> {
        self.run(move |pool, _| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;
            sqlx::query(
                "INSERT INTO throttle_known (user_id, address, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, address) DO UPDATE SET seen_at = excluded.seen_at",
            )
            .bind(&user)
            .bind(&address)
            .bind(at)
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;
            sqlx::query(
                "DELETE FROM throttle_known WHERE user_id = $1 AND address NOT IN (
                     SELECT address FROM throttle_known WHERE user_id = $1
                     ORDER BY seen_at DESC, address DESC LIMIT $2)",
            )
            .bind(&user)
            .bind(i64::from(keep))
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;
            txn.commit().await.map_err(store_error)
        })
        .await
    }

    async fn prune_failures(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move {
            let pruned = sqlx::query("DELETE FROM throttle_failures WHERE last < $1")
                .bind(before)
                .execute(&pool)
                .await
                .map_err(store_error)?
                .rows_affected();
            Ok(pruned)
        })
        .await
    }
}
