//! How long a failed login takes for a user who does not exist, and for a wrong password:
//! the same, within noise, since an unknown user's password is checked against a dummy hash.
//!
//! `cargo bench -p guard-axum --bench login_timing`
//!
//! Logins are checked through the guard's accounts (throttling set high enough never to
//! answer first), alternating unknown user and wrong password, medians of 41 rounds.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use guard_axum::Guard;
use guard_axum::guard_core::credentials::throttle::ThrottleConfig;
use guard_axum::guard_core::credentials::user::NewUser;

guard_axum::policy! { roles { member: [read] } }

const ROUNDS: usize = 41;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("bench.redb"))
        .admin_secret("bench-admin-secret-0123456789")
        .login_throttle(ThrottleConfig::default().free_failures(u32::MAX, u32::MAX, u32::MAX))
        .build()
        .unwrap();
    let accounts = guard.accounts();
    let new = NewUser {
        name: "ann".into(),
        password: "correct horse battery".into(),
        roles: vec![],
        rate_limit: None,
    };
    pollster::block_on(accounts.create_user(new)).unwrap();
    let time = |name: &str| {
        let start = Instant::now();
        let failed = pollster::block_on(accounts.login(name, "a wrong password", None));
        assert!(failed.is_err());
        start.elapsed().as_secs_f64() * 1000.0
    };
    time("ann");
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        unknown.push(time("nobody"));
        wrong.push(time("ann"));
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    println!("failed login, median of {ROUNDS} rounds:");
    println!("  unknown user     {unknown:>7.2} ms");
    println!("  wrong password   {wrong:>7.2} ms");
    println!("  ratio            {:>7.3}", unknown / wrong);
    guard.shutdown();
}
