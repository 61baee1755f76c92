//! What the guard costs per request, in process, against the same handler without it.
//!
//! `cargo bench -p guard-axum --bench request_overhead`
//!
//! Both arms send the same request (with its `X-API-Key` header) through an axum `Router` on
//! one thread; the guarded arm also authenticates the key (checksum, blake3, index lookup),
//! checks the requirement and records usage (counted at once, written by the batching writer
//! thread to a real redb file). Rounds alternate between the arms so that noise from a shared
//! machine falls on both; the figures are medians over rounds, and the ratio is what matters.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use guard_axum::{Guard, NewKey, api_key, protected};
use tower::Service;
use tower::layer::util::Identity;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

async fn bare() -> &'static str {
    "ok"
}

#[api_key]
async fn keyed() -> &'static str {
    "ok"
}

#[protected(permissions = "view_reports")]
async fn permitted() -> &'static str {
    "ok"
}

const PER_ROUND: u32 = 20_000;
const ROUNDS: usize = 25;

/// Nanoseconds per request over `PER_ROUND` requests.
async fn round(router: &mut Router, key: &str) -> f64 {
    let start = Instant::now();
    for _ in 0..PER_ROUND {
        let request = Request::get("/").header("x-api-key", key).body(Body::empty()).unwrap();
        let response = router.call(request).await.unwrap();
        assert!(response.status().is_success());
    }
    start.elapsed().as_nanos() as f64 / f64::from(PER_ROUND)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("bench.redb"))
        .admin_secret("bench-admin-secret-0123456789")
        .build()
        .unwrap();
    let key = guard
        .create_key(NewKey { roles: vec!["admin".into()], ..NewKey::default() })
        .unwrap()
        .key
        .expose()
        .to_owned();

    let mut arms: Vec<(&str, Router)> = vec![
        ("bare handler", Router::new().route("/", get(bare))),
        // What any tower layer costs in an axum router, whatever it does: the fair baseline
        // for an application that already has middleware.
        (
            "bare handler behind a no-op layer",
            Router::new().route("/", get(bare)).layer(Identity::new()),
        ),
        ("#[api_key] + usage", Router::new().route("/", get(keyed)).layer(guard.layer())),
        (
            "#[protected(permissions)], inherited",
            Router::new().route("/", get(permitted)).layer(guard.layer()),
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); arms.len()];
    runtime.block_on(async {
        for (_, router) in &mut arms {
            round(router, &key).await; // warm-up
        }
        for _ in 0..ROUNDS {
            for (i, (_, router)) in arms.iter_mut().enumerate() {
                samples[i].push(round(router, &key).await);
            }
        }
    });

    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("request overhead, median of {ROUNDS} rounds x {PER_ROUND} requests, in process:");
    for ((name, _), ns) in arms.iter().zip(&medians) {
        println!(
            "  {name:<38} {ns:>6.0} ns/request  {:>5.2}x bare  {:>5.2}x layered",
            ns / medians[0],
            ns / medians[1]
        );
    }
    println!("  permission check vs #[api_key]: {:.3}x", medians[3] / medians[2]);
    let info = guard.keys().list().remove(0);
    println!("  (usage counted: {} requests on the key)", info.total_uses);
    guard.shutdown();
}
