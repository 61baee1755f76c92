//! Errors of the guard's routes, in the contract's shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guard_core::AdminSecretError;
use guard_core::accounts::LoginError;
use guard_core::credentials::api_key::KeyError;
use guard_core::store::StoreError;

use crate::rejection::error_response;

/// An admin API error: a status, a code and a human-readable detail.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    retry_after: Option<i64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), retry_after: None }
    }

    /// 422 with a message about the input.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", detail)
    }

    /// 404 for a key id, whatever its shape.
    pub(crate) fn no_such_key() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such key")
    }

    /// 503: too busy now; the client is told to retry in a second.
    pub(crate) fn busy() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "too busy; try again shortly")
            .retry_after(1)
    }

    /// The status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The human-readable detail.
    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    /// The `Retry-After` it carries, if any.
    pub(crate) fn retry_after_seconds(&self) -> Option<i64> {
        self.retry_after
    }

    /// Adds `Retry-After` to the answer.
    pub(crate) fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "admin request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// A store failure: 503 with `Retry-After` while the database cannot be reached (the
    /// cause is logged once per request), otherwise a 500.
    pub(crate) fn store(error: &StoreError) -> Self {
        match error {
            StoreError::Cancelled => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
            ),
            StoreError::Unavailable(_) => {
                tracing::warn!(%error, "a write was refused: the database cannot be reached");
                Self::unavailable()
            }
            other => Self::internal(other),
        }
    }

    /// 503: the database cannot be reached; the client is told to retry shortly.
    pub(crate) fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database cannot be reached; try again shortly",
        )
        .retry_after(2)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = error_response(self.status, self.code, &self.detail);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::UnknownRoles(_)
            | KeyError::ExpiryNotInFuture
            | KeyError::InvalidTtl
            | KeyError::UnknownOwner
            | KeyError::RolesBeyondOwner(_) => ApiError::invalid(error.to_string()),
            KeyError::NotFound => ApiError::no_such_key(),
            KeyError::OwnerDisabled => {
                ApiError::new(StatusCode::CONFLICT, "owner_disabled", error.to_string())
            }
            KeyError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

/// The answer to a failed login: alike for an unknown user and a wrong password.
impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Invalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "invalid user name or password",
            ),
            LoginError::Throttled { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many failed logins; try again later",
            )
            .retry_after(retry_after),
            LoginError::Busy => ApiError::busy(),
            LoginError::Unavailable => ApiError::unavailable(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<AdminSecretError> for ApiError {
    fn from(error: AdminSecretError) -> Self {
        match error {
            AdminSecretError::Configured | AdminSecretError::Superseded => {
                ApiError::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            AdminSecretError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

pub(crate) fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "invalid_request",
    }
}

impl From<guard_core::credentials::user::UserError> for ApiError {
    fn from(error: guard_core::credentials::user::UserError) -> Self {
        use guard_core::credentials::password::PasswordError;
        use guard_core::credentials::user::UserError;
        match error {
            UserError::InvalidName(_)
            | UserError::UnknownRoles(_)
            | UserError::Password(PasswordError::Length) => ApiError::invalid(error.to_string()),
            UserError::Password(PasswordError::Busy) => ApiError::busy(),
            UserError::NameTaken => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "the name is taken")
            }
            UserError::Changed => {
                ApiError::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            UserError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user")
            }
            UserError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

impl From<guard_core::credentials::issued::IssueError> for ApiError {
    fn from(error: guard_core::credentials::issued::IssueError) -> Self {
        match error {
            guard_core::credentials::issued::IssueError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

impl From<guard_core::store::StoreError> for ApiError {
    fn from(error: guard_core::store::StoreError) -> Self {
        ApiError::store(&error)
    }
}
