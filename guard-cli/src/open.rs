//! Reaching the data: the store `--db` names, opened in this process as a server opens it
//! (guard-core's assembly, with the policy and key prefix the servers recorded), or a running
//! server's admin API with `--server`.

use std::sync::Arc;

use axum::http::Uri;
use guard_axum::guard_core::assembly::{recorded_key_prefix, recorded_policy};
use guard_axum::guard_core::config::DbLocation;
use guard_axum::guard_core::store::{RedbStore, SharedStore};
use guard_axum::{Guard, PostgresConfig, PostgresStore, StoreError};

use crate::admin::{Admin, http_client};
use crate::cli::Cli;
use crate::failure::Failure;
use crate::password::line_from_stdin;

/// What a command that works on the store itself says when a server holds the file.
pub(crate) const HELD_BY_SERVER: &str =
    "the database is in use by a running server; use --server URL";

/// Where admin requests go for this invocation.
pub(crate) async fn admin(cli: &Cli) -> Result<Admin, Failure> {
    match &cli.server {
        Some(server) => remote(server, cli.admin_secret_stdin),
        None => local(cli.db()).await,
    }
}

fn remote(server: &str, secret_on_stdin: bool) -> Result<Admin, Failure> {
    let url: Uri = server.parse().map_err(|_| Failure::new("--server is not a URL"))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) {
        return Err(Failure::new("--server must be an http:// or https:// URL"));
    }
    if url.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Failure::new(
            "--server must not hold a user name or password: the admin secret is what is sent",
        ));
    }
    let secret = if secret_on_stdin {
        line_from_stdin("admin secret")?
    } else {
        std::env::var("GUARD_ADMIN_SECRET").map_err(|_| {
            Failure::new(
                "--server needs the admin secret: GUARD_ADMIN_SECRET or --admin-secret-stdin",
            )
        })?
    };
    if secret.is_empty() {
        return Err(Failure::new("the admin secret is empty"));
    }
    let base = server.trim_end_matches('/').to_owned();
    Ok(Admin::Remote { client: Box::new(http_client()?), base, secret })
}

/// Opens the store named by `db` as it is, never creating, migrating or adding to one; a
/// redb file a server holds is refused with `held`.
pub(crate) async fn store(db: &str, held: &str) -> Result<SharedStore, Failure> {
    let opened: Result<SharedStore, StoreError> = match DbLocation::parse(db) {
        DbLocation::File(path) => {
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    return Err(Failure::new(format!(
                        "{} is a directory, not a guard database",
                        path.display()
                    )));
                }
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Failure::new(format!(
                        "there is no guard database at {}: give the servers' with --db or GUARD_DB",
                        path.display()
                    )));
                }
                Err(error) => {
                    return Err(Failure::new(format!("cannot read {}: {error}", path.display())));
                }
            }
            RedbStore::open_existing(&path).map(|store| Arc::new(store) as SharedStore)
        }
        DbLocation::Url(url) => {
            let config = PostgresConfig::from_env()
                .map_err(|e| Failure::new(e.to_string()))?
                .existing_only(true);
            PostgresStore::connect(&url, config).await.map(|store| Arc::new(store) as SharedStore)
        }
    };
    match opened {
        Ok(store) => Ok(store),
        Err(StoreError::InUse { .. }) => Err(Failure::new(held)),
        Err(error) => Err(error.into()),
    }
}

/// The store, opened in this process as a server opens it.
async fn local(db: &str) -> Result<Admin, Failure> {
    let store = store(db, HELD_BY_SERVER).await?;
    let not_started = |what: &str| {
        Failure::new(format!(
            "no {what} is recorded in this database: start the application on it once"
        ))
    };
    let policy = recorded_policy(&store).await?.ok_or_else(|| not_started("policy"))?;
    let prefix = recorded_key_prefix(&store).await?.ok_or_else(|| not_started("key prefix"))?;
    // A secret of this process's own, never stored: what admits its requests to the admin
    // routes it calls in process.
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| Failure::new(format!("no randomness: {e}")))?;
    let secret: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let guard = Guard::builder(policy)
        .with_env()
        .map_err(|e| Failure::new(e.to_string()))?
        .store(Arc::clone(&store))
        .admin_secret(secret.clone())
        .key_prefix(prefix)
        .build()?;
    let router = guard.admin_router();
    Ok(Admin::Local { guard, router, secret, store })
}
