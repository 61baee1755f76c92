//! A PostgreSQL for tests (feature `testing`): the database `GUARD_TEST_POSTGRES` names, with
//! a fresh schema for each store, dropped when the [`TestDatabase`] is.
//!
//! Without `GUARD_TEST_POSTGRES`, a test is skipped and says so on stderr; with
//! `GUARD_REQUIRE_POSTGRES` set as well (CI does), a skip is a failure instead, so that CI
//! never passes without having run them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::{PostgresConfig, PostgresStore};

/// The database to test against, if there is one.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    schemas: Mutex<Vec<String>>,
}

/// The database tests run against, or `None` (after saying why) where there is none.
///
/// # Panics
///
/// Without `GUARD_TEST_POSTGRES` where `GUARD_REQUIRE_POSTGRES` is set: CI must not skip.
pub fn database(test: &str) -> Option<TestDatabase> {
    let Some(url) = std::env::var("GUARD_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else {
        assert!(
            std::env::var_os("GUARD_REQUIRE_POSTGRES").is_none(),
            "{test}: GUARD_REQUIRE_POSTGRES is set, but GUARD_TEST_POSTGRES names no database"
        );
        eprintln!(
            "SKIPPED {test}: no PostgreSQL to test against; set GUARD_TEST_POSTGRES=postgres://… \
             (a role that may create schemas) to run it"
        );
        return None;
    };
    Some(TestDatabase { url, schemas: Mutex::new(Vec::new()) })
}

impl TestDatabase {
    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A schema no other test uses (created by the first store that opens it).
    pub fn fresh_schema(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!("test_{}_{nanos}_{n}", std::process::id());
        self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(schema.clone());
        schema
    }

    /// Runs `sql` as the test database's owner (to end connections, to fake a newer schema).
    ///
    /// # Panics
    ///
    /// If it fails.
    pub fn execute(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_owned();
        // On a runtime of its own: the caller's may not be tokio's.
        let done = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn =
                    sqlx::PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            })
        });
        match done.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("the statement failed: {error}"),
            Err(_) => panic!("the statement's thread panicked"),
        }
    }

    /// What `sql`, a query of one boolean, answers (`false` for none or NULL).
    ///
    /// # Panics
    ///
    /// If it fails.
    pub fn ask(&self, sql: &str) -> bool {
        let url = self.url.clone();
        let sql = sql.to_owned();
        let done = std::thread::spawn(move || -> Result<bool, String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn =
                    sqlx::PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                let answer: Option<Option<bool>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_optional(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(answer.flatten().unwrap_or(false))
            })
        });
        match done.join() {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => panic!("the query failed: {error}"),
            Err(_) => panic!("the query's thread panicked"),
        }
    }

    /// The configuration of a store in `schema`.
    pub fn config(&self, schema: &str) -> PostgresConfig {
        PostgresConfig::default().schema(schema).pool_size(4)
    }

    /// A store in a fresh schema.
    ///
    /// # Panics
    ///
    /// If the database cannot be opened.
    pub async fn fresh_store(&self) -> PostgresStore {
        let schema = self.fresh_schema();
        self.store(&schema).await
    }

    /// A store in `schema` (another one on the same data, as a second instance opens it).
    ///
    /// # Panics
    ///
    /// If the database cannot be opened.
    pub async fn store(&self, schema: &str) -> PostgresStore {
        match PostgresStore::connect(&self.url, self.config(schema)).await {
            Ok(store) => store,
            Err(error) => panic!("the test database cannot be opened: {error}"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let schemas = std::mem::take(
            &mut *self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if schemas.is_empty() {
            return;
        }
        let url = self.url.clone();
        // On a thread of its own: a test's runtime may be the one dropping this.
        let dropped = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
                for schema in schemas {
                    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                }
                Some(())
            })
        });
        let _ = dropped.join();
    }
}
