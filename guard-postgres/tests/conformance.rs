//! The store conformance suite, and the cases only several writers show, on a real
//! PostgreSQL (`GUARD_TEST_POSTGRES`; skipped with a message without one).

#![allow(clippy::unwrap_used)]

use guard_core::store::conformance;
use guard_postgres::testing;

#[test]
fn passes_the_conformance_suite() {
    let Some(db) = testing::database("passes_the_conformance_suite") else { return };
    pollster::block_on(conformance::run_all(|| pollster::block_on(db.fresh_store())));
}

#[test]
fn two_stores_on_one_database_behave_as_one() {
    let Some(db) = testing::database("two_stores_on_one_database_behave_as_one") else { return };
    pollster::block_on(conformance::run_shared(|| {
        let schema = db.fresh_schema();
        pollster::block_on(async { (db.store(&schema).await, db.store(&schema).await) })
    }));
}
