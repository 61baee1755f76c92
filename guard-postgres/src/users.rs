//! Users in PostgreSQL: names unique by their normalized form (a constraint, so that two
//! instances creating one name at once cannot both succeed), updates conditional.

use guard_core::store::{Changes, StoreError, UserChange, UserRecord, UserStore};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};

use crate::PostgresStore;
use crate::changes::{
    Aggregate, changes_after, commit, count, delete_logged, forget_deletions, seq_of, turn,
};
use crate::error::{store_error, violates};
use crate::keys::{rate_columns, rate_limit_of, roles_of};

/// The constraint that keeps names unique.
const NAME_UNIQUE: &str = "users_name_unique";

fn user_of(row: &PgRow) -> Result<(u64, UserRecord), StoreError> {
    let read = || -> Result<_, sqlx::Error> {
        Ok((
            row.try_get::<i64, _>(0)?,
            UserRecord {
                id: row.try_get::<String, _>(1)?.into(),
                name: row.try_get::<String, _>(2)?.into(),
                normalized: row.try_get::<String, _>(3)?.into(),
                password: row.try_get(4)?,
                roles: roles_of(row.try_get(5)?),
                disabled: row.try_get(6)?,
                created_at: row.try_get(7)?,
                updated_at: row.try_get(8)?,
                generation: u32::try_from(row.try_get::<i64, _>(9)?).unwrap_or(u32::MAX),
                rate_limit: None,
            },
            (row.try_get::<Option<i32>, _>(10)?, row.try_get::<Option<i32>, _>(11)?),
        ))
    };
    let (seq, mut record, rate) = read().map_err(|e| StoreError::Damaged(e.to_string()))?;
    record.rate_limit = rate_limit_of(rate.0, rate.1, &record.id)?;
    Ok((seq_of(seq), record))
}

const SELECT: &str = "SELECT seq, id, name, normalized, password, roles, disabled, created_at,
    updated_at, generation, rate_requests, rate_per_seconds FROM users";

async fn read_user(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = if lock {
        format!("{SELECT} WHERE id = $1 FOR UPDATE")
    } else {
        format!("{SELECT} WHERE id = $1")
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(|row| user_of(&row).map(|(_, record)| record)).transpose()
}

/// `query` with a user's columns bound as `$1` to `$11`: id, name, normalized, password,
/// roles, disabled, created, updated, generation, and the rate limit's two numbers.
fn with_user<'q>(
    query: Query<'q, Postgres, PgArguments>,
    record: &'q UserRecord,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(record.id.as_str())
        .bind(record.name.as_str())
        .bind(record.normalized.as_str())
        .bind(&record.password)
        .bind(record.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
        .bind(record.disabled)
        .bind(record.created_at)
        .bind(record.updated_at)
        .bind(i64::from(record.generation))
        .bind(rate_columns(record.rate_limit).0)
        .bind(rate_columns(record.rate_limit).1)
}

/// A failed write of a user: a name taken, or what else it was.
fn write_error(error: sqlx::Error) -> StoreError {
    if violates(&error, NAME_UNIQUE) { StoreError::NameTaken } else { store_error(error) }
}

impl UserStore for PostgresStore {
    async fn insert_user(&self, record: UserRecord) -> Result<(), StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Users).await?;
            if read_user(&mut txn, &record.id, false).await?.is_some() {
                return Err(StoreError::DuplicateId(record.id.to_string()));
            }
            let insert = sqlx::query(
                "INSERT INTO users (seq, id, name, normalized, password, roles, disabled,
                 created_at, updated_at, generation, rate_requests, rate_per_seconds)
                 VALUES (nextval('changes'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            );
            with_user(insert, &record).execute(&mut *txn).await.map_err(write_error)?;
            forget_deletions(&mut txn, Aggregate::Users, &[record.id.to_string()]).await?;
            commit(txn, &writing, Aggregate::Users).await
        })
        .await
    }

    async fn update_user(
        &self,
        expected: UserRecord,
        record: UserRecord,
    ) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = turn(&pool, &writing, Aggregate::Users).await?;
            let Some(stored) = read_user(&mut txn, &record.id, true).await? else {
                return Ok(false);
            };
            if stored != expected {
                return Err(StoreError::Changed);
            }
            let update = sqlx::query(
                "UPDATE users SET seq = nextval('changes'), name = $2, normalized = $3,
                 password = $4, roles = $5, disabled = $6, created_at = $7, updated_at = $8,
                 generation = $9, rate_requests = $10, rate_per_seconds = $11 WHERE id = $1",
            );
            with_user(update, &record).execute(&mut *txn).await.map_err(write_error)?;
            commit(txn, &writing, Aggregate::Users).await?;
            Ok(true)
        })
        .await
    }

    async fn delete_user(&self, id: String) -> Result<bool, StoreError> {
        self.run(move |pool, writing| async move {
            delete_logged(&pool, &writing, Aggregate::Users, id).await
        })
        .await
    }

    async fn get_user(&self, id: String) -> Result<Option<UserRecord>, StoreError> {
        self.run(move |pool, _| async move {
            let mut conn = pool.acquire().await.map_err(store_error)?;
            read_user(&mut conn, &id, false).await
        })
        .await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move { count(&pool, Aggregate::Users).await }).await
    }

    async fn user_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<UserChange>, StoreError> {
        self.run(move |pool, _| async move {
            let users = Aggregate::Users;
            changes_after(&pool, SELECT, users, cursor, limit, user_of, |r| r.id.clone()).await
        })
        .await
    }
}
