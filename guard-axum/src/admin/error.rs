//! Errors of the admin API, and the JSON body extractor that reports bad input in the
//! contract's shape rather than axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guard_core::keys::KeyError;
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
        ApiError {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// 422 with a message about the input.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", detail)
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "admin request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
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
            KeyError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such key"),
            KeyError::Store(StoreError::Cancelled) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
            ),
            other => ApiError::internal(&other),
        }
    }
}

/// `Json<T>` whose rejections are JSON errors: 415 without a JSON content type, 413 over the
/// size cap, 400 for malformed JSON, 422 for the wrong shape (wrong types, unknown fields).
pub(crate) struct AdminJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for AdminJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(AdminJson(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "invalid_request",
        _ => "invalid_request",
    };
    ApiError::new(status, code, rejection.body_text())
}
