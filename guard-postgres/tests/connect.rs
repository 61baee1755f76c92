//! Opening a store: several instances starting at once on a fresh schema all open it (one
//! creates the schema and its tables, the others find them). On a real PostgreSQL
//! (`GUARD_TEST_POSTGRES`); skipped with a message without one.

#![allow(clippy::unwrap_used)]

use guard_core::store::KeyStore;
use guard_postgres::{PostgresStore, testing};

#[test]
fn instances_starting_at_once_on_a_fresh_schema_all_open_it() {
    let Some(db) = testing::database("instances_starting_at_once_on_a_fresh_schema_all_open_it")
    else {
        return;
    };
    let schema = db.fresh_schema();
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let (url, config) = (db.url().to_owned(), db.config(&schema));
            std::thread::spawn(move || pollster::block_on(PostgresStore::connect(&url, config)))
        })
        .collect();
    let stores: Vec<PostgresStore> =
        starting.into_iter().map(|t| t.join().unwrap().expect("every one opens")).collect();
    for store in &stores {
        assert_eq!(pollster::block_on(store.count_keys()).unwrap(), 0);
    }
}

#[test]
fn over_tls_the_server_is_verified() {
    let Some(db) = testing::database("over_tls_the_server_is_verified") else { return };
    let Some(ca) = std::env::var("GUARD_TEST_POSTGRES_CA").ok().filter(|c| !c.is_empty()) else {
        assert!(
            std::env::var_os("GUARD_REQUIRE_POSTGRES").is_none(),
            "GUARD_REQUIRE_POSTGRES is set, but GUARD_TEST_POSTGRES_CA is not"
        );
        eprintln!("SKIPPED over_tls_the_server_is_verified: set GUARD_TEST_POSTGRES_CA");
        return;
    };
    let schema = db.fresh_schema();
    let config = db.config(&schema).application_name("guard-tls");
    let verified = format!("{}?sslmode=verify-full&sslrootcert={ca}", db.url());
    let store = pollster::block_on(PostgresStore::connect(&verified, config.clone()));
    let store = store.expect("a server whose certificate the given authority signed");
    assert!(
        db.ask(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'guard-tls'"
        ),
        "every connection of the store is encrypted"
    );
    drop(store);
    // Without the authority, the server's certificate is not one to trust: refused.
    let unverified = format!("{}?sslmode=verify-full", db.url());
    let refused = pollster::block_on(PostgresStore::connect(&unverified, config)).unwrap_err();
    let message = refused.to_string();
    assert!(message.starts_with("cannot open the guard database postgres://guard@"), "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}
