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
