//! How long after one instance acknowledges a revocation another refuses the key: two
//! instances of an application on one PostgreSQL, each serving load, 200 keys revoked
//! through A's admin API one after another, and for each the time from A's 200 until B
//! answers 401 to the key. Prints p50, p99 and the maximum.
//!
//! `GUARD_TEST_POSTGRES=postgres://… cargo run --release -p guard-bench --bin revocation`
//! (`.ci/postgres start` makes a throwaway one). `REVOCATIONS=<n>` for another count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use guard_axum::{Guard, NewKey, PostgresConfig, api_key};

guard_axum::policy! { roles { client: [read] } }

const ADMIN_SECRET: &str = "revocation-bench-admin-secret";

#[api_key]
async fn secure() -> &'static str {
    "secure data\n"
}

/// One instance on `schema`, serving on an ephemeral port of 127.0.0.1.
async fn instance(url: &str, schema: &str, name: &str) -> (Guard, SocketAddr) {
    let config = PostgresConfig::default().schema(schema).application_name(name);
    let guard = Guard::builder(&POLICY)
        .database_url(url)
        .postgres(config)
        .admin_secret(ADMIN_SECRET)
        .build()
        .expect("an instance on the database");
    let router = Router::new()
        .route("/secure", get(secure))
        .nest("/auth", guard.admin_router())
        .layer(guard.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (guard, addr)
}

async fn status(client: &reqwest::Client, url: &str, key: &str) -> u16 {
    match client.get(url).header("x-api-key", key).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // A schema of its own, dropped at the end.
    let Some(db) = guard_postgres::testing::database("the revocation bench") else {
        std::process::exit(2);
    };
    let (url, schema) = (db.url().to_owned(), db.fresh_schema());
    let revocations: usize =
        std::env::var("REVOCATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
    let (a, a_addr) = instance(&url, &schema, "bench-a").await;
    let (b, b_addr) = instance(&url, &schema, "bench-b").await;
    let client = reqwest::Client::new();
    let b_secure = format!("http://{b_addr}/secure");

    // Load on both instances, with a key that stays valid.
    let load_key = a.create_key_async(NewKey::default()).await.expect("a key").key;
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for addr in [a_addr, a_addr, b_addr, b_addr] {
        let (client, key, stop, served) =
            (client.clone(), load_key.expose().to_owned(), Arc::clone(&stop), Arc::clone(&served));
        let url = format!("http://{addr}/secure");
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if status(&client, &url, &key).await == 200 {
                    served.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    let mut keys = Vec::with_capacity(revocations);
    for _ in 0..revocations {
        let created = a.create_key_async(NewKey::default()).await.expect("a key");
        keys.push((created.info.id, created.key.expose().to_owned()));
    }
    for (_, key) in &keys {
        while status(&client, &b_secure, key).await != 200 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    let started = Instant::now();
    let mut delays = Vec::with_capacity(revocations);
    for (id, key) in &keys {
        let revoked = client
            .post(format!("http://{a_addr}/auth/keys/{id}/revoke"))
            .header("x-admin-secret", ADMIN_SECRET)
            .send()
            .await
            .expect("the revocation");
        assert_eq!(revoked.status().as_u16(), 200);
        let acknowledged = Instant::now();
        while status(&client, &b_secure, key).await != 401 {}
        delays.push(acknowledged.elapsed());
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    delays.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{revocations} revocations through A, refused by B after: p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms ({:.0} requests/s of load served meanwhile)",
        ms(percentile(&delays, 50.0)),
        ms(percentile(&delays, 99.0)),
        ms(*delays.last().expect("at least one revocation")),
        served.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
    );
    a.shutdown();
    b.shutdown();
}
