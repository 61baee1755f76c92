//! One request's authentication: the chain runs once, its answer is memoised in the request
//! extensions, and the request's outcome is recorded once through the credential's handle.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::request::Parts;
use guard_core::authn::{AuthRequest, Outcome};
use guard_core::store::UsageOutcome;
use guard_core::{Principal, Timestamp};

use super::Guard;
use crate::rejection::Rejection;

/// What the guard keeps in one request's extensions (the only extension it inserts): the
/// guard, and once resolved, the caller, when, and whether its outcome was recorded.
#[derive(Clone)]
pub(crate) struct RequestAuth {
    pub(crate) guard: Guard,
    resolved: Option<Resolved>,
}

struct Resolved {
    result: Result<Principal, Rejection>,
    at: Timestamp,
    /// Atomic only so that it can be set through a shared borrow of the extensions, while the
    /// route is read from them.
    recorded: AtomicBool,
}

impl Clone for Resolved {
    fn clone(&self) -> Self {
        Resolved {
            result: self.result.clone(),
            at: self.at,
            recorded: AtomicBool::new(self.recorded.load(Ordering::Relaxed)),
        }
    }
}

impl RequestAuth {
    pub(crate) fn new(guard: Guard) -> Self {
        RequestAuth { guard, resolved: None }
    }

    /// Test mode: the caller is decided in advance, and nothing is recorded.
    #[cfg(any(debug_assertions, feature = "test-mode"))]
    pub(crate) fn preset(guard: Guard, principal: Principal) -> Self {
        let resolved = Resolved { result: Ok(principal), at: 0, recorded: AtomicBool::new(true) };
        RequestAuth { guard, resolved: Some(resolved) }
    }
}

/// The route as the router matched it (`/keys/{id}`), never the query string. A request no
/// route matched (a fallback handler) is recorded as `<unmatched>`, not by its raw path,
/// which the client chose and could make arbitrarily long.
pub(crate) fn route(parts: &Parts) -> &str {
    parts.extensions.get::<MatchedPath>().map_or("<unmatched>", MatchedPath::as_str)
}

/// The caller of this request (anonymous if no credentials), authenticated once.
pub(crate) async fn resolve(parts: &mut Parts, guard: &Guard) -> Result<Principal, Rejection> {
    if let Some(RequestAuth { resolved: Some(resolved), .. }) = parts.extensions.get() {
        return resolved.result.clone();
    }
    let core = guard.core();
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let request = AuthRequest::new(parts, client, &core.context);
    let outcome = guard.chain().authenticate(&request).await;
    let at = request.now();
    let result = match outcome {
        Outcome::Authenticated(principal) => Ok(principal),
        Outcome::NotMine => Ok(Principal::anonymous()),
        Outcome::Rejected(rejected) => {
            tracing::debug!(reason = rejected.reason(), "credentials rejected");
            if let Some((credential, outcome)) = rejected.credential() {
                core.usage.record(credential, at, outcome, &parts.method, route(parts));
            }
            Err(guard.invalid_credentials())
        }
        Outcome::Throttled { retry_after } => Err(Rejection::Throttled { retry_after }),
        other => {
            tracing::error!(
                ?other,
                "an authenticator answered with an outcome this version does not know"
            );
            Err(Rejection::Internal)
        }
    };
    let resolved = Resolved { result: result.clone(), at, recorded: AtomicBool::new(false) };
    match parts.extensions.get_mut::<RequestAuth>() {
        Some(auth) => auth.resolved = Some(resolved),
        // Reached through the admin router's own state, without the layer.
        None => {
            parts.extensions.insert(RequestAuth { guard: guard.clone(), resolved: Some(resolved) });
        }
    }
    result
}

/// Records the outcome of the request for the credential that authenticated it, once per
/// request, at the time it was authenticated.
pub(crate) fn record_decision(parts: &Parts, guard: &Guard, outcome: UsageOutcome) {
    let Some(RequestAuth { resolved: Some(resolved), .. }) = parts.extensions.get() else {
        return;
    };
    let Ok(principal) = &resolved.result else {
        return;
    };
    if let Some(credential) = principal.credential()
        && !resolved.recorded.swap(true, Ordering::Relaxed)
    {
        guard.usage().record(credential, resolved.at, outcome, &parts.method, route(parts));
    }
}
