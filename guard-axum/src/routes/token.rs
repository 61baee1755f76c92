//! `/token` and `/token/revoke`: the OAuth2 password grant (RFC 6749 §4.3) and token
//! revocation (RFC 7009). Errors in RFC 6749 §5.2 form: `{"error": "invalid_grant", …}`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use guard_core::accounts::LoginError;
use guard_core::credentials::issued::{IssueError, IssuedKind};
use guard_core::credentials::jwt::Jwt;
use guard_core::store::StoreError;
use serde::{Deserialize, Serialize};

use super::body::{Format, read};
use super::no_store::NoStore;
use crate::Guard;

/// An error of the token endpoint, in RFC 6749 §5.2 form.
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<i64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), retry_after: None }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

/// 503: the database cannot be reached, so no token can be issued now.
fn unavailable() -> OAuthError {
    OAuthError {
        retry_after: Some(2),
        ..OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the database cannot be reached; try again shortly",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            error_description: &'a str,
        }
        let body = Body { error: self.error, error_description: &self.description };
        let mut response = NoStore((self.status, Json(body))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, seconds.max(1).into());
        }
        response
    }
}

/// `POST /token` form.
#[derive(Deserialize)]
pub(crate) struct Grant {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Serialize)]
struct Issued {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
}

pub(crate) async fn token(
    State(guard): State<Guard>,
    request: Request,
) -> Result<Response, OAuthError> {
    let (parts, body) = request.into_parts();
    let client = guard.client(&parts);
    let request = Request::from_parts(parts, body);
    let (grant, _): (Grant, Format) = read(request, &(), &[Format::Form], None)
        .await
        .map_err(|e| OAuthError::invalid_request(e.detail().to_owned()))?;
    match grant.grant_type.as_deref() {
        Some("password") => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the password grant is supported",
            ));
        }
        None => return Err(OAuthError::invalid_request("`grant_type` is missing")),
    }
    let (Some(username), Some(password)) = (grant.username, grant.password) else {
        return Err(OAuthError::invalid_request("`username` and `password` are required"));
    };
    let accounts = guard.accounts();
    let user = accounts.login(&username, &password, client).await.map_err(|error| match error {
        LoginError::Invalid => OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid user name or password",
        ),
        LoginError::Throttled { retry_after } => OAuthError {
            retry_after: Some(retry_after),
            ..OAuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_grant",
                "too many failed logins; try again later",
            )
        },
        LoginError::Busy => OAuthError {
            retry_after: Some(1),
            ..OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too busy; try again shortly",
            )
        },
        LoginError::Unavailable => unavailable(),
        other => {
            tracing::error!(error = %other, "a token could not be issued");
            OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
        }
    })?;
    let lifetime = accounts.issued().lifetimes().token;
    let now = guard.core().clock().now();
    let failed = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, "a token could not be issued");
        OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    };
    let access_token = match (&guard.logins().jwt, guard.logins().issue_jwts) {
        (Some(jwt), true) => jwt.issue(&user, now, lifetime).map_err(|e| failed(&e))?,
        _ => match accounts.issued().issue(IssuedKind::Token, &user, now).await {
            Ok((token, _)) => token.expose().to_owned(),
            Err(IssueError::Store(StoreError::Unavailable(error))) => {
                tracing::warn!(%error, "a token was refused: the database cannot be reached");
                return Err(unavailable());
            }
            Err(error) => return Err(failed(&error)),
        },
    };
    tracing::info!(user = user.user_id(), "token issued");
    Ok(NoStore(Json(Issued { access_token, token_type: "bearer", expires_in: lifetime }))
        .into_response())
}

/// `POST /token/revoke` form (RFC 7009).
#[derive(Deserialize)]
pub(crate) struct Revocation {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
}

pub(crate) async fn revoke(
    State(guard): State<Guard>,
    request: Request,
) -> Result<StatusCode, OAuthError> {
    let (revocation, _): (Revocation, Format) = read(request, &(), &[Format::Form], None)
        .await
        .map_err(|e| OAuthError::invalid_request(e.detail().to_owned()))?;
    let token =
        revocation.token.ok_or_else(|| OAuthError::invalid_request("`token` is missing"))?;
    if Jwt::looks_like_jwt(token.as_bytes()) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            "JWTs cannot be revoked; they end when they expire or their user is disabled",
        ));
    }
    // An unknown or invalid token is not an error (RFC 7009 §2.2): the answer says nothing.
    let ended = guard.accounts().issued().end_presented(IssuedKind::Token, token.as_bytes()).await;
    match ended {
        Ok(true) => tracing::info!("token revoked"),
        Ok(false) => {}
        Err(error) => {
            tracing::error!(%error, "a token could not be revoked");
            return Err(OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            ));
        }
    }
    Ok(StatusCode::OK)
}
