//! The admin API (contract: see DESIGN.md, "Admin routes"), mounted by the application:
//! `router.nest("/auth", guard.admin_router())`.
//!
//! Every route needs the admin secret in `X-Admin-Secret`. Bodies are JSON, capped in size,
//! with unknown fields refused; every error is a JSON body in the contract's shape.

mod error;
mod keys;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub use self::error::ApiError;
use crate::Guard;
use crate::rejection::error_response;

/// The header carrying the admin secret.
pub const ADMIN_SECRET_HEADER: &str = "x-admin-secret";

/// The largest admin request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Guard {
    /// The admin routes, to nest under a prefix of the application's choice (`/auth` in the
    /// examples): `POST /keys` creates an API key.
    pub fn admin_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/keys", post(keys::create))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.clone())
    }
}

/// Proof that a request carried the admin secret.
struct Admin;

/// A missing or wrong admin secret.
struct AdminRejection;

impl IntoResponse for AdminRejection {
    fn into_response(self) -> Response {
        let mut response = error_response(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the admin secret is required in X-Admin-Secret",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"AdminSecret header="X-Admin-Secret""#),
        );
        response
    }
}

impl FromRequestParts<Guard> for Admin {
    type Rejection = AdminRejection;

    async fn from_request_parts(parts: &mut Parts, guard: &Guard) -> Result<Self, AdminRejection> {
        let mut values = parts.headers.get_all(ADMIN_SECRET_HEADER).iter();
        match (values.next(), values.next()) {
            (Some(secret), None) if guard.verify_admin_secret(secret.as_bytes()) => Ok(Admin),
            _ => Err(AdminRejection),
        }
    }
}
