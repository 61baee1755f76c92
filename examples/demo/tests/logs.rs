//! No secret in the logs: the demo binary at `RUST_LOG=trace` (every crate, the request log
//! of its `TraceLayer` too) through the flows that carry secrets — the admin secret, a key in
//! the header and in the query, a password (JSON and form), a session cookie, a bearer token,
//! and, in a second run, JWTs from `/auth/token` with their signing secret — and then its
//! whole output searched for each of them.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ADMIN_SECRET: &str = "a-log-scan-admin-secret-4711";
const PASSWORD: &str = "correct horse battery staple 9";
const JWT_SECRET: &str = "a-log-scan-jwt-signing-secret-of-40-bytes";

/// Kills the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_trace_level_log_of_every_flow_holds_no_secret() {
    scan(None);
}

#[test]
fn a_trace_level_log_with_jwts_holds_no_secret() {
    scan(Some(JWT_SECRET));
}

/// Runs every flow against the demo at `RUST_LOG=trace`, its tokens JWTs signed with
/// `jwt_secret` if given, and searches the log for every secret used.
fn scan(jwt_secret: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("demo.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    if let Some(secret) = jwt_secret {
        command.env("DEMO_JWT_SECRET", secret);
    }
    let mut demo = Reaped(
        command
            .env("GUARD_DB", dir.path().join("g.redb"))
            .env("GUARD_ADDR", "127.0.0.1:0")
            .env("GUARD_ADMIN_SECRET", ADMIN_SECRET)
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::from(File::create(&log_path).unwrap()))
            .spawn()
            .unwrap(),
    );
    let mut base = None;
    for _ in 0..600 {
        let log = std::fs::read_to_string(&log_path).unwrap();
        if let Some(line) = log.lines().find(|l| l.contains("listening on http://")) {
            base = line.split("listening on ").nth(1).map(|s| s.trim().to_owned());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let base = base.expect("the demo did not start");
    let url = |path: &str| format!("{base}{path}");
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The admin secret, and a key it creates.
    let created: Value = http
        .post(url("/auth/keys"))
        .header("x-admin-secret", ADMIN_SECRET)
        .json(&json!({"name": "scan", "roles": ["viewer"]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    // The key in the header, and in the query.
    let by_header = http.get(url("/secure")).header("x-api-key", &key).send().unwrap();
    assert_eq!(by_header.status(), 200);
    let by_query = http.get(url(&format!("/secure?api-key={key}"))).send().unwrap();
    assert_eq!(by_query.status(), 200);
    // A password, as JSON (a new user) and as a form (logging in).
    let user = http
        .post(url("/auth/users"))
        .header("x-admin-secret", ADMIN_SECRET)
        .json(&json!({"name": "ann", "password": PASSWORD, "roles": ["viewer"]}))
        .send()
        .unwrap();
    assert_eq!(user.status(), 201);
    let login = http
        .post(url("/auth/login"))
        .header("origin", &base)
        .form(&[("username", "ann"), ("password", PASSWORD)])
        .send()
        .unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .expect("a session cookie");
    let session = cookie.split_once('=').unwrap().1.to_owned();
    assert_eq!(http.get(url("/me")).header("cookie", &cookie).send().unwrap().status(), 200);
    // A bearer token.
    let issued: Value = http
        .post(url("/auth/token"))
        .form(&[("grant_type", "password"), ("username", "ann"), ("password", PASSWORD)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = issued["access_token"].as_str().unwrap().to_owned();
    // A JWT has three parts; its signature alone is as secret as the whole.
    assert_eq!(token.split('.').count() == 3, jwt_secret.is_some(), "{token}");
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    assert_eq!(http.get(url("/me")).header("authorization", &bearer).send().unwrap().status(), 200);
    // Logging out, with the cookie.
    let out = http
        .post(url("/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", &base)
        .send()
        .unwrap();
    assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());

    // Stop it (SIGKILL: whatever it logged is in the file already), then search.
    demo.0.kill().unwrap();
    demo.0.wait().unwrap();
    let log = BufReader::new(File::open(&log_path).unwrap());
    let lines: Vec<String> = log.lines().map(Result::unwrap).collect();
    let all = lines.join("\n");
    assert!(all.contains("/secure?api-key=<redacted>"), "the request log ran, redacted");
    let requests = lines.iter().filter(|l| l.contains("finished processing request")).count();
    assert!(requests >= 9, "every request logged: {requests} of 9\n{all}");
    for (what, secret) in [
        ("the admin secret", ADMIN_SECRET),
        ("the API key", key.as_str()),
        ("the API key's secret part", &key[16..40]),
        ("the password", PASSWORD),
        ("the session cookie", session.as_str()),
        ("the bearer token", token.as_str()),
        ("the bearer token's last part", signature.as_str()),
        ("the JWT signing secret", jwt_secret.unwrap_or(ADMIN_SECRET)),
    ] {
        if let Some(line) = lines.iter().find(|l| l.contains(secret)) {
            panic!("{what} is in the log: {line}");
        }
    }
}
