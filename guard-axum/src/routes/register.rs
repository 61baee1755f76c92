//! `/register`: a person creates their own account, where the application turned it on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use guard_core::accounts::RegisterError;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::body::JsonOrForm;
use super::error::ApiError;
use super::users::UserBody;
use crate::Guard;
use crate::authn::origin;

/// `POST /register` body, as a form or JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Registration {
    username: String,
    password: String,
    #[serde(rename = "api-key")]
    _api_key: Option<IgnoredAny>,
}

pub(crate) async fn register(
    State(guard): State<Guard>,
    parts: Parts,
    body: Result<JsonOrForm<Registration>, ApiError>,
) -> Response {
    // Like logging in: a page elsewhere must not create accounts in a visitor's browser.
    if origin::is_cross_site(&parts, guard.logins().tls) {
        let detail = "accounts are created only from this site";
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail).into_response();
    }
    let Registration { username, password, .. } = match body {
        Ok(body) => body.value,
        Err(error) => return error.into_response(),
    };
    let roles = guard.logins().registration.clone().unwrap_or_default();
    let accounts = guard.accounts();
    match accounts.register(username, password, roles, guard.client(&parts)).await {
        Ok(user) => {
            tracing::info!(id = %user.id, "a user registered");
            (StatusCode::CREATED, Json(UserBody::from(user))).into_response()
        }
        Err(RegisterError::Throttled { retry_after }) => {
            let detail = "too many attempts; try again later";
            let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail);
            error.retry_after(retry_after).into_response()
        }
        Err(RegisterError::User(error)) => ApiError::from(error).into_response(),
        Err(RegisterError::Store(error)) => ApiError::store(&error).into_response(),
        Err(other) => ApiError::internal(&other).into_response(),
    }
}
