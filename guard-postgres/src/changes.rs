//! The change log of keys, users and issued credentials in PostgreSQL: every write gives the
//! record the next number of the `changes` sequence (a deletion leaves a row in `deletions`),
//! so a follower reads "every change after N" from the live rows and the deletions.
//!
//! A number must never commit after a higher one that a follower may already have read, or
//! the follower would skip it for good. So the writers of one aggregate take turns: each
//! writing transaction first takes the aggregate's transaction-scoped advisory lock, and
//! only then draws its numbers, which therefore commit in order. Writes are rare (admin
//! changes, logins, a session's use once a minute); taking turns costs them nothing that
//! matters, and nobody reading waits.

use compact_str::CompactString;
use guard_core::store::{Change, Changes, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::Writing;
use crate::error::store_error;

/// What a change log is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Keys = 1,
    Users = 2,
    Issued = 3,
}

impl Aggregate {
    fn name(self) -> &'static str {
        match self {
            Aggregate::Keys => "keys",
            Aggregate::Users => "users",
            Aggregate::Issued => "issued",
        }
    }

    /// Its table.
    fn table(self) -> &'static str {
        match self {
            Aggregate::Keys => "api_keys",
            Aggregate::Users => "users",
            Aggregate::Issued => "issued",
        }
    }

    /// Its code in `deletions`.
    pub(crate) fn code(self) -> i16 {
        self as i16
    }

    /// The advisory lock of this aggregate in `schema` (FNV-1a of both names).
    fn lock_key(self, schema: &str) -> i64 {
        let seed = format!("guard {schema} {}", self.name());
        let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        i64::from_ne_bytes(hash.to_ne_bytes())
    }
}

/// A transaction holding `aggregate`'s write turn.
pub(crate) async fn turn(
    pool: &PgPool,
    writing: &Writing,
    aggregate: Aggregate,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut txn = pool.begin().await.map_err(store_error)?;
    take_turn(&mut txn, writing, aggregate).await?;
    Ok(txn)
}

/// Takes `aggregate`'s write turn in a transaction already begun.
pub(crate) async fn take_turn(
    conn: &mut PgConnection,
    writing: &Writing,
    aggregate: Aggregate,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(aggregate.lock_key(&writing.schema))
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Tells the other instances that `aggregate` changed (delivered when the transaction
/// commits, and only then).
pub(crate) async fn notify(
    conn: &mut PgConnection,
    writing: &Writing,
    aggregate: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(&*writing.channel)
        .bind(aggregate)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Notifies and commits a write of `aggregate`.
pub(crate) async fn commit(
    mut txn: Transaction<'static, Postgres>,
    writing: &Writing,
    aggregate: Aggregate,
) -> Result<(), StoreError> {
    notify(&mut txn, writing, aggregate.name()).await?;
    txn.commit().await.map_err(store_error)
}

/// Leaves the deletions of `ids` in the log, numbered like any change; each with the time
/// after which it may be forgotten, if it may.
pub(crate) async fn record_deletions(
    conn: &mut PgConnection,
    aggregate: Aggregate,
    ids: &[String],
    kept_until: &[Option<i64>],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deletions (aggregate, id, seq, kept_until)
         SELECT $1, id, nextval('changes'), kept_until
         FROM unnest($2::text[], $3::bigint[]) AS d(id, kept_until)
         ON CONFLICT (aggregate, id)
         DO UPDATE SET seq = excluded.seq, kept_until = excluded.kept_until",
    )
    .bind(aggregate.code())
    .bind(ids)
    .bind(kept_until)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Forgets the deletions of ids that live again (an id reused by an insert).
pub(crate) async fn forget_deletions(
    conn: &mut PgConnection,
    aggregate: Aggregate,
    ids: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM deletions WHERE aggregate = $1 AND id = ANY($2)")
        .bind(aggregate.code())
        .bind(ids)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// A read-only transaction whose statements all see one snapshot: a page of changes read in
/// two statements (live rows, deletions) must not see a change the other missed, or a
/// follower would move its cursor past it.
async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut txn = pool.begin().await.map_err(store_error)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *txn)
        .await
        .map_err(store_error)?;
    Ok(txn)
}

/// The deletions after `cursor`, oldest first, at most `limit`.
async fn deletions(
    conn: &mut PgConnection,
    aggregate: Aggregate,
    cursor: u64,
    limit: usize,
) -> Result<Vec<(u64, CompactString)>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, id FROM deletions WHERE aggregate = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(aggregate.code())
    .bind(seq_param(cursor))
    .bind(limit_param(limit))
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    Ok(rows.into_iter().map(|(seq, id)| (seq_of(seq), id.into())).collect())
}

/// The first `limit` changes of the live rows (by number) and the deletions together.
fn merge<R>(
    live: Vec<(u64, R)>,
    deleted: Vec<(u64, CompactString)>,
    cursor: u64,
    limit: usize,
    id_of: impl Fn(&R) -> CompactString,
) -> Changes<Change<R>> {
    let mut changes: Vec<Change<R>> = live
        .into_iter()
        .map(|(seq, record)| Change { seq, id: id_of(&record), record: Some(record) })
        .chain(deleted.into_iter().map(|(seq, id)| Change { seq, id, record: None }))
        .collect();
    changes.sort_unstable_by_key(|change| change.seq);
    changes.truncate(limit);
    let cursor = changes.last().map_or(cursor, |change| change.seq);
    Changes { changes, cursor }
}

/// How many records of `aggregate` there are.
pub(crate) async fn count(pool: &PgPool, aggregate: Aggregate) -> Result<u64, StoreError> {
    let sql = format!("SELECT count(*) FROM {}", aggregate.table());
    let count: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.map_err(store_error)?;
    Ok(seq_of(count))
}

/// Deletes the record `id` of `aggregate`, leaving its deletion in the log for good; `false`
/// if there is none.
pub(crate) async fn delete_logged(
    pool: &PgPool,
    writing: &Writing,
    aggregate: Aggregate,
    id: String,
) -> Result<bool, StoreError> {
    let mut txn = turn(pool, writing, aggregate).await?;
    let sql = format!("DELETE FROM {} WHERE id = $1", aggregate.table());
    let deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&id)
        .execute(&mut *txn)
        .await
        .map_err(store_error)?
        .rows_affected();
    if deleted == 0 {
        return Ok(false);
    }
    record_deletions(&mut txn, aggregate, &[id], &[None]).await?;
    commit(txn, writing, aggregate).await?;
    Ok(true)
}

/// Up to `limit` changes of `aggregate` after `cursor`: its live rows, read by `select`
/// (ending in `FROM <table>`) and decoded by `decode`, and its deletions, from one snapshot.
pub(crate) async fn changes_after<R>(
    pool: &PgPool,
    select: &str,
    aggregate: Aggregate,
    cursor: u64,
    limit: usize,
    decode: impl Fn(&PgRow) -> Result<(u64, R), StoreError>,
    id_of: impl Fn(&R) -> CompactString,
) -> Result<Changes<Change<R>>, StoreError> {
    let mut txn = snapshot(pool).await?;
    let sql = format!("{select} WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(seq_param(cursor))
        .bind(limit_param(limit))
        .fetch_all(&mut *txn)
        .await
        .map_err(store_error)?;
    let live = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    let deleted = deletions(&mut txn, aggregate, cursor, limit).await?;
    txn.commit().await.map_err(store_error)?;
    Ok(merge(live, deleted, cursor, limit, id_of))
}

/// A cursor as a query parameter.
fn seq_param(cursor: u64) -> i64 {
    i64::try_from(cursor).unwrap_or(i64::MAX)
}

/// A page size as a query parameter.
pub(crate) fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A stored sequence number (always positive).
pub(crate) fn seq_of(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}
