//! The guard's error responses (contract): JSON `{"error": "<code>", "detail": "<text>"}`.
//!
//! A 401 always carries `WWW-Authenticate`, and its body is the same for every kind of invalid
//! credential (wrong, revoked, expired, malformed), so a client learns nothing about which.
//! A 500 says nothing of its cause; the cause goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why the guard refused a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Rejection {
    /// 401: no credentials where some are required.
    MissingCredentials {
        /// The `WWW-Authenticate` challenge.
        challenge: HeaderValue,
    },
    /// 401: credentials were presented and are not valid.
    InvalidCredentials {
        /// The `WWW-Authenticate` challenge.
        challenge: HeaderValue,
    },
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 500: the guard is misconfigured or failed; the cause was logged.
    Internal,
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingCredentials { .. } | Rejection::InvalidCredentials { .. } => {
                StatusCode::UNAUTHORIZED
            }
            Rejection::Forbidden => StatusCode::FORBIDDEN,
            Rejection::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable error code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingCredentials { .. } | Rejection::InvalidCredentials { .. } => {
                "unauthenticated"
            }
            Rejection::Forbidden => "forbidden",
            Rejection::Internal => "internal",
        }
    }

    /// The human-readable detail of the body.
    pub fn detail(&self) -> &'static str {
        match self {
            Rejection::MissingCredentials { .. } => "credentials are required",
            Rejection::InvalidCredentials { .. } => "the credentials are not valid",
            Rejection::Forbidden => "the credentials do not grant access to this resource",
            Rejection::Internal => "internal error",
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = error_response(self.status(), self.code(), self.detail());
        if let Rejection::MissingCredentials { challenge }
        | Rejection::InvalidCredentials { challenge } = self
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// A JSON error response in the contract's shape.
pub(crate) fn error_response(status: StatusCode, code: &str, detail: &str) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        error: &'a str,
        detail: &'a str,
    }
    (
        status,
        axum::Json(Body {
            error: code,
            detail,
        }),
    )
        .into_response()
}
