//! Reaching the data: the store `--db` names, opened in this process as a server opens it
//! (guard-core's assembly, with the policy and key prefix the servers recorded), or a running
//! server's admin API with `--server`.

use std::sync::Arc;

use guard_axum::guard_core::assembly::{
    StoreChoice, open_store, recorded_key_prefix, recorded_policy,
};
use guard_axum::guard_core::config::DbLocation;
use guard_axum::guard_core::store::SharedStore;
use guard_axum::{Guard, PostgresConfig, StoreError};

use crate::admin::Admin;
use crate::cli::Cli;
use crate::failure::Failure;

/// Where admin requests go for this invocation.
pub(crate) async fn admin(cli: &Cli) -> Result<Admin, Failure> {
    match &cli.server {
        Some(server) => remote(server, cli.admin_secret_stdin),
        None => local(cli.db()).await,
    }
}

fn remote(server: &str, secret_on_stdin: bool) -> Result<Admin, Failure> {
    let secret = if secret_on_stdin {
        crate::password::line_from_stdin("admin secret")?
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
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| Failure::new(format!("no HTTP client: {e}")))?;
    Ok(Admin::Remote { client, base: server.trim_end_matches('/').to_owned(), secret })
}

/// Opens the store named by `db`, never creating one.
pub(crate) async fn store(db: &str) -> Result<SharedStore, Failure> {
    let location = DbLocation::parse(db);
    if let DbLocation::File(path) = &location {
        if path.is_dir() {
            return Err(Failure::new(format!(
                "{} is a directory, not a guard database",
                path.display()
            )));
        }
        if !path.exists() {
            return Err(Failure::new(format!(
                "there is no guard database at {}: give the servers' with --db or GUARD_DB",
                path.display()
            )));
        }
    }
    let config = PostgresConfig::from_env().map_err(|e| Failure::new(e.to_string()))?;
    let opener = guard_postgres::opener(config);
    match open_store(StoreChoice::from(location), Some(&opener)).await {
        Ok(store) => Ok(store),
        Err(guard_axum::GuardError::Store(StoreError::InUse { .. })) => {
            Err(Failure::new("the database is in use by a running server; use --server URL"))
        }
        Err(error) => Err(error.into()),
    }
}

/// The store, opened in this process as a server opens it.
async fn local(db: &str) -> Result<Admin, Failure> {
    let store = store(db).await?;
    let Some(policy) = recorded_policy(&store).await? else {
        return Err(Failure::new(
            "no policy is recorded in this database: start the application on it once",
        ));
    };
    // A secret of this process's own, never stored: what admits its requests to the admin
    // routes it calls in process.
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| Failure::new(format!("no randomness: {e}")))?;
    let secret: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut builder = Guard::builder(policy)
        .with_env()
        .map_err(|e| Failure::new(e.to_string()))?
        .store(Arc::clone(&store))
        .admin_secret(secret.clone());
    if let Some(prefix) = recorded_key_prefix(&store).await? {
        builder = builder.key_prefix(prefix);
    }
    let guard = builder.build()?;
    let router = guard.admin_router();
    Ok(Admin::Local { guard, router, secret })
}
