//! Errors of the admin API, and the JSON body extractor that reports bad input in the
//! contract's shape rather than axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guard_core::AdminSecretError;
use guard_core::credentials::api_key::KeyError;
use guard_core::store::StoreError;
use serde::de::DeserializeOwned;

use crate::rejection::error_response;

/// An admin API error: a status, a code and a human-readable detail.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into() }
    }

    /// 422 with a message about the input.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", detail)
    }

    /// 404 for a key id, whatever its shape.
    pub(crate) fn no_such_key() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such key")
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "admin request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    pub(crate) fn store(error: &StoreError) -> Self {
        match error {
            StoreError::Cancelled => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
            ),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, self.code, &self.detail)
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::UnknownRoles(_) | KeyError::ExpiryNotInFuture | KeyError::InvalidTtl => {
                ApiError::invalid(error.to_string())
            }
            KeyError::NotFound => ApiError::no_such_key(),
            KeyError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

impl From<AdminSecretError> for ApiError {
    fn from(error: AdminSecretError) -> Self {
        match error {
            AdminSecretError::Configured => {
                ApiError::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            AdminSecretError::Store(store) => ApiError::store(&store),
            other => ApiError::internal(&other),
        }
    }
}

/// A JSON body whose errors are JSON too: 415 for a non-JSON content type, 413 over the
/// size cap, 400 for malformed JSON, 422 for the wrong shape (wrong types, unknown fields).
/// An empty body reads as `{}`, so routes whose fields are all optional need no body.
pub(crate) struct AdminJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for AdminJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.len() > 5 && mime[mime.len() - 5..].eq_ignore_ascii_case("+json"))
            });
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|r| ApiError::new(r.status(), code_for(r.status()), r.body_text()))?;
        let body: &[u8] = if bytes.is_empty() {
            b"{}"
        } else if is_json {
            &bytes
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, with `Content-Type: application/json`",
            ));
        };
        match serde_json::from_slice(body) {
            Ok(value) => Ok(AdminJson(value)),
            Err(e) if e.is_data() => Err(ApiError::invalid(e.to_string())),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("the body is not valid JSON: {e}"),
            )),
        }
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "invalid_request",
    }
}
