//! Admission to the admin API: by the admin secret in `X-Admin-Secret` (compared in constant
//! time), or, if the application named one with `GuardBuilder::admin_permission`, by
//! credentials granting that permission. A wrong secret is a 401 even if other credentials are
//! present: invalid credentials never fall through. Wrong secrets are throttled per client
//! address as failed logins are.

use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guard_core::accounts::LoginError;
use guard_core::usage::UsageOutcome;

use super::error::ApiError;
use super::no_store::NoStore;
use crate::Guard;
use crate::guard::{RequestAuth, resolve};
use crate::rejection::{Rejection, error_response};

/// The header carrying the admin secret.
pub const ADMIN_SECRET_HEADER: &str = "x-admin-secret";

/// Proof that a request is an administrator's, and how it was admitted.
pub(crate) struct Admin {
    /// The admin secret that admitted it, rather than credentials granting the admin
    /// permission.
    secret: Option<HeaderValue>,
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
            (Some(secret), None) => {
                // Guessing is throttled as logins are, per client address.
                let client = guard.client(parts);
                let matches = || guard.verify_admin_secret(secret.as_bytes());
                return match guard.accounts().check_admin_secret(client, matches).await {
                    Ok(()) => Ok(Admin { secret: Some(secret.clone()) }),
                    Err(LoginError::Invalid) => Err(AdminRejection::Unauthenticated),
                    Err(LoginError::Throttled { retry_after }) => {
                        let retry_after = Duration::from_secs(retry_after.max(1).unsigned_abs());
                        Err(AdminRejection::Guard(Rejection::Throttled { retry_after }))
                    }
                    Err(_) => Err(AdminRejection::Guard(Rejection::Unavailable {
                        retry_after: Duration::from_secs(1),
                    })),
                };
            }
            (Some(_), _) => return Err(AdminRejection::Unauthenticated),
            (None, _) => {}
        }
        let Some(permission) = guard.admin_permission() else {
            return Err(AdminRejection::Unauthenticated);
        };
        // The admin router layers its own guard, so the request has its state.
        let principal = resolve(parts).await.map_err(AdminRejection::Guard)?;
        let auth = RequestAuth::of(parts).map_err(AdminRejection::Guard)?;
        if !principal.is_authenticated() {
            return Err(AdminRejection::Unauthenticated);
        }
        if principal.permissions().is_superset(permission) {
            auth.record(parts, UsageOutcome::Ok);
            Ok(Admin { secret: None })
        } else {
            auth.record(parts, UsageOutcome::Forbidden);
            Err(AdminRejection::Guard(Rejection::Forbidden))
        }
    }
}

#[derive(serde::Serialize)]
pub(super) struct RotatedSecret {
    admin_secret: String,
}

/// `POST /admin-secret/rotate`: a new generated secret, effective at once; the old one stops
/// working. Only the holder of the secret may replace it (403 otherwise: a revocable key must
/// not turn itself into the master secret), and only a generated one (409 when it is
/// configured in code or the environment). The secret presented is the one replaced: of
/// concurrent rotations with it, on any instance, one succeeds and the others answer 409.
pub(super) async fn rotate_secret(
    admin: Admin,
    State(guard): State<Guard>,
) -> Result<NoStore<Json<RotatedSecret>>, ApiError> {
    let Some(current) = admin.secret else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the admin secret itself can rotate the admin secret",
        ));
    };
    // The secret presented is the one replaced: of concurrent rotations with it, one wins.
    let secret = guard.rotate_admin_secret_from(current.as_bytes()).await?;
    tracing::info!("admin secret rotated");
    Ok(NoStore(Json(RotatedSecret { admin_secret: secret.expose().to_owned() })))
}
