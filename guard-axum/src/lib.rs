//! # guard-axum
//!
//! Authentication and authorization for [axum]: declare a policy once, protect each handler
//! with one attribute, and let the compiler check every role name.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use guard_axum::{Guard, Principal, api_key, protected};
//!
//! guard_axum::policy! {
//!     roles {
//!         viewer: [view_reports],
//!         editor: viewer + [edit_reports],
//!         admin: editor + [manage_keys],
//!     }
//! }
//!
//! #[protected(roles = "admin")]                 // "admn" here is a compile error
//! async fn admin_page(who: Principal) -> String {
//!     format!("hello {}", who.name())
//! }
//!
//! #[api_key]                                    // any valid API key
//! async fn data() -> &'static str {
//!     "data"
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let guard = Guard::builder(&POLICY).with_env()?.build()?;
//!     let app: Router = Router::new()
//!         .route("/admin", get(admin_page))
//!         .route("/data", get(data))
//!         .nest("/auth", guard.admin_router())
//!         .layer(guard.layer());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! Requests without credentials, or with invalid ones, get 401 with `WWW-Authenticate`;
//! authenticated callers without the role get 403. Errors are JSON
//! `{"error": "<code>", "detail": "<text>"}`.
//!
//! [axum]: https://docs.rs/axum

pub mod authn;
mod check;
mod extract;
mod guard;
mod layer;
#[cfg(feature = "openapi")]
pub mod openapi;
mod redact;
mod rejection;
pub mod routes;

pub use check::CheckFunction;
pub use extract::{Guarded, HandlerRequirement, Principal};
pub use guard::{Guard, GuardBuilder, IpNet};
pub use guard_core;
pub use guard_core::config::DEFAULT_DB_PATH;
pub use guard_core::{
    AdminSecretError, Clock, CreatedKey, CredentialFormat, Expiry, KeyError, KeyInfo, KeyState,
    ManualClock, NewKey, Policy, PolicySpec, PrincipalKind, RedbStore, Renewed, Requirement,
    SecretSource, Store, StoreError, SystemClock, UsageConfig, UsageOutcome,
};

/// Why a guard could not be built: the core's umbrella error.
pub use guard_core::Error as GuardError;
pub use guard_macros::{api_key, policy, protected};
#[cfg(feature = "postgres")]
pub use guard_postgres::{PostgresConfig, PostgresStore};
pub use layer::{GuardLayer, GuardService, ResponseFuture};
pub use redact::loggable_uri;
pub use rejection::{ErrorContext, Rejection};

/// What the macros' generated code uses. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::check::run_check;
    pub use crate::extract::{Guarded, HandlerRequirement};
    pub use axum::http::request::Parts;
    pub use guard_core::BoxFuture;
    pub use guard_core::Principal as CorePrincipal;
    pub use guard_core::{BitSet, Check, PolicySpec, Requirement, RoleSpec};
    pub use guard_macros::resolve;
}
