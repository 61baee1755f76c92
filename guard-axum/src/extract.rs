//! Extractors: the requirement extractor the macros insert, and [`Principal`].
//!
//! Both resolve the caller once per request and memoise the result in the request extensions,
//! so a handler with several of them runs the authenticator chain once.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, MatchedPath, OptionalFromRequestParts};
use axum::http::request::Parts;
use guard_core::keys::KeyUse;
use guard_core::requirement::{Decision, Requirement};
use guard_core::store::UsageOutcome;

use crate::Guard;
use crate::rejection::Rejection;

/// A requirement attached to one handler by `#[protected]` or `#[api_key]`.
#[diagnostic::on_unimplemented(
    message = "no guard policy was found for this handler's requirement",
    label = "the role and permission names here are checked against `policy!`",
    note = "declare `guard_axum::policy! {{ roles {{ … }} }}` at the crate root, or name the module that declares it: `#[protected(policy = crate::path::to::module, …)]`"
)]
pub trait HandlerRequirement: Send + Sync + 'static {
    /// What the handler demands.
    const REQUIREMENT: Requirement;
    /// The fingerprint of the policy the names were resolved against, or 0 if none were.
    const POLICY_FINGERPRINT: u64;
}

/// The extractor `#[protected]` and `#[api_key]` put first in a handler's arguments: it
/// rejects the request unless the caller meets requirement `R`.
pub struct Guarded<R> {
    principal: guard_core::Principal,
    requirement: PhantomData<fn() -> R>,
}

impl<R> Guarded<R> {
    /// The caller, who met the requirement.
    pub fn principal(&self) -> &guard_core::Principal {
        &self.principal
    }
}

/// What the guard keeps in one request's extensions: the guard itself, and, once resolved,
/// the caller and whether its key use was recorded. Several extractors in one handler thus
/// authenticate once and record once.
#[derive(Clone)]
pub(crate) struct RequestAuth {
    guard: Guard,
    resolved: Option<Result<guard_core::Principal, Rejection>>,
    /// The key that authenticated the request, until its use is recorded.
    key_use: Option<KeyUse>,
}

impl RequestAuth {
    pub(crate) fn new(guard: Guard) -> Self {
        RequestAuth { guard, resolved: None, key_use: None }
    }

    /// Test mode: the caller is decided in advance.
    pub(crate) fn preset(guard: Guard, principal: guard_core::Principal) -> Self {
        RequestAuth { guard, resolved: Some(Ok(principal)), key_use: None }
    }
}

/// The request's guard, or a logged 500: a guarded handler without a guard never runs.
fn guard_of(parts: &Parts) -> Result<Guard, Rejection> {
    match parts.extensions.get::<RequestAuth>() {
        Some(auth) => Ok(auth.guard.clone()),
        None => {
            tracing::error!(
                path = parts.uri.path(),
                "a guarded handler ran without a Guard: add `.layer(guard.layer())` to the router"
            );
            Err(Rejection::Internal)
        }
    }
}

/// The caller of this request (anonymous if no credentials), authenticated once.
pub(crate) async fn resolve(
    parts: &mut Parts,
    guard: &Guard,
) -> Result<guard_core::Principal, Rejection> {
    if let Some(RequestAuth { resolved: Some(resolved), .. }) = parts.extensions.get() {
        return resolved.clone();
    }
    let (resolved, key_use) = match guard.authenticate_request(parts).await {
        Ok((principal, key_use)) => (Ok(principal), key_use),
        Err(rejection) => (Err(rejection), None),
    };
    let auth = match parts.extensions.get_mut::<RequestAuth>() {
        Some(auth) => auth,
        // Reached through the admin router's own state, without the layer.
        None => {
            parts.extensions.insert(RequestAuth::new(guard.clone()));
            parts.extensions.get_mut::<RequestAuth>().ok_or(Rejection::Internal)?
        }
    };
    auth.resolved = Some(resolved.clone());
    auth.key_use = key_use;
    resolved
}

/// The route as the router matched it (`/keys/{id}`), never the query string. A request no
/// route matched (a fallback handler) is recorded as `<unmatched>`, not by its raw path,
/// which the client chose and could make arbitrarily long.
pub(crate) fn route(parts: &Parts) -> &str {
    parts.extensions.get::<MatchedPath>().map_or("<unmatched>", MatchedPath::as_str)
}

/// Records the outcome of a request authenticated by an API key, once per request: the
/// handle is taken on the first call.
pub(crate) fn record_decision(parts: &mut Parts, guard: &Guard, outcome: UsageOutcome) {
    let key_use = parts.extensions.get_mut::<RequestAuth>().and_then(|auth| auth.key_use.take());
    if let Some(key_use) = key_use {
        guard.keys().record(&key_use, outcome, &parts.method, route(parts));
    }
}

impl<S, R> FromRequestParts<S> for Guarded<R>
where
    S: Send + Sync,
    R: HandlerRequirement,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let guard = guard_of(parts)?;
        if R::POLICY_FINGERPRINT != 0 && R::POLICY_FINGERPRINT != guard.policy().fingerprint() {
            tracing::error!(
                path = parts.uri.path(),
                "this handler was compiled against a different policy than the Guard's: build the Guard from the same `POLICY`"
            );
            return Err(Rejection::Internal);
        }
        let principal = resolve(parts, &guard).await?;
        match R::REQUIREMENT.decide(&principal, parts).await {
            Decision::Allow => {
                record_decision(parts, &guard, UsageOutcome::Ok);
                Ok(Guarded { principal, requirement: PhantomData })
            }
            Decision::Unauthenticated => Err(guard.missing_credentials()),
            Decision::Forbidden => {
                record_decision(parts, &guard, UsageOutcome::Forbidden);
                Err(Rejection::Forbidden)
            }
        }
    }
}

/// The authenticated caller of a request.
///
/// As an extractor it requires authentication: a request without credentials is answered
/// 401. Use `Option<Principal>` where a caller may be anonymous; invalid credentials are a 401
/// either way.
///
/// ```
/// use guard_axum::{Principal, protected};
///
/// #[protected]
/// async fn me(who: Principal) -> String {
///     format!("hello, {}", who.name())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Principal(pub guard_core::Principal);

impl Deref for Principal {
    type Target = guard_core::Principal;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Principal {
    /// The core principal.
    pub fn into_inner(self) -> guard_core::Principal {
        self.0
    }
}

impl serde::Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let guard = guard_of(parts)?;
        let principal = resolve(parts, &guard).await?;
        if principal.is_authenticated() {
            record_decision(parts, &guard, UsageOutcome::Ok);
            Ok(Principal(principal))
        } else {
            Err(guard.missing_credentials())
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        let guard = guard_of(parts)?;
        let principal = resolve(parts, &guard).await?;
        if !principal.is_authenticated() {
            return Ok(None);
        }
        record_decision(parts, &guard, UsageOutcome::Ok);
        Ok(Some(Principal(principal)))
    }
}
