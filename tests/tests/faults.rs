//! Fault injection: every acknowledged operation of the admin and login routes, on redb with
//! the Nth write, length change or sync of the file failed, for every N the operation makes,
//! and on PostgreSQL with the instance's connection cut before the Nth statement, or after
//! the Nth `COMMIT` (the server commits, the instance never hears so). On PostgreSQL, CI
//! cuts at every tenth statement and every fourth `COMMIT` of each operation (a different
//! tenth and fourth for each), for time; `GUARD_FAULT_STRIDE=1` cuts at every one.
//!
//! For each operation and each fault: the client never gets a 2xx for an operation that is
//! not durable; the server goes on serving requests from memory; and the file, reopened by a
//! new server, shows exactly the state before the operation or exactly the state after it
//! (as a run without faults leaves it), the latter whenever the operation was acknowledged.
//! The state is what clients observe: the keys and users the admin API lists, which of the
//! known credentials work, the sessions each user has, whether each known password is the
//! user's.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use guard_axum::{Guard, ManualClock, UsageConfig};
use guard_core::store::{FaultPlan, RedbStore};
use guard_tests::cutter::{Cut, Cutter};
use guard_tests::instances;
use guard_tests::{ADMIN_SECRET, NOW, TestServer, create_key, create_user, login, token};
use reqwest::{Client, Method};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// The credentials made before the operation, whose working is observed.
#[derive(Debug, Clone)]
struct Known {
    keys: Vec<String>,
    /// The id of the key the key operations act on.
    target_key: String,
    ann: String,
    cookie: String,
    bearer: String,
}

fn builder(clock: &ManualClock) -> guard_axum::GuardBuilder {
    let builder = Guard::builder(&demo::POLICY)
        .admin_secret(ADMIN_SECRET)
        .clock(Arc::new(clock.clone()))
        // No usage flush during an operation: the faults count the operation's own I/O.
        .usage(UsageConfig::default().flush_interval(Duration::from_secs(3600)));
    demo::configure(builder)
}

async fn serve(store: RedbStore, clock: &ManualClock) -> (Guard, TestServer) {
    let guard = builder(clock).store(Arc::new(store)).build().unwrap();
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    (guard, server)
}

async fn stop(guard: Guard, server: TestServer) {
    server.stop().await.unwrap();
    guard.shutdown();
    drop(guard);
}

/// The file every run starts from: two keys, ann (a viewer) with a session, a token and a
/// key of her own, and bob.
async fn baseline(dir: &Path, clock: &ManualClock) -> (PathBuf, Known) {
    let path = dir.join("baseline.redb");
    let (guard, server) = serve(RedbStore::open(&path).unwrap(), clock).await;
    let known = make_known(&server).await;
    stop(guard, server).await;
    (path, known)
}

/// What every run starts from, made through `server`.
async fn make_known(server: &TestServer) -> Known {
    let client = Client::new();
    let key = |body: Value| {
        let client = &client;
        async move {
            let (status, key) = create_key(client, server, body).await.unwrap();
            assert_eq!(status, 201);
            (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned())
        }
    };
    let (_, first) = key(json!({"name": "first", "roles": ["viewer"]})).await;
    let (target_key, second) = key(json!({"name": "second", "roles": ["viewer"]})).await;
    let (_, ann) = create_user(&client, server, "ann", PASSWORD, &["viewer"]).await.unwrap();
    create_user(&client, server, "bob", PASSWORD, &["viewer"]).await.unwrap();
    let ann = ann["id"].as_str().unwrap().to_owned();
    let (_, owned) = key(json!({"name": "ann's", "roles": ["viewer"], "owner": ann})).await;
    let (_, cookie, _) = login(&client, server, "ann", PASSWORD).await.unwrap();
    let (_, issued) = token(&client, server, "ann", PASSWORD).await.unwrap();
    Known {
        keys: vec![first, second, owned],
        target_key,
        ann,
        cookie: cookie.unwrap(),
        bearer: format!("Bearer {}", issued["access_token"].as_str().unwrap()),
    }
}

/// One acknowledged operation.
#[derive(Debug, Clone, Copy)]
enum Operation {
    CreateKey,
    RevokeKey,
    RenewKey,
    DeleteKey,
    CreateUser,
    DisableUser,
    DeleteUser,
    SetPassword,
    Login,
    Logout,
    IssueToken,
    RevokeToken,
}

const OPERATIONS: [Operation; 12] = [
    Operation::CreateKey,
    Operation::RevokeKey,
    Operation::RenewKey,
    Operation::DeleteKey,
    Operation::CreateUser,
    Operation::DisableUser,
    Operation::DeleteUser,
    Operation::SetPassword,
    Operation::Login,
    Operation::Logout,
    Operation::IssueToken,
    Operation::RevokeToken,
];

/// A credential an operation made: the header it goes in, and its value.
type NewCredential = Option<(&'static str, String)>;

/// Does `operation`; its status, and the credential it made, if it made one and said so.
async fn perform(
    operation: Operation,
    client: &Client,
    server: &TestServer,
    known: &Known,
) -> (u16, NewCredential) {
    let admin = |method: Method, path: String, body: Option<Value>| {
        let mut request =
            client.request(method, server.url(&path)).header("x-admin-secret", ADMIN_SECRET);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
    };
    let key = &known.target_key;
    let ann = &known.ann;
    let origin = format!("http://{}", server.addr());
    let request = match operation {
        Operation::CreateKey => admin(
            Method::POST,
            "/auth/keys".into(),
            Some(json!({"name": "new", "roles": ["viewer"]})),
        ),
        Operation::RevokeKey => admin(Method::POST, format!("/auth/keys/{key}/revoke"), None),
        Operation::RenewKey => {
            admin(Method::POST, format!("/auth/keys/{key}/renew"), Some(json!({"ttl_days": 40})))
        }
        Operation::DeleteKey => admin(Method::DELETE, format!("/auth/keys/{key}"), None),
        Operation::CreateUser => admin(
            Method::POST,
            "/auth/users".into(),
            Some(json!({"name": "cid", "password": PASSWORD, "roles": ["viewer"]})),
        ),
        Operation::DisableUser => {
            admin(Method::PATCH, format!("/auth/users/{ann}"), Some(json!({"disabled": true})))
        }
        Operation::DeleteUser => admin(Method::DELETE, format!("/auth/users/{ann}"), None),
        Operation::SetPassword => admin(
            Method::PUT,
            format!("/auth/users/{ann}/password"),
            Some(json!({"password": NEW_PASSWORD})),
        ),
        Operation::Login => client
            .post(server.url("/auth/login"))
            .header("origin", origin)
            .json(&json!({"username": "bob", "password": PASSWORD})),
        Operation::Logout => client
            .post(server.url("/auth/logout"))
            .header("origin", origin)
            .header("cookie", &known.cookie),
        Operation::IssueToken => client.post(server.url("/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", PASSWORD),
        ]),
        Operation::RevokeToken => client
            .post(server.url("/auth/token/revoke"))
            .form(&[("token", known.bearer.trim_start_matches("Bearer "))]),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = guard_tests::session_cookie(response.headers());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let made = match operation {
        Operation::CreateKey => body["key"].as_str().map(|k| ("x-api-key", k.to_owned())),
        Operation::Login => cookie.map(|c| ("cookie", c)),
        Operation::IssueToken => {
            body["access_token"].as_str().map(|t| ("authorization", format!("Bearer {t}")))
        }
        _ => None,
    };
    (status, made)
}

/// What clients observe of the state, ids of new records left out (they differ by run).
async fn observe(client: &Client, server: &TestServer, known: &Known) -> Value {
    let admin = |path: String| {
        let request = client.get(server.url(&path)).header("x-admin-secret", ADMIN_SECRET);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut keys: Vec<Value> = admin("/auth/keys?limit=1000".into()).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            json!([k["name"], k["state"], k["expires_at"], k["roles"], k["owner"].is_string()])
        })
        .collect();
    keys.sort_by_key(|k| k.to_string());
    let users = admin("/auth/users?limit=1000".into()).await["users"].clone();
    let mut people = Vec::new();
    for user in users.as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        let sessions = admin(format!("/auth/users/{id}/sessions")).await["sessions"]
            .as_array()
            .map_or(0, Vec::len);
        let mut passwords = Vec::new();
        for password in [PASSWORD, NEW_PASSWORD] {
            let check = client
                .post(server.url(&format!("/auth/users/{id}/verify-password")))
                .header("x-admin-secret", ADMIN_SECRET)
                .json(&json!({"password": password}));
            passwords.push(
                check.send().await.unwrap().json::<Value>().await.unwrap()["matches"].clone(),
            );
        }
        people.push(json!([user["name"], user["disabled"], user["roles"], sessions, passwords]));
    }
    let works = |header: &'static str, value: String, path: &'static str| {
        let request = client.get(server.url(path)).header(header, value);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let mut credentials = Vec::new();
    for key in &known.keys {
        credentials.push(works("x-api-key", key.clone(), "/secure").await);
    }
    credentials.push(works("cookie", known.cookie.clone(), "/auth/me").await);
    credentials.push(works("authorization", known.bearer.clone(), "/auth/me").await);
    json!({"keys": keys, "users": people, "credentials": credentials})
}

/// Reopens the file without faults and observes it, and whether the new credential works.
async fn reopened(
    path: &Path,
    clock: &ManualClock,
    known: &Known,
    made: &NewCredential,
) -> (Value, Option<u16>) {
    // The stopped server's last store calls may still be finishing on the blocking pool.
    let mut waited = 0;
    let store = loop {
        match RedbStore::open(path) {
            Err(guard_core::StoreError::InUse { .. }) if waited < 100 => {
                waited += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => break other.unwrap(),
        }
    };
    if waited > 0 {
        eprintln!("{}: reopened after {} ms", path.display(), waited * 50);
    }
    let (guard, server) = serve(store, clock).await;
    let seen = observe_with_made(&server, known, made).await;
    stop(guard, server).await;
    seen
}

/// What clients observe, and whether the credential the operation made works.
async fn observe_with_made(
    server: &TestServer,
    known: &Known,
    made: &NewCredential,
) -> (Value, Option<u16>) {
    let client = Client::new();
    let seen = observe(&client, server, known).await;
    let mut works = None;
    if let Some((header, value)) = made {
        let request = client.get(server.url("/auth/me")).header(*header, value);
        works = Some(request.send().await.unwrap().status().as_u16());
    }
    (seen, works)
}

/// What one run found.
struct Found {
    status: u16,
    fired: bool,
    steps: u64,
    seen: Value,
    /// Whether the credential the operation made works after the reopening.
    made_works: Option<u16>,
    /// On PostgreSQL, the `COMMIT`s sent.
    commits: u64,
}

/// One run: a copy of the baseline, the operation with the `nth` I/O step failed (none for
/// 0); its status, whether the fault fired, how many steps it made, what the reopened file
/// shows.
async fn run(
    dir: &Path,
    baseline: &Path,
    clock: &ManualClock,
    known: &Known,
    operation: Operation,
    nth: u64,
) -> Found {
    let path = dir.join(format!("{operation:?}-{nth}.redb"));
    std::fs::copy(baseline, &path).unwrap();
    let plan = FaultPlan::new();
    let (guard, server) =
        serve(RedbStore::open_with_faults(&path, Arc::clone(&plan)).unwrap(), clock).await;
    let client = Client::new();
    plan.arm(nth);
    let (status, made) = perform(operation, &client, &server, known).await;
    let (fired, steps) = (plan.fired(), plan.steps());
    plan.arm(0);
    // Still serving: the public route, and a key from memory.
    let index = client.get(server.url("/")).send().await.unwrap().status().as_u16();
    assert_eq!(index, 200, "{operation:?} with fault {nth}: the server stopped serving");
    let first = client.get(server.url("/secure")).header("x-api-key", &known.keys[0]);
    let first = first.send().await.unwrap().status().as_u16();
    assert_eq!(first, 200, "{operation:?} with fault {nth}: a key stopped working");
    stop(guard, server).await;
    let (seen, made_works) = reopened(&path, clock, known, &made).await;
    std::fs::remove_file(&path).unwrap();
    Found { status, fired, steps, seen, made_works, commits: 0 }
}

#[test]
fn every_operation_with_every_io_step_failed_is_durable_or_undone() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let (baseline, known) = baseline(dir.path(), &clock).await;
        let (before, _) = reopened(&baseline, &clock, &known, &None).await;
        let mut faults = 0;
        let mut refused = 0;
        for operation in OPERATIONS {
            let clean = run(dir.path(), &baseline, &clock, &known, operation, 0).await;
            let (status, steps, after) = (clean.status, clean.steps, clean.seen);
            assert!((200..300).contains(&status), "{operation:?} without a fault: {status}");
            assert!(
                before != after || clean.made_works == Some(200),
                "{operation:?} changes what clients see"
            );
            assert!(steps > 0, "{operation:?} wrote nothing");
            for nth in 1..=steps {
                let Found { status, fired, seen, made_works, .. } =
                    run(dir.path(), &baseline, &clock, &known, operation, nth).await;
                assert!(fired, "{operation:?}: step {nth} of {steps} was not reached");
                faults += 1;
                if (200..300).contains(&status) {
                    assert_eq!(seen, after, "{operation:?} acknowledged with fault {nth}, not durable");
                    assert!(
                        made_works.is_none_or(|s| s == 200),
                        "{operation:?} acknowledged with fault {nth}: what it made does not work"
                    );
                } else {
                    refused += 1;
                    assert!(
                        seen == before || seen == after,
                        "{operation:?} refused ({status}) with fault {nth}: half applied\nbefore {before}\nafter {after}\nseen {seen}"
                    );
                }
            }
        }
        eprintln!("{faults} faults injected into {} operations; {refused} refused, none lost or half applied", OPERATIONS.len());
    });
}

/// One run on PostgreSQL: a fresh schema made as the baseline, the operation through an
/// instance whose connections pass the cutter, cut at the `nth` statement (none for 0).
async fn pg_run(
    db: &guard_postgres::testing::TestDatabase,
    clock: &ManualClock,
    operation: Operation,
    nth: u64,
    cut: Cut,
    commits_only: bool,
) -> Found {
    let schema = db.fresh_schema();
    let on_schema = |name: &str| {
        instances::builder(db, &schema, name)
            .clock(Arc::new(clock.clone()))
            .usage(UsageConfig::default().flush_interval(Duration::from_secs(3600)))
    };
    let instance = instances::serve(on_schema("guard-base")).await;
    let known = make_known(&instance.server).await;
    instance.stop().await;

    let (auth, rest) = db.url().split_once('@').unwrap();
    let (host, database) = rest.split_once('/').unwrap();
    let cutter = Cutter::start(host.parse().unwrap()).await.unwrap();
    let proxied = format!("{auth}@{}/{database}?sslmode=disable", cutter.addr());
    let faulty = instances::serve(on_schema("guard-cut").database_url(proxied)).await;
    let client = Client::new();
    if commits_only {
        cutter.plan().arm_commit(nth, cut);
    } else {
        cutter.plan().arm(nth, cut);
    }
    let (status, made) = perform(operation, &client, &faulty.server, &known).await;
    let (fired, steps) = (cutter.plan().fired(), cutter.plan().statements());
    let commits = cutter.plan().commits();
    cutter.plan().arm(0, Cut::Before);
    let index = client.get(faulty.url("/")).send().await.unwrap().status().as_u16();
    assert_eq!(index, 200, "{operation:?} cut at {nth}: the instance stopped serving");
    let first = client.get(faulty.url("/secure")).header("x-api-key", &known.keys[0]);
    let first = first.send().await.unwrap().status().as_u16();
    assert_eq!(first, 200, "{operation:?} cut at {nth}: a key stopped working");
    faulty.stop().await;
    drop(cutter);

    let observer = instances::serve(on_schema("guard-observer")).await;
    let (seen, made_works) = observe_with_made(&observer.server, &known, &made).await;
    observer.stop().await;
    Found { status, fired, steps, seen, made_works, commits }
}

/// What clients observe of the baseline on PostgreSQL.
async fn pg_before(db: &guard_postgres::testing::TestDatabase, clock: &ManualClock) -> Value {
    let schema = db.fresh_schema();
    let builder = instances::builder(db, &schema, "guard-base").clock(Arc::new(clock.clone()));
    let instance = instances::serve(builder).await;
    let known = make_known(&instance.server).await;
    let (seen, _) = observe_with_made(&instance.server, &known, &None).await;
    instance.stop().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_with_its_connection_cut_at_each_statement_is_durable_or_undone() {
    let Some(db) = instances::database("faults_on_postgres") else { return };
    let clock = ManualClock::new(NOW);
    let mut cuts = 0;
    let mut refused = 0;
    let before = pg_before(&db, &clock).await;
    // Every statement and every COMMIT with GUARD_FAULT_STRIDE=1; in CI (10) every tenth
    // statement and every fourth COMMIT, a different tenth and fourth for each operation.
    let stride: u64 =
        std::env::var("GUARD_FAULT_STRIDE").ok().and_then(|s| s.parse().ok()).unwrap_or(10).max(1);
    for (index, operation) in OPERATIONS.into_iter().enumerate() {
        let clean = pg_run(&db, &clock, operation, 0, Cut::Before, false).await;
        assert!(
            (200..300).contains(&clean.status),
            "{operation:?} without a cut: {}",
            clean.status
        );
        eprintln!("{operation:?}: {} statements, {} commits", clean.steps, clean.commits);
        let after = clean.seen;
        // Before each statement; and after each COMMIT, which the server carries out while
        // the instance never hears so (after any other statement, the transaction is only
        // rolled back, as before the next).
        let (commit_stride, index) = (stride.div_ceil(3), index as u64);
        let plans = (1..=clean.steps)
            .filter(|n| n % stride == index % stride)
            .map(|n| (n, Cut::Before, false))
            .chain(
                (1..=clean.commits)
                    .filter(|n| n % commit_stride == index % commit_stride)
                    .map(|n| (n, Cut::After, true)),
            );
        for (nth, cut, commits_only) in plans {
            {
                let found = pg_run(&db, &clock, operation, nth, cut, commits_only).await;
                if !found.fired {
                    // Fewer statements than in the clean run (the follower's own ones vary).
                    continue;
                }
                cuts += 1;
                if (200..300).contains(&found.status) {
                    assert_eq!(
                        found.seen, after,
                        "{operation:?} acknowledged, cut {cut:?} statement {nth}: not durable"
                    );
                    assert!(
                        found.made_works.is_none_or(|s| s == 200),
                        "{operation:?} acknowledged, cut {cut:?} statement {nth}: what it made does not work"
                    );
                } else {
                    refused += 1;
                    assert!(
                        found.seen == before || found.seen == after,
                        "{operation:?} refused ({}), cut {cut:?} statement {nth}: half applied\nbefore {before}\nafter {after}\nseen {}",
                        found.status,
                        found.seen
                    );
                }
            }
        }
    }
    eprintln!("{cuts} connections cut in {} operations; {refused} refused", OPERATIONS.len());
}

#[test]
fn basic_credentials_checked_while_the_file_fails_answer_503_never_401() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let plan = FaultPlan::new();
        let store = RedbStore::open_with_faults(dir.path().join("g.redb"), Arc::clone(&plan));
        let guard = builder(&clock).basic_auth().store(Arc::new(store.unwrap())).build().unwrap();
        let server = TestServer::start(demo::app(&guard)).await.unwrap();
        let client = Client::new();
        create_user(&client, &server, "ann", PASSWORD, &["viewer"]).await.unwrap();
        let (_, key) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
        let basic = |password: &str| {
            use base64::Engine;
            let pair = format!("ann:{password}");
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        };
        let me = |authorization: String| {
            let request = client.get(server.url("/auth/me")).header("authorization", authorization);
            async move { request.send().await.unwrap() }
        };
        assert_eq!(me(basic("a wrong password")).await.status(), 401, "before the fault");
        // From now on the file fails: a failed attempt cannot be counted.
        plan.arm(1);
        for password in ["a wrong password", PASSWORD] {
            let answer = me(basic(password)).await;
            assert_eq!(answer.status(), 503, "an internal failure is not a wrong password");
            assert!(answer.headers().contains_key("retry-after"));
        }
        assert!(plan.fired());
        // A key is checked from memory, and still works.
        let by_key =
            client.get(server.url("/secure")).header("x-api-key", key["key"].as_str().unwrap());
        assert_eq!(by_key.send().await.unwrap().status(), 200);
        stop(guard, server).await;
    });
}
