//! The guard's error responses (contract): JSON `{"error": "<code>", "detail": "<text>"}`.
//!
//! A 401 always carries `WWW-Authenticate`, and its body is the same for every kind of invalid
//! credential (wrong, revoked, expired, malformed), so a client learns nothing about which.
//! A 500 says nothing of its cause; the cause goes to the log.
//!
//! The application may replace the body of every 401, 403, 429, 500 and 503 the guard produces
//! with [`GuardBuilder::error_response`](crate::GuardBuilder::error_response); the status and
//! `WWW-Authenticate` stay. Guard errors carry a mark in their response extensions, and the
//! guard's layer hands marked responses to the hook on their way out.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the guard is about to answer, as the error hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct ErrorContext<'a> {
    /// The status, which the response keeps whatever the hook returns.
    pub status: StatusCode,
    /// The machine-readable code (`unauthenticated`, `forbidden`, `internal`, …).
    pub code: &'a str,
    /// The human-readable detail.
    pub detail: &'a str,
}

/// The application's replacement for the guard's error bodies.
pub(crate) type ErrorHook = Arc<dyn Fn(&ErrorContext<'_>) -> Response + Send + Sync>;

/// Marks a response as a guard error, with what the hook needs to know.
#[derive(Clone)]
struct ErrorMark {
    code: &'static str,
    detail: String,
}

/// The statuses whose bodies the hook replaces.
fn hookable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 401 | 403 | 429 | 500 | 503)
}

/// Hands a marked guard error to `hook`, keeping its status and challenge.
pub(crate) fn apply_hook(hook: &ErrorHook, mut response: Response) -> Response {
    let Some(mark) = response.extensions_mut().remove::<ErrorMark>() else {
        return response;
    };
    let status = response.status();
    if !hookable(status) {
        return response;
    }
    let context = ErrorContext { status, code: mark.code, detail: &mark.detail };
    let mut replaced = hook(&context);
    *replaced.status_mut() = status;
    for name in [header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            replaced.headers_mut().insert(name, value.clone());
        }
    }
    replaced
}

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
    /// 429: too many attempts; try again after `retry_after`.
    Throttled {
        /// How long the client should wait (sent in whole seconds, at least one).
        retry_after: Duration,
    },
    /// 429: the credential is over its rate limit; try again after `retry_after`.
    RateLimited {
        /// How long until the credential may be used again (sent in whole seconds, at least
        /// one).
        retry_after: Duration,
    },
    /// 500: the guard is misconfigured or failed; the cause was logged.
    Internal,
    /// 503: the credentials cannot be checked now; try again after `retry_after`.
    Unavailable {
        /// How long the client should wait (sent in whole seconds, at least one).
        retry_after: Duration,
    },
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingCredentials { .. } | Rejection::InvalidCredentials { .. } => {
                StatusCode::UNAUTHORIZED
            }
            Rejection::Forbidden => StatusCode::FORBIDDEN,
            Rejection::Throttled { .. } | Rejection::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Rejection::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Rejection::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable error code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingCredentials { .. } | Rejection::InvalidCredentials { .. } => {
                "unauthenticated"
            }
            Rejection::Forbidden => "forbidden",
            Rejection::Throttled { .. } | Rejection::RateLimited { .. } => "rate_limited",
            Rejection::Internal => "internal",
            Rejection::Unavailable { .. } => "unavailable",
        }
    }

    /// The human-readable detail of the body.
    pub fn detail(&self) -> &'static str {
        match self {
            Rejection::MissingCredentials { .. } => "credentials are required",
            Rejection::InvalidCredentials { .. } => "the credentials are not valid",
            Rejection::Forbidden => "the credentials do not grant access to this resource",
            Rejection::Throttled { .. } => "too many attempts; try again later",
            Rejection::RateLimited { .. } => {
                "the credential's rate limit is reached; try again after Retry-After seconds"
            }
            Rejection::Internal => "internal error",
            Rejection::Unavailable { .. } => {
                "the credentials cannot be checked now; try again shortly"
            }
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = error_response(self.status(), self.code(), self.detail());
        match self {
            Rejection::MissingCredentials { challenge }
            | Rejection::InvalidCredentials { challenge } => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
            }
            Rejection::Throttled { retry_after }
            | Rejection::RateLimited { retry_after }
            | Rejection::Unavailable { retry_after } => {
                response.headers_mut().insert(header::RETRY_AFTER, retry_after_value(retry_after));
            }
            Rejection::Forbidden | Rejection::Internal => {}
        }
        response
    }
}

/// `Retry-After` in whole seconds, rounded up, at least one: a client told "0" would retry at
/// once.
pub(crate) fn retry_after_value(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// A JSON error response in the contract's shape, marked for the error hook.
pub(crate) fn error_response(status: StatusCode, code: &'static str, detail: &str) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        error: &'a str,
        detail: &'a str,
    }
    let mut response = (status, axum::Json(Body { error: code, detail })).into_response();
    response.extensions_mut().insert(ErrorMark { code, detail: detail.to_owned() });
    response
}
