//! A million keys: how long a server takes to be ready, and how much memory each key holds,
//! on redb and on PostgreSQL.
//!
//! `cargo bench -p guard-axum --bench scale` (`SCALE_KEYS=<n>` for another count; the
//! PostgreSQL arm runs where `GUARD_TEST_POSTGRES` names a database, in the schema
//! `scale_<n>`)
//!
//! The keys are created directly through the store (names of up to 16 characters, random
//! ids and secrets), once: in `target/` for redb, in the schema for PostgreSQL; later runs
//! reuse them. A child process then measures what a server does at start-up: `Guard::build`
//! (open the store, record the policy, start the usage writer, load every key and its
//! counters), timed, with the process's resident memory read before and after. The figure
//! per key is that difference divided by the number of keys: the index, the entries, and the
//! store's page cache (redb) or its connections and runtime (PostgreSQL).

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use guard_axum::guard_core::store::{KeyRecord, KeyStore};
use guard_axum::{CredentialFormat, Guard, PostgresConfig, PostgresStore, RedbStore};

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

const DEFAULT_KEYS: usize = 1_000_000;
const BATCH: usize = 10_000;
const ROLES: [&str; 3] = ["viewer", "editor", "admin"];

/// The resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("a Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn create(store: &impl KeyStore, keys: usize) {
    let format = CredentialFormat::default();
    let started = Instant::now();
    for batch in 0..keys.div_ceil(BATCH) {
        let records: Vec<KeyRecord> = (batch * BATCH..((batch + 1) * BATCH).min(keys))
            .map(|i| {
                let generated = format.generate().unwrap();
                KeyRecord {
                    id: generated.id.into(),
                    hash: *generated.hash.as_bytes(),
                    name: format!("service-{i:08}").into(),
                    owner: None,
                    roles: vec![ROLES[i % ROLES.len()].into()],
                    created_at: 1_795_000_000 + i as i64,
                    expires_at: (i % 2 == 0).then_some(1_900_000_000),
                    revoked: i % 100 == 0,
                    rate_limit: None,
                }
            })
            .collect();
        pollster::block_on(store.insert_keys(records)).unwrap();
    }
    eprintln!("created {keys} keys through the store in {:.1} s", started.elapsed().as_secs_f64());
}

/// In the child: what a server does at start-up, measured. `db` is a redb file or a
/// `postgres://` URL (with the schema in `SCALE_SCHEMA`).
fn measure(db: &str, keys: usize) {
    let builder = Guard::builder(&POLICY).admin_secret("scale-admin-secret-0123456789");
    let (builder, arm) = match std::env::var("SCALE_SCHEMA") {
        Ok(schema) => {
            let config = PostgresConfig::default().schema(schema);
            (builder.database_url(db).postgres(config), "PostgreSQL")
        }
        Err(_) => (builder.database(db), "redb"),
    };
    let before = resident_bytes();
    let started = Instant::now();
    let guard = builder.build().unwrap();
    let ready = started.elapsed();
    let after = resident_bytes();
    assert_eq!(guard.keys().len(), keys);
    println!(
        "{arm}: {} keys: ready in {:.3} s, {:.0} B per key held in memory ({:.1} MiB in all)",
        keys,
        ready.as_secs_f64(),
        (after - before) as f64 / keys as f64,
        (after - before) as f64 / (1024.0 * 1024.0)
    );
    drop(Arc::new(guard));
}

fn main() {
    let keys: usize =
        std::env::var("SCALE_KEYS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_KEYS);
    if let Ok(db) = std::env::var("SCALE_CHILD") {
        measure(&db, keys);
        return;
    }
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    let path = target.join(format!("guard-scale-{keys}.redb"));
    let reusable = path.exists()
        && RedbStore::open(&path)
            .ok()
            .is_some_and(|s| pollster::block_on(s.count_keys()).ok() == Some(keys as u64));
    if !reusable {
        let _ = std::fs::remove_file(&path);
        create(&RedbStore::open(&path).unwrap(), keys);
    }
    let postgres = guard_postgres::testing::database("the PostgreSQL arm of the scale bench");
    let schema = format!("scale_{keys}");
    if let Some(db) = &postgres {
        let open = || {
            let config = PostgresConfig::default().schema(&schema);
            pollster::block_on(PostgresStore::connect(db.url(), config)).unwrap()
        };
        if pollster::block_on(open().count_keys()).unwrap() != keys as u64 {
            db.execute(&format!("DROP SCHEMA {schema} CASCADE"));
            create(&open(), keys);
        }
    }
    let postgres = postgres.map(|db| db.url().to_owned());
    // Fresh processes, the arms alternated, so that nothing this one allocated is counted.
    for _ in 0..3 {
        run_child(path.to_str().unwrap(), None, keys);
        if let Some(url) = &postgres {
            run_child(url, Some(&schema), keys);
        }
    }
}

fn run_child(db: &str, schema: Option<&str>, keys: usize) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.env("SCALE_CHILD", db).env("SCALE_KEYS", keys.to_string());
    match schema {
        Some(schema) => child.env("SCALE_SCHEMA", schema),
        None => child.env_remove("SCALE_SCHEMA"),
    };
    assert!(child.status().unwrap().success());
}
