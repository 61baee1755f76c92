//! The throttle's counts, delays and take-backs, on a real redb file.

use std::sync::Arc;

use super::*;
use crate::store::RedbStore;

/// A throttle counting in a fresh redb file (kept in `.1` for as long as the throttle).
fn throttle(config: ThrottleConfig) -> (LoginThrottle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(dir.path().join("t.redb")).unwrap());
    (LoginThrottle::new(config, store), dir)
}

fn begin(t: &LoginThrottle, account: &Account, address: IpAddr, now: i64) -> Option<Attempt> {
    match pollster::block_on(t.begin(account, address, now)) {
        Ok(attempt) => Some(attempt),
        Err(Refused::Wait(_)) => None,
        Err(other) => panic!("{other}"),
    }
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, last])
}

fn user(id: &str) -> Account {
    Account::User(id.into())
}

/// A failed attempt: begun and left counted.
fn fail(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) {
    drop(begin(throttle, account, address, now).expect("not limited"));
}

fn wait(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) -> i64 {
    match pollster::block_on(throttle.begin(account, address, now)) {
        Ok(attempt) => {
            // Only looking: a success leaves the counts as they were.
            pollster::block_on(throttle.succeeded(attempt, now)).unwrap();
            0
        }
        Err(Refused::Wait(wait)) => wait,
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn delays_grow_per_account_and_address() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    let now = 1_000;
    for _ in 0..4 {
        fail(&throttle, &user("u"), ip(1), now);
    }
    fail(&throttle, &user("u"), ip(1), now);
    assert_eq!(wait(&throttle, &user("u"), ip(1), now), 1, "five are free, the sixth waits");
    fail(&throttle, &user("u"), ip(1), now + 1);
    assert_eq!(wait(&throttle, &user("u"), ip(1), now + 1), 2, "it doubles");
    assert_eq!(wait(&throttle, &user("u"), ip(2), now + 1), 0, "not from another address");
}

#[test]
fn concurrent_attempts_are_counted_before_they_end() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    // Sixty guesses at once, none finished: only the five free ones may begin.
    let u = user("u");
    let guesses = (0..60).map(|_| throttle.begin(&u, ip(1), 1_000));
    let answers = pollster::block_on(crate::store::conformance::join_all(guesses));
    let begun = answers.into_iter().filter(Result::is_ok).count();
    assert_eq!(begun, 5);
}

#[test]
fn a_success_takes_its_attempt_back() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    for n in 0..48 {
        fail(&throttle, &Account::Unknown(format!("x{n}").into()), ip(1), 1_000);
    }
    let attempt = begin(&throttle, &user("u"), ip(1), 1_000).unwrap();
    pollster::block_on(throttle.succeeded(attempt, 1_000)).unwrap();
    // The address has 48 failures, not 49: two more are still free.
    fail(&throttle, &user("v"), ip(1), 1_000);
    assert_eq!(wait(&throttle, &user("w"), ip(1), 1_000), 0);
    fail(&throttle, &user("w"), ip(1), 1_000);
    assert!(wait(&throttle, &user("w"), ip(1), 1_000) > 0);
}

#[test]
fn the_owner_is_not_locked_out_by_failures_elsewhere() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    let attempt = begin(&throttle, &user("u"), ip(1), 1_000).unwrap();
    pollster::block_on(throttle.succeeded(attempt, 1_000)).unwrap();
    for n in 0..40 {
        let _ = begin(&throttle, &user("u"), ip(100 + (n % 8) as u8), 1_000);
    }
    assert!(wait(&throttle, &user("u"), ip(50), 1_000) > 0, "a new address is slowed");
    assert_eq!(wait(&throttle, &user("u"), ip(1), 1_000), 0, "the owner's is not");
}

#[test]
fn names_nobody_has_are_limited_alike_and_do_not_carry_over() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    let unknown = Account::Unknown("bob".into());
    for n in 0..40 {
        let _ = begin(&throttle, &unknown, ip(100 + (n % 8) as u8), 1_000);
        let _ = begin(&throttle, &user("ann"), ip(100 + (n % 8) as u8), 1_000);
    }
    // From a fresh address, an unknown name and a user are limited the same.
    assert!(wait(&throttle, &unknown, ip(50), 1_000) > 0);
    assert!(wait(&throttle, &user("ann"), ip(50), 1_000) > 0);
    // The user who later takes the name starts afresh.
    assert_eq!(wait(&throttle, &user("bob's new id"), ip(100), 1_000), 0);
    assert_eq!(wait(&throttle, &user("bob's new id"), ip(50), 1_000), 0);
}

#[test]
fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
    for n in 0..5u16 {
        let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, n, 0, 0, 9));
        fail(&throttle, &user("u"), rotated, 1_000);
    }
    assert!(wait(&throttle, &user("u"), a, 1_000) > 0, "one /64");
    let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(wait(&throttle, &user("u"), other, 1_000), 0, "another /64");
    for _ in 0..5 {
        fail(&throttle, &user("v"), ip(9), 1_000);
    }
    let mapped: IpAddr = "::ffff:10.0.0.9".parse().unwrap();
    assert!(wait(&throttle, &user("v"), mapped, 1_000) > 0);
}

#[test]
fn idle_counts_start_afresh_and_are_pruned() {
    let (throttle, _dir) = throttle(ThrottleConfig::default());
    for n in 0..5 {
        fail(&throttle, &user("u"), ip(1), 1_000 + n);
    }
    assert!(wait(&throttle, &user("u"), ip(1), 1_004) > 0);
    assert_eq!(wait(&throttle, &user("u"), ip(1), 1_006 + 3_600), 0, "begun afresh");
    for n in 0..10 {
        fail(&throttle, &Account::unknown(Some(format!("n{n}").into())), ip(2), 2_000);
    }
    // What u left at 1_004 (its address's and its account's counts) is idle first; then
    // the names': two counts each (pair and account) and their address's, one for all.
    assert_eq!(pollster::block_on(throttle.prune(2_000 + 3_599)).unwrap(), 2);
    assert_eq!(pollster::block_on(throttle.prune(2_000 + 3_601)).unwrap(), 21);
}
