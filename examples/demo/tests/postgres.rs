//! The demo binary on PostgreSQL (`GUARD_DB=postgres://…`), as a user starts it: it serves;
//! and a database it cannot use (wrong password, no such database, nothing listening, not a
//! URL, a schema a newer guard wrote) stops it with exit code 1 and one clear line, without
//! the password and without a panic. Skipped, with a message, without a PostgreSQL
//! (`GUARD_TEST_POSTGRES`); CI runs it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guard_postgres::testing;

fn demo(url: &str, schema: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    command
        .env("GUARD_DB", url)
        .env("GUARD_DB_SCHEMA", schema)
        .env("GUARD_ADDR", "127.0.0.1:0")
        .env("GUARD_ADMIN_SECRET", "a-demo-admin-secret-0123")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("GUARD_DB_CONNECT_RETRIES")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs the demo to its end: its exit code and what it printed.
fn refused(url: &str, schema: &str) -> (Option<i32>, String) {
    let mut child = demo(url, schema).spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the demo did not stop with {url}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_on_postgres_and_refuses_a_database_it_cannot_use_in_one_line() {
    let Some(db) =
        testing::database("serves_on_postgres_and_refuses_a_database_it_cannot_use_in_one_line")
    else {
        return;
    };
    let url = db.url().to_owned();
    let schema = db.fresh_schema();

    // It serves.
    let mut child = demo(&url, &schema).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let listening = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.split("listening on ").nth(1).map(str::to_owned))
        .expect("the demo listens");
    let status = reqwest::blocking::get(format!("{listening}/secure")).unwrap().status();
    assert_eq!(status.as_u16(), 401);
    let _ = child.kill();
    let _ = child.wait();

    // A schema a newer guard wrote: one migration more than this build knows.
    db.execute(&format!(
        "INSERT INTO {schema}._sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from a newer guard', true, '\\x00', 0)"
    ));
    let password = url.split(':').nth(2).unwrap().split('@').next().unwrap().to_owned();
    let (scheme_and_user, rest) = url.split_once('@').unwrap();
    let (host, _) = rest.split_once('/').unwrap();
    let wrong_password = url.replace(&password, "not-the-password");
    let no_such_database = format!("{scheme_and_user}@{host}/no_such_database");
    let nothing_listening = format!("{scheme_and_user}@127.0.0.1:1/guard_test");
    let cases = [
        (url.as_str(), schema.as_str(), "uses guard schema version 9999; this build reads up to 2"),
        (wrong_password.as_str(), "guard", "password authentication failed"),
        (no_such_database.as_str(), "guard", "does not exist"),
        (nothing_listening.as_str(), "guard", "refused"),
        ("postgres://[not a host", "guard", "not a PostgreSQL URL"),
    ];
    for (url, schema, expected) in cases {
        let (code, stderr) = refused(url, schema);
        assert_eq!(code, Some(1), "{url}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line for {url}: {stderr}");
        assert!(lines[0].starts_with("demo: "), "{stderr}");
        assert!(lines[0].contains(expected), "{url}: expected {expected:?} in {stderr}");
        assert!(!stderr.contains(&password) && !stderr.contains("not-the-password"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
