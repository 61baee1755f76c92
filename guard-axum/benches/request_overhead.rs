//! What the guard costs per request, in process, against the same handler without it.
//!
//! `cargo bench -p guard-axum --bench request_overhead`
//!
//! Every arm sends the same request through an axum `Router` on one thread. The guarded arms
//! authenticate the key (checksum, lookup by id, one blake3 block), check the requirement and
//! record usage (counted at once; written each second by the usage writer to a real redb
//! file). Two more arms split the cost: the guard's layer alone, and a caller without
//! credentials. Rounds alternate between the arms so that noise from a shared machine falls
//! on all of them; the figures are medians over rounds, and the ratios are what matter.
//!
//! `ONLY=<arm index>` runs one arm, for a profiler.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use guard_axum::{Guard, NewKey, Principal, api_key, protected};
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

async fn maybe(_: Option<Principal>) -> &'static str {
    "ok"
}

const PER_ROUND: u32 = 20_000;
const ROUNDS: usize = 25;

struct Arm {
    name: &'static str,
    router: Router,
    /// Whether the request carries the key.
    keyed: bool,
}

/// Nanoseconds per request over `PER_ROUND` requests.
async fn round(arm: &mut Arm, key: &str) -> f64 {
    let header = if arm.keyed { "x-api-key" } else { "x-not-a-key" };
    let start = Instant::now();
    for _ in 0..PER_ROUND {
        let request = Request::get("/").header(header, key).body(Body::empty()).unwrap();
        let response = arm.router.call(request).await.unwrap();
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

    let arm = |name, router, keyed| Arm { name, router, keyed };
    let mut arms = vec![
        arm("bare handler", Router::new().route("/", get(bare)), true),
        // What any tower layer costs in an axum router, whatever it does: the fair baseline
        // for an application that already has middleware.
        arm(
            "bare handler, no-op layer",
            Router::new().route("/", get(bare)).layer(Identity::new()),
            true,
        ),
        arm("#[api_key] + usage", Router::new().route("/", get(keyed)).layer(guard.layer()), true),
        arm(
            "#[protected(permissions)], inherited",
            Router::new().route("/", get(permitted)).layer(guard.layer()),
            true,
        ),
        arm(
            "  of which: the guard's layer",
            Router::new().route("/", get(bare)).layer(guard.layer()),
            true,
        ),
        arm(
            "  of which: + a caller without key",
            Router::new().route("/", get(maybe)).layer(guard.layer()),
            false,
        ),
    ];
    if let Ok(only) = std::env::var("ONLY") {
        let only: usize = only.parse().expect("ONLY is an arm index");
        arms = vec![arms.swap_remove(only)];
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); arms.len()];
    runtime.block_on(async {
        for arm in &mut arms {
            round(arm, &key).await; // warm-up
        }
        for _ in 0..ROUNDS {
            for (i, arm) in arms.iter_mut().enumerate() {
                samples[i].push(round(arm, &key).await);
            }
        }
    });

    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    let layered = medians.get(1).copied().unwrap_or(medians[0]);
    println!("request overhead, median of {ROUNDS} rounds x {PER_ROUND} requests, in process:");
    for (arm, ns) in arms.iter().zip(&medians) {
        println!(
            "  {:<38} {ns:>6.0} ns/request  {:>5.2}x bare  {:>5.2}x layered",
            arm.name,
            ns / medians[0],
            ns / layered
        );
    }
    if medians.len() > 3 {
        println!("  permission check vs #[api_key]: {:.3}x", medians[3] / medians[2]);
    }
    let info = guard.keys().list().remove(0);
    println!("  (usage counted: {} requests on the key)", info.total_uses);
    guard.shutdown();
}
