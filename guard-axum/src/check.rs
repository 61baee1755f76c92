//! `check = path::to::fn`: predicates of the application's own.
//!
//! A check is a plain function of the caller and the request head, sync or async:
//!
//! ```
//! use axum::http::request::Parts;
//! use guard_axum::Principal;
//!
//! /// Only the owner: `/notes/{owner}` for the caller named `owner`.
//! fn is_owner(who: &Principal, parts: &Parts) -> bool {
//!     parts.uri.path().rsplit('/').next() == Some(who.name())
//! }
//!
//! /// The same, asking something that takes time.
//! async fn is_on_call(who: &Principal, _parts: &Parts) -> bool {
//!     who.name().starts_with("ops-")
//! }
//! ```
//!
//! It runs only for an authenticated caller; `false` is a 403.

use std::future::{Future, Ready, ready};

use axum::http::request::Parts;
use guard_core::BoxFuture;

use crate::Principal;

/// A function usable as `check = …`: `fn(&Principal, &Parts) -> bool` or
/// `async fn(&Principal, &Parts) -> bool`. `M` tells the two apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a guard `check`",
    label = "not a check",
    note = "a check is `fn(&Principal, &Parts) -> bool` or `async fn(&Principal, &Parts) -> bool`, with `guard_axum::Principal` and `axum::http::request::Parts`"
)]
pub trait CheckFunction<'a, M>: Send + Sync + 'static {
    /// What calling it gives.
    type Future: Future<Output = bool> + Send + 'a;

    /// Calls the check.
    fn call(&self, principal: &'a Principal, parts: &'a Parts) -> Self::Future;
}

/// Marks a synchronous check.
#[doc(hidden)]
pub enum SyncCheck {}

/// Marks an asynchronous check.
#[doc(hidden)]
pub enum AsyncCheck {}

impl<'a, F> CheckFunction<'a, SyncCheck> for F
where
    F: Fn(&'a Principal, &'a Parts) -> bool + Send + Sync + 'static,
{
    type Future = Ready<bool>;

    fn call(&self, principal: &'a Principal, parts: &'a Parts) -> Self::Future {
        ready(self(principal, parts))
    }
}

impl<'a, F, Fut> CheckFunction<'a, AsyncCheck> for F
where
    F: Fn(&'a Principal, &'a Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'a,
{
    type Future = Fut;

    fn call(&self, principal: &'a Principal, parts: &'a Parts) -> Self::Future {
        self(principal, parts)
    }
}

/// What the wrapper the macros generate for each check calls.
#[doc(hidden)]
pub fn run_check<'a, M, F>(
    check: F,
    principal: &'a guard_core::Principal,
    parts: &'a Parts,
) -> BoxFuture<'a, bool>
where
    F: for<'b> CheckFunction<'b, M>,
    M: 'a,
{
    let who = Principal(principal.clone());
    Box::pin(async move { check.call(&who, parts).await })
}
