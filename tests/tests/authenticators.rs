//! The authenticator chain: position order, fall-through on "not mine", stop on "rejected",
//! 429 on "throttled", duplicate positions refused.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use guard_axum::guard_core::authn::{AuthRequest, Authenticator, Description, Outcome, Verdict};
use guard_axum::guard_core::{Principal as CorePrincipal, PrincipalKind};
use guard_axum::{ErrorContext, Guard, GuardError, NewKey, Principal, protected};
use guard_tests::{TestServer, client};

guard_axum::policy! {
    roles { member: [read] }
}

/// Answers for requests carrying `X-Test-<tag>`: `yes` authenticates as `<tag>`, `no` rejects,
/// `slow-down` throttles, anything else is not its business. It answers later (through a
/// future), as an authenticator that must wait for something would.
struct Tagged(&'static str);

impl Authenticator for Tagged {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::later(async move {
            let header = format!("x-test-{}", self.0);
            match request.headers().get(header.as_str()).map(|v| v.as_bytes()) {
                Some(b"yes") => {
                    let grant = request.policy().grant(&["member"]);
                    Outcome::Authenticated(CorePrincipal::new(
                        PrincipalKind::Custom,
                        self.0,
                        self.0,
                        &grant,
                    ))
                }
                Some(b"no") => Outcome::rejected("told to reject"),
                Some(b"slow-down") => {
                    Outcome::Throttled { retry_after: Duration::from_millis(2500) }
                }
                _ => Outcome::NotMine,
            }
        })
    }

    fn describe(&self) -> Description {
        Description::new("Tagged")
    }

    fn name(&self) -> &str {
        self.0
    }
}

#[protected]
async fn who(who: Principal) -> String {
    who.name().to_owned()
}

async fn serve(guard: &Guard) -> TestServer {
    TestServer::start(Router::new().route("/who", get(who)).layer(guard.layer())).await.unwrap()
}

#[tokio::test]
async fn lower_positions_run_first_not_mine_falls_through_rejected_stops() {
    let dir = tempfile::tempdir().unwrap();
    // first (50) < API keys (100) < second (150)
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("g.redb"))
        .authenticator(150, Tagged("second"))
        .authenticator(50, Tagged("first"))
        .build()
        .unwrap();
    let key = guard
        .create_key(NewKey { name: Some("keyed".into()), ..NewKey::default() })
        .unwrap()
        .key
        .expose()
        .to_owned();
    let server = serve(&guard).await;
    let client = client();
    let ask = |headers: &[(&'static str, &str)]| {
        let mut request = client.get(server.url("/who"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    // Order: when several would authenticate, the lowest position wins.
    let everything =
        [("x-test-first", "yes"), ("x-test-second", "yes"), ("x-api-key", key.as_str())];
    assert_eq!(ask(&everything).await, (200, "first".into()));
    assert_eq!(ask(&[("x-test-second", "yes"), ("x-api-key", &key)]).await, (200, "keyed".into()));
    // Fall-through: "not mine" passes to the next.
    assert_eq!(ask(&[("x-test-second", "yes")]).await, (200, "second".into()));
    // Stop: a rejection is final, even though later credentials are valid.
    assert_eq!(ask(&[("x-test-first", "no"), ("x-api-key", &key)]).await.0, 401);
    assert_eq!(ask(&[("x-api-key", "gk_wrong"), ("x-test-second", "yes")]).await.0, 401);
    // Nobody claims the request: anonymous, 401, and the challenges of the whole chain, in
    // chain order, each one once (both test authenticators offer the same one).
    let response = client.get(server.url("/who")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(challenge, r#"Tagged, ApiKey header="X-API-Key", query="api-key""#);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_built_in_can_move_and_positions_must_be_unique() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("g.redb"))
        .api_key_position(10)
        .authenticator(50, Tagged("first"))
        .build()
        .unwrap();
    let key = guard.create_key(NewKey { name: Some("keyed".into()), ..NewKey::default() }).unwrap();
    let server = serve(&guard).await;
    let response = client()
        .get(server.url("/who"))
        .header("x-test-first", "yes")
        .header("x-api-key", key.key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "keyed", "API keys now run first");
    server.stop().await.unwrap();
    drop(guard);

    let error = Guard::builder(&POLICY)
        .database(dir.path().join("other.redb"))
        .authenticator(100, Tagged("squatter"))
        .build()
        .unwrap_err();
    assert!(matches!(error, GuardError::DuplicatePosition { position: 100, .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("squatter") && message.contains("position 100"), "{message}");
}

#[tokio::test]
async fn throttled_is_a_429_with_retry_after_through_the_error_hook() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("g.redb"))
        .authenticator(50, Tagged("first"))
        .error_response(|e: &ErrorContext<'_>| format!("custom {} {}", e.status.as_u16(), e.code))
        .build()
        .unwrap();
    let key = guard.create_key(NewKey::default()).unwrap().key.expose().to_owned();
    let server = serve(&guard).await;
    let response = client()
        .get(server.url("/who"))
        .header("x-test-first", "slow-down")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "throttling stops the chain: the key is not tried");
    assert_eq!(response.headers()["retry-after"], "3", "whole seconds, rounded up");
    assert_eq!(response.text().await.unwrap(), "custom 429 rate_limited");
    server.stop().await.unwrap();
}
