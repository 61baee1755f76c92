//! `/keys`: API key administration.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use guard_core::clock::{parse_rfc3339, to_rfc3339};
use std::collections::HashMap;

use guard_core::credentials::api_key::{Expiry, KeyInfo, KeyState, NewKey};
use guard_core::credentials::shown::displayable;
use guard_core::usage::{Counters, CredentialKind, RateLimit};
use serde::{Deserialize, Serialize};

use super::admin::Admin;
use super::body::AdminJson;
use super::error::ApiError;
use super::no_store::NoStore;
use super::paging::{self, Page, Window};
use super::rate_limit::{checked, checked_change, present};
use crate::Guard;

/// The longest key name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// A key as the admin API shows it: never the key itself.
#[derive(Debug, Serialize)]
pub(crate) struct KeyBody {
    id: String,
    prefix: String,
    name: String,
    roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    state: KeyState,
    active: bool,
    never_expires: bool,
    expires_at: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
    total_uses: u64,
    rate_limit: Option<RateLimit>,
}

impl From<KeyInfo> for KeyBody {
    fn from(info: KeyInfo) -> Self {
        KeyBody {
            id: info.id,
            prefix: info.prefix,
            name: info.name,
            roles: info.roles,
            owner: info.owner,
            active: info.state == KeyState::Active,
            state: info.state,
            never_expires: info.expires_at.is_none(),
            expires_at: info.expires_at.map(to_rfc3339),
            created_at: to_rfc3339(info.created_at),
            last_used_at: info.last_used_at.map(to_rfc3339),
            total_uses: info.total_uses,
            rate_limit: info.rate_limit,
        }
    }
}

/// The expiry fields shared by create and renew.
#[derive(Debug, Default)]
pub(crate) struct ExpiryFields {
    never_expires: Option<bool>,
    expires_at: Option<String>,
    ttl_days: Option<i64>,
}

/// `POST /keys/{id}/renew` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewKey {
    never_expires: Option<bool>,
    expires_at: Option<String>,
    ttl_days: Option<i64>,
    /// A new limit; `null` removes it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<RateLimit>>,
}

/// `PATCH /keys/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchKey {
    /// A new limit; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<RateLimit>>,
}

impl ExpiryFields {
    fn expiry(self) -> Result<Expiry, ApiError> {
        match (self.never_expires.unwrap_or(false), self.expires_at, self.ttl_days) {
            (true, None, None) => Ok(Expiry::Never),
            (true, _, _) => Err(ApiError::invalid(
                "`never_expires` cannot be combined with `expires_at` or `ttl_days`",
            )),
            (false, Some(_), Some(_)) => {
                Err(ApiError::invalid("give `expires_at` or `ttl_days`, not both"))
            }
            (false, Some(at), None) => parse_rfc3339(&at).map(Expiry::At).ok_or_else(|| {
                ApiError::invalid(
                    "`expires_at` must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z",
                )
            }),
            (false, None, Some(days)) => {
                u32::try_from(days).ok().filter(|&d| d > 0).map(Expiry::InDays).ok_or_else(|| {
                    ApiError::invalid("`ttl_days` must be a positive number of days")
                })
            }
            (false, None, None) => Ok(Expiry::Default),
        }
    }
}

/// `POST /keys` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    name: Option<String>,
    roles: Option<Vec<String>>,
    /// The user (by id) the key acts for.
    owner: Option<String>,
    // Not `#[serde(flatten)]` of `ExpiryFields`: flatten defeats `deny_unknown_fields`.
    never_expires: Option<bool>,
    expires_at: Option<String>,
    ttl_days: Option<i64>,
    rate_limit: Option<RateLimit>,
}

/// `POST /keys` answer: the only response that ever shows the key.
#[derive(Debug, Serialize)]
pub(crate) struct CreatedKeyBody {
    key: String,
    #[serde(flatten)]
    info: KeyBody,
}

pub(crate) async fn create(
    _: Admin,
    State(guard): State<Guard>,
    AdminJson(body): AdminJson<CreateKey>,
) -> Result<NoStore<(StatusCode, Json<CreatedKeyBody>)>, ApiError> {
    let bad_name = |name: &String| name.chars().count() > MAX_NAME_CHARS || !displayable(name);
    if body.name.as_ref().is_some_and(bad_name) {
        return Err(ApiError::invalid(format!(
            "`name` must be at most {MAX_NAME_CHARS} characters, without control, invisible or direction-changing characters"
        )));
    }
    let new = NewKey {
        name: body.name,
        roles: body.roles.unwrap_or_default(),
        owner: body.owner,
        rate_limit: checked(body.rate_limit)?,
        expiry: ExpiryFields {
            never_expires: body.never_expires,
            expires_at: body.expires_at,
            ttl_days: body.ttl_days,
        }
        .expiry()?,
    };
    let created = guard.keys().create(new).await?;
    tracing::info!(id = %created.info.id, "API key created");
    let body = CreatedKeyBody { key: created.key.expose().to_owned(), info: created.info.into() };
    Ok(NoStore((StatusCode::CREATED, Json(body))))
}

#[derive(Debug, Serialize)]
pub(crate) struct KeyList {
    keys: Vec<KeyBody>,
    #[serde(flatten)]
    window: Window,
}

pub(crate) async fn list(
    _: Admin,
    State(guard): State<Guard>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<KeyList>, ApiError> {
    let (mut keys, window) = paging::page::<KeyInfo, KeyInfo>(page, guard.keys().list())?;
    counted_everywhere(&guard, &mut keys).await;
    Ok(Json(KeyList { keys: keys.into_iter().map(KeyBody::from).collect(), window }))
}

/// On a store other instances write to, the uses every instance counted, rather than this
/// one's alone (which is what one instance holds in memory). If the store cannot say, this
/// instance's count is shown, and the failure logged.
pub(super) async fn counted_everywhere(guard: &Guard, infos: &mut [KeyInfo]) {
    if !guard.core().is_shared() || infos.is_empty() {
        return;
    }
    let ids = infos.iter().map(|info| info.id.clone()).collect();
    match guard.usage().stored_counters(CredentialKind::ApiKey, ids).await {
        Ok(stored) => {
            let stored: HashMap<String, Counters> = stored.into_iter().collect();
            for info in infos {
                if let Some(counted) = stored.get(&info.id) {
                    info.total_uses = info.total_uses.max(counted.uses);
                    info.last_used_at = info.last_used_at.max(counted.last_used_at);
                }
            }
        }
        Err(error) => tracing::warn!(
            %error,
            "the uses other instances counted cannot be read; this instance's are shown"
        ),
    }
}

/// The `{id}` of a key route. A path that does not even decode names no key: 404.
pub(super) fn key_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id).map_err(|_| ApiError::no_such_key())
}

pub(crate) async fn get(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<KeyBody>, ApiError> {
    let mut info = [guard.keys().get(&key_id(id)?)?];
    counted_everywhere(&guard, &mut info).await;
    let [info] = info;
    Ok(Json(info.into()))
}

pub(crate) async fn revoke(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<KeyBody>, ApiError> {
    let mut info = [guard.keys().revoke(&key_id(id)?).await?];
    counted_everywhere(&guard, &mut info).await;
    let [info] = info;
    tracing::info!(id = %info.id, "API key revoked");
    Ok(Json(info.into()))
}

#[derive(Debug, Serialize)]
pub(crate) struct RenewedBody {
    reactivated: bool,
    #[serde(flatten)]
    info: KeyBody,
}

pub(crate) async fn renew(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
    AdminJson(body): AdminJson<RenewKey>,
) -> Result<Json<RenewedBody>, ApiError> {
    let id = key_id(id)?;
    // An unknown id is a 404 even when the body is also wrong.
    guard.keys().get(&id)?;
    let rate_limit = checked_change(body.rate_limit)?;
    let expiry = ExpiryFields {
        never_expires: body.never_expires,
        expires_at: body.expires_at,
        ttl_days: body.ttl_days,
    }
    .expiry()?;
    let renewed = guard.keys().renew_limited(&id, expiry, rate_limit).await?;
    tracing::info!(id = %renewed.info.id, reactivated = renewed.reactivated, "API key renewed");
    let mut info = [renewed.info];
    counted_everywhere(&guard, &mut info).await;
    let [info] = info;
    Ok(Json(RenewedBody { reactivated: renewed.reactivated, info: info.into() }))
}

pub(crate) async fn patch(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
    AdminJson(body): AdminJson<PatchKey>,
) -> Result<Json<KeyBody>, ApiError> {
    let id = key_id(id)?;
    guard.keys().get(&id)?;
    let Some(rate_limit) = checked_change(body.rate_limit)? else {
        return Err(ApiError::invalid("give `rate_limit`: the limit, or null to remove it"));
    };
    let mut info = [guard.keys().set_rate_limit(&id, rate_limit).await?];
    counted_everywhere(&guard, &mut info).await;
    let [info] = info;
    tracing::info!(id = %info.id, "API key's rate limit changed");
    Ok(Json(info.into()))
}

pub(crate) async fn delete(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = key_id(id)?;
    guard.keys().delete(&id).await?;
    tracing::info!(id = %id, "API key deleted");
    Ok(StatusCode::NO_CONTENT)
}
