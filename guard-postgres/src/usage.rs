//! Usage in PostgreSQL: counters and rollups added to (never overwritten, so every
//! instance's own counts add up), the last requests of each credential by time, and a
//! session's last use written into its record for the other instances' idle clocks.

use guard_core::clock::Timestamp;
use guard_core::store::{MarkAdvance, StoreError, UsageStore};
use guard_core::usage::{
    Counters, CredentialKind, RecentUse, RequestMethod, Rollup, Subject, UsageBatch, UsageOutcome,
};
use sqlx::{PgConnection, Row};

use crate::PostgresStore;
use crate::changes::{Aggregate, limit_param, notify, take_turn};
use crate::error::store_error;

/// Keeps only the usage of credentials that still exist: an API key (kind 1), or a session
/// or token.
const EXISTS: &str = "CASE WHEN u.kind = 1
    THEN EXISTS (SELECT 1 FROM api_keys k WHERE k.id = u.id)
    ELSE EXISTS (SELECT 1 FROM issued i WHERE i.id = u.id) END";

fn code(kind: CredentialKind) -> i16 {
    i16::from(kind.code())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn damaged(what: &str) -> StoreError {
    StoreError::Damaged(format!("a stored {what} code is unknown"))
}

/// Forgets all usage of the credentials `ids` of the kinds `kinds`, in the caller's
/// transaction.
pub(crate) async fn forget_usage(
    conn: &mut PgConnection,
    kinds: &[i16],
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    for table in ["usage_counters", "usage_rollups", "usage_recent"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE kind = ANY($1) AND id = ANY($2)"
        )))
        .bind(kinds)
        .bind(ids)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

/// Moves sessions' `last_seen_at` forward (each a change other instances follow).
async fn touch_sessions(
    conn: &mut PgConnection,
    batch: &UsageBatch,
    writing: &crate::Writing,
) -> Result<(), StoreError> {
    let (ids, seen): (Vec<&str>, Vec<i64>) = batch
        .subjects
        .iter()
        .filter(|s| s.subject.kind == CredentialKind::Session)
        .filter_map(|s| Some((s.subject.id.as_str(), s.counters.last_used_at?)))
        .unzip();
    if ids.is_empty() {
        return Ok(());
    }
    take_turn(conn, writing, Aggregate::Issued).await?;
    let touched = sqlx::query(
        "UPDATE issued SET last_seen_at = s.at, seq = nextval('changes')
         FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::bigint[]) AS s(id, at)
               GROUP BY id) AS s
         WHERE issued.id = s.id AND issued.idle_timeout IS NOT NULL
           AND (issued.last_seen_at IS NULL OR issued.last_seen_at < s.at)",
    )
    .bind(ids)
    .bind(seen)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?
    .rows_affected();
    if touched > 0 {
        notify(conn, writing, "issued").await?;
    }
    Ok(())
}

impl UsageStore for PostgresStore {
    async fn apply_usage(&self, batch: UsageBatch) -> Result<(), StoreError> {
        self.run(move |pool, writing| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;

            let subjects = &batch.subjects;
            let kinds: Vec<i16> = subjects.iter().map(|s| code(s.subject.kind)).collect();
            let ids: Vec<&str> = subjects.iter().map(|s| s.subject.id.as_str()).collect();
            let uses: Vec<i64> = subjects.iter().map(|s| count(s.counters.uses)).collect();
            let last: Vec<Option<i64>> = subjects.iter().map(|s| s.counters.last_used_at).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO usage_counters (kind, id, uses, last_used_at)
                 SELECT u.kind, u.id, sum(u.uses)::bigint, max(u.last)
                 FROM unnest($1::smallint[], $2::text[], $3::bigint[], $4::bigint[])
                      AS u(kind, id, uses, last)
                 WHERE {EXISTS}
                 GROUP BY u.kind, u.id
                 ORDER BY u.kind, u.id
                 ON CONFLICT (kind, id) DO UPDATE
                 SET uses = usage_counters.uses + excluded.uses,
                     last_used_at = greatest(usage_counters.last_used_at, excluded.last_used_at)"
            )))
            .bind(&kinds)
            .bind(&ids)
            .bind(&uses)
            .bind(&last)
            .execute(&mut *txn)
            .await
            .map_err(store_error)?;

            let rollups: Vec<(i16, &str, &Rollup)> = subjects
                .iter()
                .flat_map(|s| s.rollups.iter().map(|r| (code(s.subject.kind), s.subject.id.as_str(), r)))
                .collect();
            if !rollups.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO usage_rollups (kind, id, minute, route, method, outcome, count)
                     SELECT u.kind, u.id, u.minute, u.route, u.method, u.outcome, sum(u.count)::bigint
                     FROM unnest($1::smallint[], $2::text[], $3::bigint[], $4::text[],
                                 $5::smallint[], $6::smallint[], $7::bigint[])
                          AS u(kind, id, minute, route, method, outcome, count)
                     WHERE {EXISTS}
                     GROUP BY u.kind, u.id, u.minute, u.route, u.method, u.outcome
                     ORDER BY u.kind, u.id, u.minute, u.route, u.method, u.outcome
                     ON CONFLICT (kind, id, minute, route, method, outcome) DO UPDATE
                     SET count = usage_rollups.count + excluded.count"
                )))
                .bind(rollups.iter().map(|r| r.0).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| r.1).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| r.2.minute).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| r.2.route.as_str()).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| i16::from(r.2.method.code())).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| i16::from(r.2.outcome.code())).collect::<Vec<_>>())
                .bind(rollups.iter().map(|r| count(r.2.count)).collect::<Vec<_>>())
                .execute(&mut *txn)
                .await
                .map_err(store_error)?;
            }

            let recent: Vec<(i16, &str, &RecentUse)> = subjects
                .iter()
                .flat_map(|s| s.recent.iter().map(|r| (code(s.subject.kind), s.subject.id.as_str(), r)))
                .collect();
            if !recent.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO usage_recent (kind, id, n, at, method, outcome, route)
                     SELECT u.kind, u.id, u.n, u.at, u.method, u.outcome, u.route
                     FROM unnest($1::smallint[], $2::text[], $3::bigint[], $4::bigint[],
                                 $5::smallint[], $6::smallint[], $7::text[])
                          AS u(kind, id, n, at, method, outcome, route)
                     WHERE {EXISTS}"
                )))
                .bind(recent.iter().map(|r| r.0).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| r.1).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| count(r.2.n)).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| r.2.at).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| i16::from(r.2.method.code())).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| i16::from(r.2.outcome.code())).collect::<Vec<_>>())
                .bind(recent.iter().map(|r| r.2.route.as_str()).collect::<Vec<_>>())
                .execute(&mut *txn)
                .await
                .map_err(store_error)?;
                // Keep each credential's newest, by time, then by use.
                sqlx::query(
                    "DELETE FROM usage_recent WHERE row_id IN (
                         SELECT row_id FROM (
                             SELECT row_id, row_number() OVER (
                                 PARTITION BY kind, id ORDER BY at DESC, n DESC) AS rank
                             FROM usage_recent
                             WHERE (kind, id) IN (
                                 SELECT * FROM unnest($1::smallint[], $2::text[]))
                         ) AS ranked
                         WHERE rank > $3)",
                )
                .bind(&kinds)
                .bind(&ids)
                .bind(i64::from(batch.recent_capacity.max(1)))
                .execute(&mut *txn)
                .await
                .map_err(store_error)?;
            }
            // Last, so that the turn it takes (other instances' logins wait for it) is held
            // for as short a time as can be.
            touch_sessions(&mut txn, &batch, &writing).await?;
            txn.commit().await.map_err(store_error)
        })
        .await
    }

    async fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        self.run(move |pool, _| async move {
            let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT id, uses, last_used_at FROM usage_counters
                 WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(code(kind))
            .bind(after.unwrap_or_default())
            .bind(limit_param(limit))
            .fetch_all(&pool)
            .await
            .map_err(store_error)?;
            Ok(counters_of_rows(rows))
        })
        .await
    }

    async fn counters_of(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        self.run(move |pool, _| async move {
            let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT id, uses, last_used_at FROM usage_counters WHERE kind = $1 AND id = ANY($2)",
            )
            .bind(code(kind))
            .bind(ids)
            .fetch_all(&pool)
            .await
            .map_err(store_error)?;
            Ok(counters_of_rows(rows))
        })
        .await
    }

    async fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> Result<Vec<RecentUse>, StoreError> {
        self.run(move |pool, _| async move {
            let rows = sqlx::query(
                "SELECT n, at, method, outcome, route FROM usage_recent
                 WHERE kind = $1 AND id = $2 ORDER BY at DESC, n DESC LIMIT $3",
            )
            .bind(code(subject.kind))
            .bind(&subject.id)
            .bind(limit_param(limit))
            .fetch_all(&pool)
            .await
            .map_err(store_error)?;
            rows.iter()
                .map(|row| {
                    let read = || -> Result<_, sqlx::Error> {
                        Ok((
                            row.try_get::<i64, _>(0)?,
                            row.try_get::<i64, _>(1)?,
                            row.try_get::<i16, _>(2)?,
                            row.try_get::<i16, _>(3)?,
                            row.try_get::<String, _>(4)?,
                        ))
                    };
                    let (n, at, method, outcome, route) =
                        read().map_err(|e| StoreError::Damaged(e.to_string()))?;
                    Ok(RecentUse {
                        n: u64::try_from(n).unwrap_or(0),
                        at,
                        method: method_of(method)?,
                        outcome: outcome_of(outcome)?,
                        route,
                    })
                })
                .collect()
        })
        .await
    }

    async fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        self.run(move |pool, _| async move {
            if from >= until {
                return Ok(Vec::new());
            }
            let rows: Vec<(i64, String, i16, i16, i64)> = sqlx::query_as(
                "SELECT minute, route, method, outcome, count FROM usage_rollups
                 WHERE kind = $1 AND id = $2 AND minute >= $3 AND minute < $4
                 ORDER BY minute, route, method, outcome",
            )
            .bind(code(subject.kind))
            .bind(&subject.id)
            .bind(from)
            .bind(until)
            .fetch_all(&pool)
            .await
            .map_err(store_error)?;
            rows.into_iter()
                .map(|(minute, route, method, outcome, count)| {
                    Ok(Rollup {
                        minute,
                        route,
                        method: method_of(method)?,
                        outcome: outcome_of(outcome)?,
                        count: u64::try_from(count).unwrap_or(0),
                    })
                })
                .collect()
        })
        .await
    }

    async fn delete_usage(&self, subject: Subject) -> Result<(), StoreError> {
        self.run(move |pool, _| async move {
            let mut txn = pool.begin().await.map_err(store_error)?;
            forget_usage(&mut txn, &[code(subject.kind)], &[subject.id]).await?;
            txn.commit().await.map_err(store_error)
        })
        .await
    }

    async fn advance_marks(&self, advances: Vec<MarkAdvance>) -> Result<Vec<i64>, StoreError> {
        if advances.is_empty() {
            return Ok(Vec::new());
        }
        self.run(move |pool, _| async move {
            let mut columns: (Vec<String>, Vec<i64>, Vec<i64>, Vec<i64>) = Default::default();
            for advance in advances {
                columns.0.push(advance.name);
                columns.1.push(advance.at);
                columns.2.push(advance.add);
                columns.3.push(advance.cap);
            }
            // One statement, each mark moved in place (in name order, so that two instances
            // moving the same marks never wait on each other in a circle).
            let marks: Vec<(i64, i64)> = sqlx::query_as(
                "WITH asked AS (
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
                         WITH ORDINALITY AS a(name, at, add, cap, n)
                 ), moved AS (
                     INSERT INTO marks (name, mark)
                     SELECT name, least(at + add, at + cap) FROM asked ORDER BY name
                     ON CONFLICT (name) DO UPDATE SET mark = greatest(
                         marks.mark,
                         least(
                             greatest(marks.mark, (SELECT at FROM asked WHERE asked.name = excluded.name))
                                 + (SELECT add FROM asked WHERE asked.name = excluded.name),
                             (SELECT at + cap FROM asked WHERE asked.name = excluded.name)))
                     RETURNING name, mark
                 )
                 SELECT asked.n, moved.mark FROM asked JOIN moved ON moved.name = asked.name
                 ORDER BY asked.n",
            )
            .bind(&columns.0)
            .bind(&columns.1)
            .bind(&columns.2)
            .bind(&columns.3)
            .fetch_all(&pool)
            .await
            .map_err(store_error)?;
            Ok(marks.into_iter().map(|(_, mark)| mark).collect())
        })
        .await
    }

    async fn prune_usage(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |pool, _| async move {
            let pruned = sqlx::query("DELETE FROM usage_rollups WHERE minute < $1")
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

/// Counter rows `(id, uses, last used)` as counters.
fn counters_of_rows(rows: Vec<(String, i64, Option<i64>)>) -> Vec<(String, Counters)> {
    rows.into_iter()
        .map(|(id, uses, last)| {
            let uses = u64::try_from(uses).unwrap_or(0);
            (id, Counters { uses, last_used_at: last })
        })
        .collect()
}

fn method_of(code: i16) -> Result<RequestMethod, StoreError> {
    u8::try_from(code).ok().and_then(RequestMethod::from_code).ok_or_else(|| damaged("method"))
}

fn outcome_of(code: i16) -> Result<UsageOutcome, StoreError> {
    u8::try_from(code).ok().and_then(UsageOutcome::from_code).ok_or_else(|| damaged("outcome"))
}
