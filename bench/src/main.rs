//! The HTTP benchmark's server (`bench/http.sh` drives it): `GET /secure`, bare or behind an
//! API key check, the same for every arm, so that what differs is the framework:
//!
//! - `bare`: no check at all;
//! - `handwritten`: an extractor comparing the key with one constant, the floor of any check;
//! - `guard`: `#[api_key]`, keys in a redb file, usage recorded;
//! - `protect-axum`: protect-axum 0.2's `GrantsLayer`, with the key looked up in an in-memory
//!   map (its usual set-up: it checks authorities, finding them is the application's job);
//! - `axum-login`: axum-login 0.18, a user logged in once (`POST /login`), then a session
//!   cookie on every request, sessions in tower-sessions' memory store.
//!
//! Two more split guard's cost: `guard-layer` (its layer, no extractor) and `guard-optional`
//! (`Option<Principal>`).
//!
//! `guard-bench <arm> <address>` prints `ready <header>` once listening, where `<header>` is
//! what a client sends (`X-API-Key: …`; for axum-login, log in first and send the cookie).

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

guard_axum::policy! { roles { client: [read] } }

/// The key protect-axum's arm accepts, as an application would keep it: in memory.
const PROTECT_KEY: &str = "pk_benchmark_key_0123456789abcdefghijklmnopqrstuvwxyz";

async fn secure() -> &'static str {
    "secure data\n"
}

/// The floor: an extractor comparing the key with one held in memory.
struct HandwrittenKey;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for HandwrittenKey {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, StatusCode> {
        match parts.headers.get("x-api-key") {
            Some(key) if key.as_bytes() == PROTECT_KEY.as_bytes() => Ok(HandwrittenKey),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }
}

async fn handwritten(_: HandwrittenKey) -> &'static str {
    "secure data\n"
}

async fn optional(_: Option<guard_axum::Principal>) -> &'static str {
    "secure data\n"
}

#[guard_axum::api_key]
async fn guarded() -> &'static str {
    "secure data\n"
}

#[protect_axum::protect("read")]
async fn protected() -> &'static str {
    "secure data\n"
}

/// protect-axum's extractor: the authorities of the request's key.
async fn authorities(request: &mut Request) -> Result<HashSet<String>, Response> {
    static KEYS: LazyLock<HashMap<&'static str, HashSet<String>>> =
        LazyLock::new(|| HashMap::from([(PROTECT_KEY, HashSet::from(["read".to_owned()]))]));
    let key = request.headers().get("x-api-key").and_then(|v| v.to_str().ok());
    match key.and_then(|k| KEYS.get(k)) {
        Some(authorities) => Ok(authorities.clone()),
        None => Err(StatusCode::UNAUTHORIZED.into_response()),
    }
}

mod login {
    //! axum-login's arm: one user, in memory.

    use axum::http::StatusCode;
    use axum_login::{AuthSession, AuthUser, AuthnBackend, UserId};

    #[derive(Debug, Clone)]
    pub(crate) struct User;

    impl AuthUser for User {
        type Id = u64;
        fn id(&self) -> u64 {
            1
        }
        fn session_auth_hash(&self) -> &[u8] {
            b"benchmark user"
        }
    }

    #[derive(Debug, Clone)]
    pub(crate) struct Backend;

    impl AuthnBackend for Backend {
        type User = User;
        type Credentials = ();
        type Error = std::convert::Infallible;

        async fn authenticate(&self, (): ()) -> Result<Option<User>, Self::Error> {
            Ok(Some(User))
        }

        async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
            Ok((*id == 1).then_some(User))
        }
    }

    pub(crate) async fn login(mut session: AuthSession<Backend>) -> StatusCode {
        match session.login(&User).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn app(arm: &str, dir: &std::path::Path) -> Result<(Router, String), String> {
    let header = format!("X-API-Key: {PROTECT_KEY}");
    Ok(match arm {
        "bare" => (Router::new().route("/secure", get(secure)), header),
        "handwritten" => (Router::new().route("/secure", get(handwritten)), header),
        "guard" | "guard-layer" | "guard-optional" => {
            let guard = guard_axum::Guard::builder(&POLICY)
                .database(dir.join("bench.redb"))
                .admin_secret("benchmark-admin-secret-0123456789")
                .build()
                .map_err(|e| e.to_string())?;
            let key = guard
                .create_key(guard_axum::NewKey {
                    roles: vec!["client".into()],
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            let header = format!("X-API-Key: {}", key.key.expose());
            match arm {
                "guard-layer" => {
                    (Router::new().route("/secure", get(secure)).layer(guard.layer()), header)
                }
                "guard-optional" => {
                    (Router::new().route("/secure", get(optional)).layer(guard.layer()), header)
                }
                _ => (Router::new().route("/secure", get(guarded)).layer(guard.layer()), header),
            }
        }
        "protect-axum" => {
            let layer = protect_axum::GrantsLayer::with_extractor(authorities);
            (Router::new().route("/secure", get(protected)).layer(layer), header)
        }
        "axum-login" => {
            let sessions =
                tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
                    .with_secure(false);
            let auth = axum_login::AuthManagerLayerBuilder::new(login::Backend, sessions).build();
            let router = Router::new()
                .route("/secure", get(secure))
                .route_layer(axum_login::login_required!(login::Backend))
                .route("/login", post(login::login))
                .layer(auth);
            (router, "Cookie: (log in with POST /login)".to_owned())
        }
        other => return Err(format!("unknown arm {other:?}: see the module documentation")),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(arm), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: guard-bench <bare|guard|protect-axum|axum-login> <address>");
        return ExitCode::FAILURE;
    };
    let dir = std::env::temp_dir().join(format!("guard-bench-{}", std::process::id()));
    let served = async {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let (router, header) = app(arm, &dir)?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
        println!("ready {header}");
        axum::serve(listener, router).await.map_err(|e| e.to_string())
    };
    let result = served.await;
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("guard-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
