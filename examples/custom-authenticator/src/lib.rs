//! An authenticator of the application's own: a reverse proxy that has already logged the user
//! in forwards who they are in `X-Forwarded-User` and `X-Forwarded-Roles`, signed with a key
//! the proxy and the application share (`X-Proxy-Signature`: hex blake3 keyed hash of
//! `user \n roles`). It runs at position 50, before the built-in API keys (100):
//!
//! - no forwarded identity: not mine, the API key authenticator gets its turn;
//! - a forwarded identity with a missing or wrong signature: rejected, 401, and nothing
//!   after it is tried, so a forged header never falls through to a weaker method;
//! - a valid signature: the caller, with the forwarded roles the policy declares.
//!
//! Run it with `cargo run -p custom-authenticator` (see `main.rs`).

use axum::Router;
use axum::routing::get;
use guard_axum::guard_core::authn::{AuthRequest, Authenticator, Description, Outcome, Verdict};
use guard_axum::guard_core::{Principal as CorePrincipal, PrincipalKind};
use guard_axum::{Guard, GuardError, Principal, protected};

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
    }
}

/// Where the proxy authenticator sits in the chain: before API keys.
pub const POSITION: u32 = 50;

/// Trusts identities forwarded by a proxy that signs them with `key`.
pub struct ProxySignature {
    key: [u8; 32],
}

impl ProxySignature {
    /// An authenticator for identities signed with `key`.
    pub fn new(key: [u8; 32]) -> Self {
        ProxySignature { key }
    }

    /// What a proxy holding `key` sends for `user` with `roles`.
    pub fn sign(key: &[u8; 32], user: &str, roles: &str) -> String {
        blake3::keyed_hash(key, format!("{user}\n{roles}").as_bytes()).to_hex().to_string()
    }

    /// Decided from the headers alone, so it answers at once (`Verdict::Now`).
    fn outcome(&self, request: &AuthRequest<'_>) -> Outcome {
        let headers = request.headers();
        // `None`: absent; `Some(None)`: present but not text.
        let text = |name: &str| headers.get(name).map(|v| v.to_str().ok());
        let (user, roles, signature) =
            (text("x-forwarded-user"), text("x-forwarded-roles"), text("x-proxy-signature"));
        if user.is_none() && roles.is_none() && signature.is_none() {
            return Outcome::NotMine;
        }
        let (Some(Some(user)), Some(Some(signature))) = (user, signature) else {
            return Outcome::rejected("incomplete or unreadable forwarded identity");
        };
        let roles = match roles {
            None => "",
            Some(Some(roles)) => roles,
            Some(None) => return Outcome::rejected("unreadable forwarded roles"),
        };
        // blake3::Hash compares in constant time.
        let expected = blake3::keyed_hash(&self.key, format!("{user}\n{roles}").as_bytes());
        match blake3::Hash::from_hex(signature) {
            Ok(presented) if presented == expected && !user.is_empty() => {
                let roles: Vec<&str> =
                    roles.split(',').map(str::trim).filter(|r| !r.is_empty()).collect();
                let grant = request.policy().grant(&roles);
                Outcome::Authenticated(CorePrincipal::new(
                    PrincipalKind::Custom,
                    user,
                    user,
                    &grant,
                ))
            }
            _ => Outcome::rejected("bad proxy signature"),
        }
    }
}

impl Authenticator for ProxySignature {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::Now(self.outcome(request))
    }

    /// Identity headers only the proxy sets: nothing a client could be asked for.
    fn describe(&self) -> Description {
        Description::new("ProxySignature").without_challenge()
    }

    fn name(&self) -> &str {
        "proxy signature"
    }
}

/// The guard: proxy identities first, then API keys.
pub fn guard(builder_db: &std::path::Path, key: [u8; 32]) -> Result<Guard, GuardError> {
    Guard::builder(&POLICY)
        .database(builder_db)
        .authenticator(POSITION, ProxySignature::new(key))
        .build()
}

/// The routes.
pub fn app(guard: &Guard) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/edit", get(edit))
        .nest("/auth", guard.admin_router())
        .layer(guard.layer())
}

#[protected]
async fn whoami(who: Principal) -> String {
    format!("{} ({:?})\n", who.name(), who.kind())
}

#[protected(roles = "editor")]
async fn edit(who: Principal) -> String {
    format!("{} may edit\n", who.name())
}
