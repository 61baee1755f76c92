//! What counting a failed login costs on PostgreSQL, beside redb: the store's part of one
//! attempt (whether the address is one the user logged in from, then one atomic update of
//! the attempt's three counts), timed for the two stores in alternating rounds; medians and
//! spread. The password check itself (an argon2id hash, ~36 ms here) is the same for both
//! and left out.
//!
//! `GUARD_TEST_POSTGRES=postgres://… cargo bench -p guard-postgres --bench throttle`

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use guard_core::store::{DynStore, FailureCount, RedbStore};

const ROUNDS: usize = 15;
const ATTEMPTS: usize = 200;

async fn attempt(store: &dyn DynStore, n: usize) {
    let address = format!("10.0.{}.{}", n / 250 % 250, n % 250);
    store.known_address("u:user".into(), address.clone()).await.unwrap();
    let keys = vec![format!("p|u:user|{address}"), format!("i|{address}"), "a|u:user".into()];
    let bump = Box::new(|counts: &mut [FailureCount]| {
        for count in counts {
            count.failures += 1;
            count.last = 1_000;
        }
    });
    store.update_failures(keys, bump).await.unwrap();
}

fn round(store: &dyn DynStore) -> Duration {
    let started = Instant::now();
    for n in 0..ATTEMPTS {
        pollster::block_on(attempt(store, n));
    }
    started.elapsed() / ATTEMPTS as u32
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

fn main() {
    let Some(db) = guard_postgres::testing::database("the throttle bench") else { return };
    let dir = std::env::temp_dir().join(format!("guard-throttle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let redb = RedbStore::open(dir.join("t.redb")).unwrap();
    let postgres = pollster::block_on(db.fresh_store());
    let (mut on_redb, mut on_postgres) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        on_redb.push(round(&redb));
        on_postgres.push(round(&postgres));
    }
    let spread = |v: &[Duration]| {
        let (min, max) = (v.iter().min().unwrap(), v.iter().max().unwrap());
        format!("{:.0}-{:.0} µs", min.as_secs_f64() * 1e6, max.as_secs_f64() * 1e6)
    };
    println!(
        "counting one failed login: redb {:.0} µs ({}), PostgreSQL {:.0} µs ({}), {ROUNDS} rounds of {ATTEMPTS}",
        median(on_redb.clone()).as_secs_f64() * 1e6,
        spread(&on_redb),
        median(on_postgres.clone()).as_secs_f64() * 1e6,
        spread(&on_postgres),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
