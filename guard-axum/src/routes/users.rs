//! `/users` and `/sessions`: user administration.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use guard_core::clock::to_rfc3339;
use guard_core::credentials::issued::IssuedInfo;
use guard_core::credentials::issued::IssuedKind;
use guard_core::credentials::user::{NewUser, UserInfo, UserPatch};
use guard_core::usage::RateLimit;
use serde::{Deserialize, Serialize};

use super::admin::Admin;
use super::body::AdminJson;
use super::error::ApiError;
use super::paging::{self, Page, Window};
use super::rate_limit::{checked, checked_change, present};
use crate::Guard;

/// A user as the admin API shows it: never its password or hash.
#[derive(Debug, Serialize)]
pub(crate) struct UserBody {
    id: String,
    name: String,
    roles: Vec<String>,
    disabled: bool,
    created_at: String,
    updated_at: String,
    rate_limit: Option<RateLimit>,
}

impl From<UserInfo> for UserBody {
    fn from(info: UserInfo) -> Self {
        UserBody {
            id: info.id,
            name: info.name,
            roles: info.roles,
            disabled: info.disabled,
            created_at: to_rfc3339(info.created_at),
            updated_at: to_rfc3339(info.updated_at),
            rate_limit: info.rate_limit,
        }
    }
}

/// `POST /users` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    name: String,
    password: String,
    roles: Option<Vec<String>>,
    rate_limit: Option<RateLimit>,
}

fn no_such_user() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user")
}

/// The `{id}` of a user route; one that does not decode names no user.
fn user_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id).map_err(|_| no_such_user())
}

pub(crate) async fn create(
    _: Admin,
    State(guard): State<Guard>,
    AdminJson(body): AdminJson<CreateUser>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let new = NewUser {
        name: body.name,
        password: body.password,
        roles: body.roles.unwrap_or_default(),
        rate_limit: checked(body.rate_limit)?,
    };
    let user = guard.accounts().create_user(new).await?;
    tracing::info!(id = %user.id, "user created");
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Serialize)]
pub(crate) struct UserList {
    users: Vec<UserBody>,
    #[serde(flatten)]
    window: Window,
}

pub(crate) async fn list(
    _: Admin,
    State(guard): State<Guard>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<UserList>, ApiError> {
    let (users, window) = paging::page(page, guard.accounts().users().list())?;
    Ok(Json(UserList { users, window }))
}

pub(crate) async fn get(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<UserBody>, ApiError> {
    let user = guard.accounts().users().get(&user_id(id)?).ok_or_else(no_such_user)?;
    Ok(Json(user.info().into()))
}

/// `PATCH /users/{id}` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Patch {
    name: Option<String>,
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
    /// A new limit; `null` removes it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<RateLimit>>,
}

pub(crate) async fn patch(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
    AdminJson(body): AdminJson<Patch>,
) -> Result<Json<UserBody>, ApiError> {
    let id = user_id(id)?;
    let patch = UserPatch {
        name: body.name,
        roles: body.roles,
        disabled: body.disabled,
        rate_limit: checked_change(body.rate_limit)?,
    };
    let user = guard.accounts().patch_user(&id, patch).await?;
    tracing::info!(id = %user.id, disabled = user.disabled, "user changed");
    Ok(Json(user.into()))
}

pub(crate) async fn delete(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = user_id(id)?;
    guard.accounts().delete_user(&id).await?;
    tracing::info!(id = %id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /users/{id}/password` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    password: String,
}

pub(crate) async fn set_password(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
    AdminJson(body): AdminJson<NewPassword>,
) -> Result<Json<UserBody>, ApiError> {
    let id = user_id(id)?;
    let user = guard.accounts().set_password(&id, &body.password).await?;
    tracing::info!(id = %id, "password set; the user's sessions and tokens ended");
    Ok(Json(user.into()))
}

/// A session as the admin API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct SessionBody {
    id: String,
    user_id: String,
    created_at: String,
    expires_at: String,
    last_seen_at: Option<String>,
}

impl From<IssuedInfo> for SessionBody {
    fn from(info: IssuedInfo) -> Self {
        SessionBody {
            id: info.id,
            user_id: info.user_id,
            created_at: to_rfc3339(info.created_at),
            expires_at: to_rfc3339(info.expires_at),
            last_seen_at: info.last_seen_at.map(to_rfc3339),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct SessionList {
    sessions: Vec<SessionBody>,
}

pub(crate) async fn sessions(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SessionList>, ApiError> {
    let id = user_id(id)?;
    guard.accounts().users().get(&id).ok_or_else(no_such_user)?;
    let issued = guard.accounts().issued().issued_to(&id, Some(IssuedKind::Session));
    Ok(Json(SessionList { sessions: issued.into_iter().map(SessionBody::from).collect() }))
}

#[derive(Serialize)]
pub(crate) struct Ended {
    ended: u64,
}

/// `DELETE /users/{id}/sessions`: ends every session of the user (its tokens stay).
pub(crate) async fn end_sessions(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Ended>, ApiError> {
    let id = user_id(id)?;
    guard.accounts().users().get(&id).ok_or_else(no_such_user)?;
    let ended = guard.accounts().issued().end_sessions_of(&id).await?;
    tracing::info!(user = %id, ended, "sessions ended by an administrator");
    Ok(Json(Ended { ended }))
}

/// `POST /users/{id}/verify-password` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordToCheck {
    password: String,
}

#[derive(Serialize)]
pub(crate) struct Checked {
    matches: bool,
}

/// `POST /users/{id}/verify-password`: whether a password is the user's, checked as a login
/// is (throttled: a wrong one counts as a failed login).
pub(crate) async fn verify_password(
    _: Admin,
    State(guard): State<Guard>,
    parts: axum::http::request::Parts,
    id: Result<Path<String>, PathRejection>,
    AdminJson(body): AdminJson<PasswordToCheck>,
) -> Result<Json<Checked>, ApiError> {
    let id = user_id(id)?;
    let user = guard.accounts().users().get(&id).ok_or_else(no_such_user)?;
    let client = guard.client(&parts);
    let matches = guard.accounts().verify_password(&user, &body.password, client).await?;
    Ok(Json(Checked { matches }))
}

pub(crate) async fn end_session(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such session");
    let id = id.map(|Path(id)| id).map_err(|_| not_found())?;
    let issued = guard.accounts().issued();
    if !issued.get(&id).is_some_and(|s| s.kind() == IssuedKind::Session) || !issued.end(&id).await?
    {
        return Err(not_found());
    }
    tracing::info!(id = %id, "session ended by an administrator");
    Ok(StatusCode::NO_CONTENT)
}
