//! Extractors: the requirement extractor the macros insert, and [`Principal`].
//!
//! Both resolve the caller once per request and memoise the result in the request extensions,
//! so a handler with several of them runs the authenticator chain once and records once.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use guard_core::authz::{Decision, Requirement};
use guard_core::usage::UsageOutcome;

use crate::guard::{RequestAuth, resolve};
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

impl<S, R> FromRequestParts<S> for Guarded<R>
where
    S: Send + Sync,
    R: HandlerRequirement,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let principal = resolve(parts).await?;
        let auth = RequestAuth::of(parts)?;
        // A constant: requirements that name no role or permission skip the comparison.
        if R::POLICY_FINGERPRINT != 0 && R::POLICY_FINGERPRINT != auth.guard.policy().fingerprint()
        {
            tracing::error!(
                path = parts.uri.path(),
                "this handler was compiled against a different policy than the Guard's: build the Guard from the same `POLICY`"
            );
            return Err(Rejection::Internal);
        }
        let decision = match R::REQUIREMENT.decide_without_checks(&principal) {
            Some(decision) => decision,
            None => R::REQUIREMENT.decide(&principal, parts).await,
        };
        match decision {
            Decision::Allow => {
                auth.record(parts, UsageOutcome::Ok);
                Ok(Guarded { principal, requirement: PhantomData })
            }
            Decision::Unauthenticated => Err(auth.guard.missing_credentials()),
            Decision::Forbidden => {
                auth.record(parts, UsageOutcome::Forbidden);
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
        let principal = resolve(parts).await?;
        let auth = RequestAuth::of(parts)?;
        if principal.is_authenticated() {
            auth.record(parts, UsageOutcome::Ok);
            Ok(Principal(principal))
        } else {
            Err(auth.guard.missing_credentials())
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        let principal = resolve(parts).await?;
        let auth = RequestAuth::of(parts)?;
        if !principal.is_authenticated() {
            return Ok(None);
        }
        auth.record(parts, UsageOutcome::Ok);
        Ok(Some(Principal(principal)))
    }
}
