//! One request's authentication: the chain runs once, its answer is memoised in the request
//! extensions, and the request's outcome is recorded once through the credential's handle.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::MatchedPath;
use axum::http::request::Parts;
use guard_core::authn::{AuthRequest, Outcome, Progress};
use guard_core::usage::UsageOutcome;
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
    /// When the chain read the clock, if it did.
    at: Option<Timestamp>,
    /// Atomic only so that it is set through the shared borrow that also reads the route.
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
        let resolved =
            Resolved { result: Ok(principal), at: None, recorded: AtomicBool::new(true) };
        RequestAuth { guard, resolved: Some(resolved) }
    }

    /// The request's guard state, or a logged 500: a guarded handler without a guard never
    /// runs.
    pub(crate) fn of(parts: &Parts) -> Result<&RequestAuth, Rejection> {
        parts.extensions.get::<RequestAuth>().ok_or_else(|| {
            tracing::error!(
                path = parts.uri.path(),
                "a guarded handler ran without a Guard: add `.layer(guard.layer())` to the router"
            );
            Rejection::Internal
        })
    }

    /// Records the outcome of the request for the credential that authenticated it, once per
    /// request, at the time it was authenticated.
    pub(crate) fn record(&self, parts: &Parts, outcome: UsageOutcome) {
        let Some(Resolved { result: Ok(principal), at, recorded }) = &self.resolved else {
            return;
        };
        // One request's extractors run one after another: no race on the flag.
        if principal.credential().is_none() || recorded.load(Ordering::Relaxed) {
            return;
        }
        recorded.store(true, Ordering::Relaxed);
        let usage = self.guard.usage();
        let at = at.unwrap_or_else(|| self.guard.core().clock().now());
        principal.record_use(usage, at, outcome, &parts.method, route(parts));
    }
}

/// The caller of this request (anonymous if no credentials), authenticated once: the chain
/// runs on the first call, later calls read its answer.
pub(crate) async fn resolve(parts: &mut Parts) -> Result<Principal, Rejection> {
    let auth = RequestAuth::of(parts)?;
    if let Some(resolved) = &auth.resolved {
        return resolved.result.clone();
    }
    let guard = &auth.guard;
    // Only logins ask for the client's address (to throttle by it): most requests never look.
    let client = |head: &Parts| guard.client(head);
    let request = AuthRequest::with_client_from(parts, &client, guard.core().context());
    let outcome = match guard.chain().begin(&request) {
        Progress::Decided(outcome) => outcome,
        waiting => guard.chain().finish(waiting, &request).await,
    };
    let resolved = conclude(guard, parts, &request, outcome);
    let result = resolved.result.clone();
    if let Some(auth) = parts.extensions.get_mut::<RequestAuth>() {
        auth.resolved = Some(resolved);
    }
    result
}

/// Turns the chain's outcome into the request's caller or rejection.
fn conclude(guard: &Guard, parts: &Parts, request: &AuthRequest<'_>, outcome: Outcome) -> Resolved {
    let core = guard.core();
    let result = match outcome {
        Outcome::Authenticated(principal) => admit(guard, parts, request, principal),
        Outcome::NotMine => Ok(Principal::anonymous()),
        Outcome::Rejected(rejected) => {
            tracing::debug!(reason = rejected.reason(), "credentials rejected");
            if let Some((credential, outcome)) = rejected.credential() {
                let at = request.now();
                core.usage().record(credential, at, outcome, &parts.method, route(parts));
            }
            Err(guard.invalid_credentials())
        }
        Outcome::Throttled { retry_after } => Err(Rejection::Throttled { retry_after }),
        Outcome::Unavailable { retry_after } => Err(Rejection::Unavailable { retry_after }),
        Outcome::Forbidden(reason) => {
            tracing::debug!(reason, "credentials refused for this request");
            Err(Rejection::Forbidden)
        }
        other => {
            tracing::error!(
                ?other,
                "an authenticator answered with an outcome this version does not know"
            );
            Err(Rejection::Internal)
        }
    };
    Resolved { result, at: request.now_if_read(), recorded: AtomicBool::new(false) }
}

/// Admits an authenticated caller under its credential's rate limit, if it has one; over
/// it, the use is recorded as such and the request refused with 429.
fn admit(
    guard: &Guard,
    parts: &Parts,
    request: &AuthRequest<'_>,
    principal: Principal,
) -> Result<Principal, Rejection> {
    let Some(limiter) = principal.rate_limiter() else { return Ok(principal) };
    let core = guard.core();
    match core.rate_limits().admit(limiter) {
        Ok(()) => Ok(principal),
        Err(retry_after) => {
            tracing::debug!(principal = principal.id(), "over its rate limit");
            let at = request.now();
            let outcome = UsageOutcome::RateLimited;
            principal.record_use(core.usage(), at, outcome, &parts.method, route(parts));
            Err(Rejection::RateLimited { retry_after })
        }
    }
}

/// The route as the router matched it (`/keys/{id}`), never the query string. A request no
/// route matched (a fallback handler) is recorded as `<unmatched>`, not by its raw path,
/// which the client chose and could make arbitrarily long.
pub(crate) fn route(parts: &Parts) -> &str {
    parts.extensions.get::<MatchedPath>().map_or("<unmatched>", MatchedPath::as_str)
}
