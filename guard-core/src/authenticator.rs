//! Authenticators: each recognises one kind of credential in a request.
//!
//! The guard runs its authenticators in position order (lower first) and stops at the first
//! that either authenticates the caller or rejects the credentials it found. Credentials that
//! are present but wrong never fall through to a weaker method. The built-in authenticators
//! take the positions in [`positions`], with gaps, so that one of the application's own can
//! run before, between or after them.

use std::future::Future;
use std::pin::Pin;

use http::request::Parts;

use crate::principal::Principal;

/// The default positions of the built-in authenticators: lower runs first.
pub mod positions {
    /// API key in `X-API-Key` or `api-key`.
    pub const API_KEY: u32 = 100;
    /// Reserved for the bearer token authenticator.
    pub const BEARER: u32 = 200;
    /// Reserved for the JWT authenticator.
    pub const JWT: u32 = 250;
    /// Reserved for the session cookie authenticator.
    pub const SESSION: u32 = 300;
    /// Reserved for HTTP basic authentication.
    pub const BASIC: u32 = 400;
}

/// A boxed, sendable future, as object-safe async traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one authenticator concluded about a request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// These credentials identify this caller: stop here.
    Authenticated(Principal),
    /// No credentials of this kind in the request: ask the next authenticator.
    NotMine,
    /// Credentials of this kind were present and are not valid: stop, 401. The reason is for
    /// the log only; the client is told nothing more than "invalid credentials".
    Rejected(&'static str),
}

/// Recognises one kind of credential.
///
/// ```
/// use guard_core::authenticator::{Authenticator, BoxFuture, Outcome};
/// use http::request::Parts;
///
/// /// Trusts nobody: rejects any request carrying `X-Debug-User`.
/// struct NoDebugUsers;
///
/// impl Authenticator for NoDebugUsers {
///     fn authenticate<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Outcome> {
///         Box::pin(async move {
///             if parts.headers.contains_key("x-debug-user") {
///                 Outcome::Rejected("debug users are not accepted")
///             } else {
///                 Outcome::NotMine
///             }
///         })
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Looks for this authenticator's credentials in the request head.
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Outcome>;

    /// The `WWW-Authenticate` challenge that tells a client how to present these credentials,
    /// e.g. `Bearer realm="api"`; `None` for credentials a client cannot be asked for.
    fn challenge(&self) -> Option<&str> {
        None
    }

    /// A name for logs and errors (by default, the type's name).
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}
