//! The admin API (contract: see DESIGN.md, "Admin routes"), mounted by the application:
//! `router.nest("/auth", guard.admin_router())`.
//!
//! A request is admitted by the admin secret in `X-Admin-Secret` (compared in constant time),
//! or, if the application named one with `GuardBuilder::admin_permission`, by credentials
//! granting that permission. A wrong secret is a 401 even if other credentials are present:
//! invalid credentials never fall through. Bodies are JSON, capped in size, with unknown
//! fields refused; every error is a JSON body in the contract's shape.

mod error;
mod keys;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guard_core::store::UsageOutcome;

pub use self::error::ApiError;
use crate::Guard;
use crate::extract::{record_decision, resolve};
use crate::rejection::{Rejection, error_response};

/// The header carrying the admin secret.
pub const ADMIN_SECRET_HEADER: &str = "x-admin-secret";

/// The largest admin request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Guard {
    /// The admin routes, to nest under a prefix of the application's choice (`/auth` in the
    /// examples):
    ///
    /// | route | does |
    /// |---|---|
    /// | `POST /keys` | create a key; the only response that shows it |
    /// | `GET /keys` | list keys with usage, most recently used first (`?limit=&offset=`) |
    /// | `GET /keys/{id}` | one key with its usage |
    /// | `POST /keys/{id}/revoke` | revoke |
    /// | `POST /keys/{id}/renew` | new expiry (`{expires_at?, ttl_days?, never_expires?}`); reactivates |
    /// | `DELETE /keys/{id}` | delete, with its usage records |
    /// | `GET /keys/{id}/usage` | recent usage records (`?limit=`) |
    /// | `POST /admin-secret/rotate` | replace a generated admin secret; shows the new one once |
    pub fn admin_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/keys", post(keys::create).get(keys::list))
            .route("/keys/{id}", get(keys::get).delete(keys::delete))
            .route("/keys/{id}/revoke", post(keys::revoke))
            .route("/keys/{id}/renew", post(keys::renew))
            .route("/keys/{id}/usage", get(keys::usage))
            .route("/admin-secret/rotate", post(rotate_secret))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            // Its own guard layer: the admin API works, and its errors go through the error
            // hook, even where the application layers the guard only around other routes.
            .layer(self.layer())
            .with_state(self.clone())
    }
}

/// Proof that a request is an administrator's, and how it was admitted.
pub(crate) struct Admin {
    /// By the admin secret itself, rather than by credentials granting the admin permission.
    by_secret: bool,
}

/// Why a request is not an administrator's.
pub(crate) enum AdminRejection {
    /// No or wrong secret, and no credentials granting the admin permission.
    Unauthenticated,
    /// The guard's own rejection (invalid credentials, missing guard, …).
    Guard(Rejection),
}

impl IntoResponse for AdminRejection {
    fn into_response(self) -> Response {
        match self {
            AdminRejection::Guard(rejection) => rejection.into_response(),
            AdminRejection::Unauthenticated => {
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
    }
}

impl FromRequestParts<Guard> for Admin {
    type Rejection = AdminRejection;

    async fn from_request_parts(parts: &mut Parts, guard: &Guard) -> Result<Self, AdminRejection> {
        let mut values = parts.headers.get_all(ADMIN_SECRET_HEADER).iter();
        match (values.next(), values.next()) {
            (Some(secret), None) if guard.verify_admin_secret(secret.as_bytes()) => {
                return Ok(Admin { by_secret: true });
            }
            (Some(_), _) => return Err(AdminRejection::Unauthenticated),
            (None, _) => {}
        }
        let Some(permission) = guard.admin_permission() else {
            return Err(AdminRejection::Unauthenticated);
        };
        let principal = resolve(parts, guard).await.map_err(AdminRejection::Guard)?;
        if !principal.is_authenticated() {
            return Err(AdminRejection::Unauthenticated);
        }
        if principal.permissions().is_superset(permission) {
            record_decision(parts, guard, UsageOutcome::Ok);
            Ok(Admin { by_secret: false })
        } else {
            record_decision(parts, guard, UsageOutcome::Forbidden);
            Err(AdminRejection::Guard(Rejection::Forbidden))
        }
    }
}

#[derive(serde::Serialize)]
struct RotatedSecret {
    admin_secret: String,
}

/// `POST /admin-secret/rotate`: a new generated secret, effective at once; the old one stops
/// working. Only the holder of the secret may replace it (403 otherwise: a revocable key must
/// not turn itself into the master secret), and only a generated one (409 when it is
/// configured in code or the environment).
async fn rotate_secret(
    admin: Admin,
    State(guard): State<Guard>,
) -> Result<Json<RotatedSecret>, ApiError> {
    if !admin.by_secret {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the admin secret itself can rotate the admin secret",
        ));
    }
    let rotating = guard.clone();
    let secret = match tokio::task::spawn_blocking(move || rotating.rotate_admin_secret()).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
            ));
        }
    };
    tracing::info!("admin secret rotated");
    Ok(Json(RotatedSecret { admin_secret: secret.expose().to_owned() }))
}
