//! Sessions and bearer tokens in PostgreSQL.

use guard_core::clock::{DAY, Timestamp};
use guard_core::credentials::issued::IssuedKind;
use guard_core::store::{Changes, IssuedChange, IssuedRecord, IssuedStore, StoreError};
use guard_core::usage::CredentialKind;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::PostgresStore;
use crate::changes::{
    Aggregate, changes_after, commit, count, forget_deletions, record_deletions, seq_of, turn,
};
use crate::error::store_error;
use crate::keys::hash_of;
use crate::usage::forget_usage;

/// The deletion of a session or token stays for other instances to see until a day after
/// the credential would have expired anyway: one that missed it has dropped it by then.
const DELETIONS_KEPT: i64 = DAY;

/// An issued credential's kind, stored as its code.
pub(crate) fn kind_code(kind: CredentialKind) -> i16 {
    i16::from(kind.code())
}

/// The kind of the code stored, which must be one a user is issued.
fn kind_of(code: i16) -> Result<CredentialKind, StoreError> {
    u8::try_from(code)
        .ok()
        .and_then(CredentialKind::from_code)
        .filter(|kind| IssuedKind::of(*kind).is_some())
        .ok_or_else(|| StoreError::Damaged(format!("an issued credential of kind {code}")))
}

const SELECT: &str = "SELECT seq, id, kind, hash, user_id, user_generation, created_at,
    authenticated_at, expires_at, idle_timeout, revoked, last_seen_at FROM issued";

fn issued_of(row: &PgRow) -> Result<(u64, IssuedRecord), StoreError> {
    let damaged = |e: sqlx::Error| StoreError::Damaged(e.to_string());
    let id: String = row.try_get(1).map_err(damaged)?;
    let hash = hash_of(row.try_get::<&[u8], _>(3).map_err(damaged)?, &id)?;
    let record = IssuedRecord {
        kind: kind_of(row.try_get(2).map_err(damaged)?)?,
        hash,
        user_id: row.try_get::<String, _>(4).map_err(damaged)?.into(),
        user_generation: u32::try_from(row.try_get::<i64, _>(5).map_err(damaged)?)
            .unwrap_or(u32::MAX),
        created_at: row.try_get(6).map_err(damaged)?,
        authenticated_at: row.try_get(7).map_err(damaged)?,
        expires_at: row.try_get(8).map_err(damaged)?,
        idle_timeout: row.try_get(9).map_err(damaged)?,
        revoked: row.try_get(10).map_err(damaged)?,
        last_seen_at: row.try_get(11).map_err(damaged)?,
        id: id.into(),
    };
    Ok((seq_of(row.try_get(0).map_err(damaged)?), record))
}

async fn read_issued(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<IssuedRecord>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(|row| issued_of(&row).map(|(_, record)| record)).transpose()
}

impl IssuedStore for PostgresStore {
    async fn insert_issued(&self, record: IssuedRecord) -> Result<(), StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Issued).await?;
            if read_issued(&mut txn, &record.id).await?.is_some() {
                return Err(StoreError::DuplicateId(record.id.to_string()));
            }
            sqlx::query(
                "INSERT INTO issued (seq, id, kind, hash, user_id, user_generation, created_at,
                 authenticated_at, expires_at, idle_timeout, revoked, last_seen_at)
                 VALUES (nextval('changes'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(record.id.as_str())
            .bind(kind_code(record.kind))
            .bind(record.hash.as_slice())
            .bind(record.user_id.as_str())
            .bind(i64::from(record.user_generation))
            .bind(record.created_at)
            .bind(record.authenticated_at)
            .bind(record.expires_at)
            .bind(record.idle_timeout)
            .bind(record.revoked)
            .bind(record.last_seen_at)
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;
            forget_deletions(&mut txn, Aggregate::Issued, &[record.id.to_string()]).await?;
            commit(txn, &writing, Aggregate::Issued).await
        })
        .await
    }

    async fn delete_issued(&self, id: String, at: Timestamp) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Issued).await?;
            let expires_at: Option<i64> =
                sqlx::query_scalar("DELETE FROM issued WHERE id = $1 RETURNING expires_at")
                    .bind(&id)
                    .fetch_optional(&mut *txn)
                    .await
                    .map_err(store_error)?;
            let Some(expires_at) = expires_at else { return Ok(false) };
            let kept_until = [Some(at.max(expires_at))];
            record_deletions(&mut txn, Aggregate::Issued, &[id], &kept_until).await?;
            commit(txn, &writing, Aggregate::Issued).await?;
            Ok(true)
        })
        .await
    }

    async fn delete_issued_to(&self, user_id: String, at: Timestamp) -> Result<u64, StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Issued).await?;
            let deleted: Vec<(String, i64)> =
                sqlx::query_as("DELETE FROM issued WHERE user_id = $1 RETURNING id, expires_at")
                    .bind(&user_id)
                    .fetch_all(&mut *txn)
                    .await
                    .map_err(store_error)?;
            if deleted.is_empty() {
                return Ok(0);
            }
            let (ids, kept_until): (Vec<String>, Vec<Option<i64>>) =
                deleted.into_iter().map(|(id, expires_at)| (id, Some(at.max(expires_at)))).unzip();
            record_deletions(&mut txn, Aggregate::Issued, &ids, &kept_until).await?;
            commit(txn, &writing, Aggregate::Issued).await?;
            Ok(ids.len() as u64)
        })
        .await
    }

    async fn get_issued(&self, id: String) -> Result<Option<IssuedRecord>, StoreError> {
        self.run(move |pool, _| async move {
            let mut conn = pool.acquire().await.map_err(store_error)?;
            read_issued(&mut conn, &id).await
        })
        .await
    }

    async fn count_issued(&self) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move { count(&pool, Aggregate::Issued).await }).await
    }

    async fn issued_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<IssuedChange>, StoreError> {
        self.run(move |pool, _| async move {
            let issued = Aggregate::Issued;
            changes_after(&pool, SELECT, issued, cursor, limit, issued_of, |r| r.id.clone()).await
        })
        .await
    }

    async fn prune_issued(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;
            let expired: Vec<String> =
                sqlx::query_scalar("DELETE FROM issued WHERE expires_at < $1 RETURNING id")
                    .bind(before)
                    .fetch_all(&mut *txn)
                    .await
                    .map_err(store_error)?;
            let kinds = IssuedKind::ALL.map(|kind| kind_code(kind.credential_kind()));
            forget_usage(&mut txn, &kinds, &expired).await?;
            sqlx::query("DELETE FROM deletions WHERE aggregate = $1 AND kept_until < $2")
                .bind(Aggregate::Issued.code())
                .bind(before.saturating_sub(DELETIONS_KEPT))
                .execute(&mut *txn)
                .await
                .map_err(store_error)?;
            txn.commit().await.map_err(store_error)?;
            Ok(expired.len() as u64)
        })
        .await
    }
}
