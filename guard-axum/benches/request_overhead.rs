//! What the guard costs per request, in process, against the same handler without it.
//!
//! `cargo bench -p guard-axum --bench request_overhead`
//!
//! Every arm sends the same request through an axum `Router` on one thread. The guarded arms
//! authenticate the key (checksum, lookup by id, one blake3 block), check the requirement and
//! record usage (counted at once; written each second by the usage writer to a real redb
//! file). Two more arms split the cost: the guard's layer alone, and a caller without
//! credentials. The last two send the same permission check a user's session cookie and
//! bearer token instead of a key. Rounds alternate between the arms so that noise from a shared machine falls
//! on all of them; the figures are medians over rounds, and the ratios are what matter.
//!
//! `ONLY=<arm index>` runs one arm, for a profiler.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use guard_axum::guard_core::credentials::issued::IssuedKind;
use guard_axum::guard_core::credentials::user::NewUser;
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
    /// The credential the request carries: header name and value.
    credential: (&'static str, String),
}

/// Nanoseconds per request over `PER_ROUND` requests.
async fn round(arm: &mut Arm) -> f64 {
    let (header, value) = (arm.credential.0, arm.credential.1.clone());
    let start = Instant::now();
    for _ in 0..PER_ROUND {
        let request = Request::get("/").header(header, &value).body(Body::empty()).unwrap();
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
        .sessions()
        .bearer_tokens()
        .build()
        .unwrap();
    let key = guard
        .create_key(NewKey { roles: vec!["admin".into()], ..NewKey::default() })
        .unwrap()
        .key
        .expose()
        .to_owned();

    // A user, logged in once with a session and once with a bearer token.
    let accounts = guard.accounts();
    let new = NewUser {
        name: "ann".into(),
        password: "correct horse battery".into(),
        roles: vec!["admin".into()],
        rate_limit: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (session, token) = runtime.block_on(async {
        let id = accounts.create_user(new).await.unwrap().id;
        let user = accounts.users().get(&id).unwrap();
        let session = accounts.issued().issue(IssuedKind::Session, &user, 0).await.unwrap().0;
        let token = accounts.issued().issue(IssuedKind::Token, &user, 0).await.unwrap().0;
        (session.expose().to_owned(), token.expose().to_owned())
    });
    let keyed_with = ("x-api-key", key.clone());
    // `with_state` turns the handlers into routes once, as `axum::serve` does: a `Router<()>`
    // called as a service without it would build them, and apply the layers, per request.
    let arm =
        |name, router: Router, credential| Arm { name, router: router.with_state(()), credential };
    let guarded = |handler| Router::new().route("/", handler).layer(guard.layer());
    let mut arms = vec![
        arm("bare handler", Router::new().route("/", get(bare)), keyed_with.clone()),
        // What any tower layer costs in an axum router, whatever it does: the fair baseline
        // for an application that already has middleware.
        arm(
            "bare handler, no-op layer",
            Router::new().route("/", get(bare)).layer(Identity::new()),
            keyed_with.clone(),
        ),
        arm("#[api_key] + usage", guarded(get(keyed)), keyed_with.clone()),
        arm("#[protected(permissions)], inherited", guarded(get(permitted)), keyed_with.clone()),
        arm("  of which: the guard's layer", guarded(get(bare)), keyed_with.clone()),
        arm(
            "  of which: + a caller without key",
            guarded(get(maybe)),
            ("x-not-a-key", key.clone()),
        ),
        arm(
            "#[protected(permissions)], session",
            guarded(get(permitted)),
            ("cookie", format!("guard_session={session}")),
        ),
        arm(
            "#[protected(permissions)], bearer",
            guarded(get(permitted)),
            ("authorization", format!("Bearer {token}")),
        ),
    ];
    if let Ok(only) = std::env::var("ONLY") {
        let only: usize = only.parse().expect("ONLY is an arm index");
        arms = vec![arms.swap_remove(only)];
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); arms.len()];
    runtime.block_on(async {
        for arm in &mut arms {
            round(arm).await; // warm-up
        }
        for _ in 0..ROUNDS {
            for (i, arm) in arms.iter_mut().enumerate() {
                samples[i].push(round(arm).await);
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
    if medians.len() > 7 {
        println!("  permission check vs #[api_key]: {:.3}x", medians[3] / medians[2]);
        println!("  session vs API key, same handler: {:.3}x", medians[6] / medians[3]);
        println!("  bearer vs API key, same handler:  {:.3}x", medians[7] / medians[3]);
    }
    let info = guard.keys().list().remove(0);
    println!("  (usage counted: {} requests on the key)", info.total_uses);
    guard.shutdown();
}
