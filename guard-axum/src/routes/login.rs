//! `/login` and `/logout`: sessions for people, with a page to log in from a browser.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use guard_core::clock::to_rfc3339;
use guard_core::credentials::issued::IssuedKind;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::body::{Format, JsonOrForm};
use super::error::ApiError;
use crate::Guard;
use crate::authn::{cookie, origin};

const PAGE: &str = include_str!("login.html");

/// The page's policy: nothing but its own inline style, posting only to this site, never in
/// a frame.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// Whether `next` is a place on this site to go to after logging in: a path, not an address
/// elsewhere (`//host`, `/\host`, a scheme) that would make the login page an open redirect.
pub(crate) fn same_site(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2048
        && !next.chars().any(char::is_control)
        && next.parse::<axum::http::uri::PathAndQuery>().is_ok()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The login page, with `next` carried through and an error to show, if any.
fn page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let next = if same_site(next) { next } else { "" };
    let error = error
        .map_or(String::new(), |e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)));
    let html = PAGE.replace("{error}", &error).replace("{next}", &escape(next));
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /login` query.
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    next: Option<String>,
}

pub(crate) async fn show(query: Result<Query<PageQuery>, QueryRejection>) -> Response {
    let next = query.ok().and_then(|Query(q)| q.next).unwrap_or_default();
    page(StatusCode::OK, &next, None)
}

/// `POST /login` body, as a form or JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(rename = "api-key")]
    _api_key: Option<IgnoredAny>,
}

#[derive(Serialize)]
struct LoggedIn {
    user: super::users::UserBody,
    session_expires_at: String,
    idle_timeout_seconds: i64,
}

/// The cookie's name and whether it is `Secure`.
fn cookie_of(guard: &Guard) -> (&'static str, bool) {
    let tls = guard.logins().tls;
    (if tls { cookie::SECURE_COOKIE } else { cookie::COOKIE }, tls)
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

pub(crate) async fn login(
    State(guard): State<Guard>,
    parts: Parts,
    body: Result<JsonOrForm<Credentials>, ApiError>,
) -> Response {
    let tls = guard.logins().tls;
    if origin::is_cross_site(&parts, tls) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "logins are accepted only from this site",
        )
        .into_response();
    }
    let JsonOrForm { value: credentials, format } = match body {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let next = credentials.next.filter(|n| same_site(n));
    let accounts = guard.accounts();
    let failed = |error: ApiError| match format {
        Format::Form => {
            let mut response =
                page(error.status(), next.as_deref().unwrap_or(""), Some(error.detail()));
            if let Some(seconds) = error.retry_after_seconds() {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            response
        }
        Format::Json => error.into_response(),
    };
    let user = match accounts
        .login(&credentials.username, &credentials.password, guard.client(&parts))
        .await
    {
        Ok(user) => user,
        Err(error) => return failed(ApiError::from(error)),
    };
    let (name, secure) = cookie_of(&guard);
    // A new session at every login; one the browser still holds ends.
    if let Ok(Some(old)) = cookie::find(&parts.headers, name) {
        let _ = accounts.issued().end_presented(IssuedKind::Session, old).await;
    }
    let now = guard.core().clock().now();
    let (secret, info) = match accounts.issued().issue(IssuedKind::Session, &user, now).await {
        Ok(issued) => issued,
        Err(error) => return failed(ApiError::from(error)),
    };
    tracing::info!(user = user.user_id(), session = %info.id, "logged in");
    let lifetimes = accounts.issued().lifetimes();
    let set_cookie = cookie::set(name, secret.expose(), lifetimes.session_absolute, secure);
    let mut response = match (format, next) {
        (_, Some(next)) => see_other(&next),
        (Format::Form, None) => see_other("/"),
        (Format::Json, None) => Json(LoggedIn {
            user: user.info().into(),
            session_expires_at: to_rfc3339(info.expires_at),
            idle_timeout_seconds: lifetimes.session_idle,
        })
        .into_response(),
    };
    response.headers_mut().insert(SET_COOKIE, set_cookie);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /logout` query or body: where to go after, for a form.
#[derive(Deserialize)]
pub(crate) struct LogoutQuery {
    next: Option<String>,
}

pub(crate) async fn logout(
    State(guard): State<Guard>,
    parts: Parts,
    query: Result<Query<LogoutQuery>, QueryRejection>,
) -> Response {
    let (name, secure) = cookie_of(&guard);
    let presented = match cookie::find(&parts.headers, name) {
        Ok(presented) => presented,
        Err(()) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "two session cookies",
            )
            .into_response();
        }
    };
    if presented.is_some() && !origin::is_same_origin(&parts, guard.logins().tls) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "logging out is accepted only from this site",
        )
        .into_response();
    }
    if let Some(presented) = presented {
        match guard.accounts().issued().end_presented(IssuedKind::Session, presented).await {
            Ok(true) => tracing::info!("logged out"),
            Ok(false) => {}
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    let next = query.ok().and_then(|Query(q)| q.next).filter(|n| same_site(n));
    let mut response = match next {
        Some(next) => see_other(&next),
        None => Json(serde_json::json!({ "logged_out": true })).into_response(),
    };
    response.headers_mut().insert(SET_COOKIE, cookie::clear(name, secure));
    response
}
