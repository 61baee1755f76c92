//! API keys in PostgreSQL.

use compact_str::CompactString;
use guard_core::store::{Changes, KeyChange, KeyRecord, KeyStore, StoreError};
use guard_core::usage::RateLimit;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::changes::{
    Aggregate, changes_after, commit, count, delete_logged, forget_deletions, seq_of, turn,
};
use crate::error::store_error;

const COLUMNS: &str = "seq, id, hash, name, owner, roles, created_at, expires_at, revoked, \
     rate_requests, rate_per_seconds";

const SELECT: &str = "SELECT seq, id, hash, name, owner, roles, created_at, expires_at, revoked, \
     rate_requests, rate_per_seconds FROM api_keys";

/// Rows per insert statement: ten parameters each, under PostgreSQL's 65 535.
const INSERT_BATCH: usize = 5_000;

/// A stored rate limit: both numbers or none.
pub(crate) fn rate_limit_of(
    requests: Option<i32>,
    per_seconds: Option<i32>,
    id: &str,
) -> Result<Option<RateLimit>, StoreError> {
    let (Some(requests), Some(per_seconds)) = (requests, per_seconds) else { return Ok(None) };
    let limit = u32::try_from(requests).ok().zip(u32::try_from(per_seconds).ok());
    limit
        .and_then(|(requests, per_seconds)| RateLimit::new(requests, per_seconds).ok())
        .map(Some)
        .ok_or_else(|| StoreError::Damaged(format!("the rate limit of {id} is out of range")))
}

/// A rate limit as its two columns.
pub(crate) fn rate_columns(limit: Option<RateLimit>) -> (Option<i32>, Option<i32>) {
    let column = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    (limit.map(|l| column(l.requests)), limit.map(|l| column(l.per_seconds)))
}

/// A stored hash, which must be 32 bytes.
pub(crate) fn hash_of(bytes: &[u8], id: &str) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Damaged(format!("the hash of {id} is not 32 bytes")))
}

pub(crate) fn roles_of(roles: Vec<String>) -> Vec<CompactString> {
    roles.into_iter().map(CompactString::from).collect()
}

/// A key's row, read in place: a full load reads a million of them, so the strings go
/// straight into the record's inline ones, without a `String` each on the way.
fn key_of(row: &PgRow) -> Result<(u64, KeyRecord), StoreError> {
    let read = || -> Result<_, sqlx::Error> {
        Ok((
            row.try_get::<i64, _>(0)?,
            row.try_get::<&str, _>(1)?,
            row.try_get::<&[u8], _>(2)?,
            row.try_get::<&str, _>(3)?,
            row.try_get::<Option<&str>, _>(4)?,
            row.try_get::<Vec<String>, _>(5)?,
            row.try_get::<i64, _>(6)?,
            row.try_get::<Option<i64>, _>(7)?,
            row.try_get::<bool, _>(8)?,
            (row.try_get::<Option<i32>, _>(9)?, row.try_get::<Option<i32>, _>(10)?),
        ))
    };
    let (seq, id, hash, name, owner, roles, created_at, expires_at, revoked, rate) =
        read().map_err(|e| StoreError::Damaged(e.to_string()))?;
    let record = KeyRecord {
        id: id.into(),
        hash: hash_of(hash, id)?,
        name: name.into(),
        owner: owner.map(CompactString::from),
        roles: roles_of(roles),
        created_at,
        expires_at,
        revoked,
        rate_limit: rate_limit_of(rate.0, rate.1, id)?,
    };
    Ok((seq_of(seq), record))
}

async fn read_key(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> Result<Option<KeyRecord>, StoreError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("{SELECT} WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(|row| key_of(&row).map(|(_, record)| record)).transpose()
}

impl KeyStore for PostgresStore {
    async fn insert_keys(&self, records: Vec<KeyRecord>) -> Result<(), StoreError> {
        self.run(move |pool, writing| async move {
            let mut ids: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
            ids.sort_unstable();
            if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(StoreError::DuplicateId(pair[0].clone()));
            }
            let mut txn = turn(&pool, &writing, Aggregate::Keys).await?;
            let taken: Option<String> =
                sqlx::query_scalar("SELECT id FROM api_keys WHERE id = ANY($1) LIMIT 1")
                    .bind(&ids)
                    .fetch_optional(&mut *txn)
                    .await
                    .map_err(store_error)?;
            if let Some(id) = taken {
                return Err(StoreError::DuplicateId(id));
            }
            for batch in records.chunks(INSERT_BATCH) {
                let mut insert =
                    QueryBuilder::<Postgres>::new(format!("INSERT INTO api_keys ({COLUMNS}) "));
                insert.push_values(batch, |mut row, record| {
                    row.push("nextval('changes')")
                        .push_bind(record.id.as_str())
                        .push_bind(record.hash.as_slice())
                        .push_bind(record.name.as_str())
                        .push_bind(record.owner.as_deref())
                        .push_bind(record.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
                        .push_bind(record.created_at)
                        .push_bind(record.expires_at)
                        .push_bind(record.revoked)
                        .push_bind(rate_columns(record.rate_limit).0)
                        .push_bind(rate_columns(record.rate_limit).1);
                });
                insert.build().execute(&mut *txn).await.map_err(store_error)?;
            }
            forget_deletions(&mut txn, Aggregate::Keys, &ids).await?;
            commit(txn, &writing, Aggregate::Keys).await
        })
        .await
    }

    async fn update_key(&self, expected: KeyRecord, record: KeyRecord) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Keys).await?;
            let Some(stored) = read_key(&mut txn, &record.id, true).await? else {
                return Ok(false);
            };
            if stored != expected {
                return Err(StoreError::Changed);
            }
            sqlx::query(
                "UPDATE api_keys SET seq = nextval('changes'), hash = $2, name = $3, owner = $4,
                 roles = $5, created_at = $6, expires_at = $7, revoked = $8,
                 rate_requests = $9, rate_per_seconds = $10 WHERE id = $1",
            )
            .bind(record.id.as_str())
            .bind(record.hash.as_slice())
            .bind(record.name.as_str())
            .bind(record.owner.as_deref())
            .bind(record.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
            .bind(record.created_at)
            .bind(record.expires_at)
            .bind(record.revoked)
            .bind(rate_columns(record.rate_limit).0)
            .bind(rate_columns(record.rate_limit).1)
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;
            commit(txn, &writing, Aggregate::Keys).await?;
            Ok(true)
        })
        .await
    }

    async fn delete_key(&self, id: String) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            delete_logged(&pool, &writing, Aggregate::Keys, id).await
        })
        .await
    }

    async fn get_key(&self, id: String) -> Result<Option<KeyRecord>, StoreError> {
        self.run(move |pool, _| async move {
            let mut conn = pool.acquire().await.map_err(store_error)?;
            read_key(&mut conn, &id, false).await
        })
        .await
    }

    async fn count_keys(&self) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move { count(&pool, Aggregate::Keys).await }).await
    }

    async fn key_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<KeyChange>, StoreError> {
        self.run(move |pool, _| async move {
            let keys = Aggregate::Keys;
            changes_after(&pool, SELECT, keys, cursor, limit, key_of, |r| r.id.clone()).await
        })
        .await
    }
}
