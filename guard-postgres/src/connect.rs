//! Connecting: the runtime, the pool (with retries while the database cannot be reached),
//! the schema and its migrations, the listener.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use guard_core::store::{ChangeSignal, StoreError};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};

use crate::config::{PostgresConfig, redacted, valid_schema};
use crate::error::is_unavailable;
use crate::{Inner, OwnRuntime, PostgresStore, listen};

/// The migrations this build knows: their versions are the store's schema versions.
static MIGRATIONS: Migrator = sqlx::migrate!();

/// The longest wait between two start-up attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(crate) async fn connect(
    url: &str,
    config: PostgresConfig,
) -> Result<PostgresStore, StoreError> {
    let location = redacted(url);
    let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
        location: location.clone(),
        source,
    };
    if !valid_schema(&config.schema) {
        let message = format!("`{}` is not a schema name guard uses", config.schema);
        return Err(open_error(message.into()));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| open_error(format!("not a PostgreSQL URL ({e})").into()))?
        .application_name(&config.application_name)
        .options([
            ("search_path", config.schema.as_str()),
            ("statement_timeout", &config.statement_timeout.as_millis().to_string()),
            // Notices ("schema already exists, skipping") are no news for an operator.
            ("client_min_messages", "warning"),
        ]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("guard-postgres")
        .enable_all()
        .build()
        .map_err(|e| open_error(Box::new(e)))?;
    let runtime = OwnRuntime::new(runtime);
    let Some(spawner) = runtime.get() else { return Err(open_error("no runtime".into())) };
    let signal = Arc::new(ChangeSignal::new());
    let channel: Arc<str> = format!("guard_{}", config.schema).into();
    let started = {
        let (config, options, location) = (config.clone(), options.clone(), location.clone());
        let (signal, channel) = (Arc::clone(&signal), Arc::clone(&channel));
        spawner.spawn(async move {
            let pool = pool_with_retries(&config, options, &location).await?;
            if config.existing_only {
                check_prepared(&pool, &config.schema, &location).await?;
            } else {
                prepare(&pool, &config.schema, &location).await?;
            }
            listen::start(pool.clone(), channel, signal, &location).await?;
            Ok::<_, StoreError>(pool)
        })
    };
    let pool = started.await.map_err(|e| open_error(Box::new(e)))??;
    tracing::info!(database = %location, schema = %config.schema, "connected to PostgreSQL");
    Ok(PostgresStore {
        inner: Arc::new(Inner {
            pool,
            runtime,
            signal,
            channel,
            schema: config.schema.into(),
            location,
        }),
    })
}

/// The pool, once one connection works. While the database cannot be reached, tries again
/// `connect_retries` times, the wait doubling; anything else (a wrong password, an unknown
/// database) is final.
async fn pool_with_retries(
    config: &PostgresConfig,
    options: PgConnectOptions,
    location: &str,
) -> Result<PgPool, StoreError> {
    let mut wait = config.retry_backoff;
    let mut retries_left = config.connect_retries;
    loop {
        // One connection first, for the database's own answer (refused, wrong password, no
        // such database) rather than the pool's timeout.
        match PgConnection::connect_with(&options).await {
            Ok(connection) => {
                let _ = connection.close().await;
                return Ok(PgPoolOptions::new()
                    .max_connections(config.pool_size)
                    .acquire_timeout(config.statement_timeout)
                    .connect_lazy_with(options));
            }
            Err(error) if is_unavailable(&error) && retries_left > 0 => {
                tracing::warn!(
                    database = %location,
                    %error,
                    retry_in = ?wait,
                    retries_left,
                    "PostgreSQL cannot be reached; trying again"
                );
                tokio::time::sleep(wait).await;
                retries_left -= 1;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
            Err(error) => {
                return Err(StoreError::Open {
                    location: location.to_owned(),
                    source: Box::new(error),
                });
            }
        }
    }
}

/// The newest schema version this build knows.
pub(crate) fn newest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The version of guard's schema `schema`, if it has been prepared.
async fn applied_version(pool: &PgPool, schema: &str) -> Result<Option<i64>, sqlx::Error> {
    let table = format!("{schema}._sqlx_migrations");
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&table)
        .fetch_one(pool)
        .await?;
    if !migrated {
        return Ok(None);
    }
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT max(version) FROM {table} WHERE success"
    )))
    .fetch_one(pool)
    .await
}

/// Refuses a schema guard has not prepared, or prepared at another version than this
/// build's; changes nothing.
async fn check_prepared(pool: &PgPool, schema: &str, location: &str) -> Result<(), StoreError> {
    let applied = applied_version(pool, schema)
        .await
        .map_err(|e| StoreError::Open { location: location.to_owned(), source: Box::new(e) })?;
    let Some(found) = applied else {
        return Err(StoreError::Missing { location: format!("{location} (schema {schema})") });
    };
    let (found, expected) = (version(found), version(newest_version()));
    let location = location.to_owned();
    match found.cmp(&expected) {
        std::cmp::Ordering::Less => Err(StoreError::OlderSchema { location, found, expected }),
        std::cmp::Ordering::Greater => {
            Err(StoreError::NewerSchema { location, found, supported: expected })
        }
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn version(number: i64) -> u32 {
    u32::try_from(number).unwrap_or(u32::MAX)
}

/// Creates the schema if missing, refuses one a newer guard migrated, and applies this
/// build's migrations (several instances starting at once take turns).
async fn prepare(pool: &PgPool, schema: &str, location: &str) -> Result<(), StoreError> {
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
        location: location.to_owned(),
        source,
    };
    // `IF NOT EXISTS` does not keep two instances starting at once from both creating it:
    // they take turns. The name was checked to be a plain identifier: safe to write in.
    let create = async {
        let mut txn = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("guard schema {schema}"))
            .execute(&mut *txn)
            .await?;
        (&mut *txn)
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
            .await?;
        txn.commit().await
    };
    create.await.map_err(|e| failed(Box::new(e)))?;
    let applied = applied_version(pool, schema).await.map_err(|e| failed(Box::new(e)))?;
    let supported = newest_version();
    if let Some(found) = applied.filter(|&v| v > supported) {
        return Err(StoreError::NewerSchema {
            location: location.to_owned(),
            found: version(found),
            supported: version(supported),
        });
    }
    let table = format!("{schema}._sqlx_migrations");
    let mut migrator = sqlx::migrate!();
    migrator.dangerous_set_table_name(table);
    migrator.run(pool).await.map_err(|e| failed(Box::new(e)))
}
