//! The demo binary as a user runs it, in a child process: what returned 201 or 200 survives
//! `kill -9`; a graceful stop (SIGTERM) flushes usage; a generated admin secret is shown once
//! and keeps working across restarts.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use guard_tests::client;
use serde_json::{Value, json};

/// Kills the child if the test ends early, so no server outlives its test.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Demo {
    child: Reaped,
    base: String,
    /// What the demo printed on stderr before it listened.
    startup: Vec<String>,
    _lines: Receiver<String>,
}

fn start(db: &Path, admin_secret: Option<&str>) -> Demo {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    command
        .env("GUARD_DB", db)
        .env("GUARD_ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("GUARD_ADMIN_SECRET")
        .env_remove("GUARD_KEY_TTL_DAYS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(secret) = admin_secret {
        command.env("GUARD_ADMIN_SECRET", secret);
    }
    let mut child = Reaped(command.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut startup = Vec::new();
    loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("the demo did not start");
        if let Some((_, addr)) = line.split_once("listening on ") {
            let base = addr.trim().to_owned();
            return Demo { child, base, startup, _lines: lines };
        }
        startup.push(line);
    }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill_9(mut self) {
        self.child.0.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush
        self.child.0.wait().unwrap();
    }

    fn terminate(mut self) {
        let status =
            Command::new("kill").arg("-TERM").arg(self.child.0.id().to_string()).status().unwrap();
        assert!(status.success());
        assert!(self.child.0.wait().unwrap().success(), "a graceful stop exits 0");
    }
}

async fn post(client: &reqwest::Client, url: String, secret: &str, body: Value) -> (u16, Value) {
    let response =
        client.post(url).header("x-admin-secret", secret).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn admin_get(client: &reqwest::Client, url: String, secret: &str) -> Value {
    client.get(url).header("x-admin-secret", secret).send().await.unwrap().json().await.unwrap()
}

async fn status(client: &reqwest::Client, url: String, key: &str) -> u16 {
    client.get(url).header("x-api-key", key).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn acknowledged_keys_and_revocations_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("guard.redb");
    let client = client();

    // First start, no GUARD_ADMIN_SECRET: one is generated and shown.
    let demo = start(&db, None);
    let secret = demo
        .startup
        .iter()
        .find_map(|line| line.split_whitespace().find(|w| w.starts_with("gka_")))
        .expect("the generated admin secret is printed")
        .to_owned();
    let (status_a, a) = post(&client, demo.url("/auth/keys"), &secret, json!({"name": "a"})).await;
    let (status_b, b) = post(&client, demo.url("/auth/keys"), &secret, json!({"name": "b"})).await;
    assert_eq!((status_a, status_b), (201, 201));
    let b_id = b["id"].as_str().unwrap();
    let (revoked, _) =
        post(&client, demo.url(&format!("/auth/keys/{b_id}/revoke")), &secret, json!({})).await;
    assert_eq!(revoked, 200);
    demo.kill_9();

    // Restart on the same file: nothing new is printed, and everything acknowledged held.
    let demo = start(&db, None);
    assert!(!demo.startup.iter().any(|l| l.contains("gka_")), "the secret is shown only once");
    assert_eq!(status(&client, demo.url("/secure"), a["key"].as_str().unwrap()).await, 200);
    assert_eq!(status(&client, demo.url("/secure"), b["key"].as_str().unwrap()).await, 401);
    let state: Value = admin_get(&client, demo.url(&format!("/auth/keys/{b_id}")), &secret).await;
    assert_eq!(state["state"], "revoked");
    demo.kill_9();
}

#[tokio::test]
async fn a_graceful_stop_flushes_usage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("guard.redb");
    let secret = "a-configured-admin-secret";
    let client = client();

    let demo = start(&db, Some(secret));
    assert!(
        !demo.startup.iter().any(|l| l.contains("gka_")),
        "a configured secret is not replaced"
    );
    let (_, key) = post(&client, demo.url("/auth/keys"), secret, json!({})).await;
    let (id, key) =
        (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned());
    for _ in 0..7 {
        assert_eq!(status(&client, demo.url("/secure"), &key).await, 200);
    }
    demo.terminate();

    let demo = start(&db, Some(secret));
    let usage: Value =
        admin_get(&client, demo.url(&format!("/auth/keys/{id}/usage")), secret).await;
    assert_eq!(usage["total_uses"], 7);
    assert_eq!(usage["recent"].as_array().unwrap().len(), 7);
    demo.kill_9();
}

/// What a crash may cost, as the README states it: the usage of the last two seconds (the
/// flush interval being gathered, and the flush being written).
const CRASH_BOUND: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_crash_right_after_a_load_loses_at_most_the_stated_bound() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("guard.redb");
    let secret = "a-configured-admin-secret";
    let client = client();
    let demo = start(&db, Some(secret));
    let (_, key) = post(&client, demo.url("/auth/keys"), secret, json!({})).await;
    let (id, key) =
        (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned());

    // Eight clients for 2.5 s, each noting when every one of its requests was answered.
    let started = std::time::Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url, key) = (client.clone(), demo.url("/secure"), key.clone());
        clients.spawn(async move {
            let mut answered = Vec::new();
            while started.elapsed() < Duration::from_millis(2500) {
                assert_eq!(status(&client, url.clone(), &key).await, 200);
                answered.push(std::time::Instant::now());
            }
            answered
        });
    }
    let mut answered = Vec::new();
    while let Some(times) = clients.join_next().await {
        answered.extend(times.unwrap());
    }
    demo.kill_9();
    let killed = std::time::Instant::now();

    let demo = start(&db, Some(secret));
    let usage: Value =
        admin_get(&client, demo.url(&format!("/auth/keys/{id}/usage?granularity=minute")), secret)
            .await;
    let kept = usage["total_uses"].as_u64().unwrap();
    let safe = answered.iter().filter(|&&at| at + CRASH_BOUND <= killed).count() as u64;
    let total = answered.len() as u64;
    assert!(safe > 0, "the load ran longer than the bound");
    assert!(
        kept >= safe && kept <= total,
        "kept {kept}; answered {total}, {safe} of them over {CRASH_BOUND:?} before the kill"
    );
    // Counters and rollups are written in one transaction: they agree after a crash.
    let in_rollups: u64 =
        usage["rollups"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(in_rollups, kept);
    demo.kill_9();
}
