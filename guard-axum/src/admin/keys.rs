//! `/keys`: API key administration.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guard_core::clock::{parse_rfc3339, to_rfc3339};
use guard_core::keys::{Expiry, KeyInfo, NewKey};
use serde::{Deserialize, Serialize};

use super::Admin;
use super::error::{AdminJson, ApiError};
use crate::Guard;

/// The longest key name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// `POST /keys` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    name: Option<String>,
    roles: Option<Vec<String>>,
    never_expires: Option<bool>,
    expires_at: Option<String>,
    ttl_days: Option<i64>,
}

/// `POST /keys` answer: the only response that ever shows the key.
#[derive(Debug, Serialize)]
pub(crate) struct CreatedKeyBody {
    id: String,
    key: String,
    prefix: String,
    name: String,
    roles: Vec<String>,
    created_at: String,
    expires_at: Option<String>,
    never_expires: bool,
}

pub(crate) async fn create(
    _: Admin,
    State(guard): State<Guard>,
    AdminJson(body): AdminJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKeyBody>), ApiError> {
    let new = body.validate()?;
    let created = guard.create_key_async(new).await?;
    let KeyInfo {
        id,
        prefix,
        name,
        roles,
        created_at,
        expires_at,
        ..
    } = created.info;
    tracing::info!(%id, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyBody {
            id,
            key: created.key.expose().to_owned(),
            prefix,
            name,
            roles,
            created_at: to_rfc3339(created_at),
            expires_at: expires_at.map(to_rfc3339),
            never_expires: expires_at.is_none(),
        }),
    ))
}

impl CreateKey {
    fn validate(self) -> Result<NewKey, ApiError> {
        let bad_name = |name: &String| {
            name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control)
        };
        if self.name.as_ref().is_some_and(bad_name) {
            return Err(ApiError::invalid(format!(
                "`name` must be at most {MAX_NAME_CHARS} characters, without control characters"
            )));
        }
        let expiry =
            match (
                self.never_expires.unwrap_or(false),
                self.expires_at,
                self.ttl_days,
            ) {
                (true, None, None) => Expiry::Never,
                (true, _, _) => {
                    return Err(ApiError::invalid(
                        "`never_expires` cannot be combined with `expires_at` or `ttl_days`",
                    ));
                }
                (false, Some(_), Some(_)) => {
                    return Err(ApiError::invalid(
                        "give `expires_at` or `ttl_days`, not both",
                    ));
                }
                (false, Some(at), None) => Expiry::At(parse_rfc3339(&at).ok_or_else(|| {
                    ApiError::invalid(
                        "`expires_at` must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z",
                    )
                })?),
                (false, None, Some(days)) => Expiry::InDays(u32::try_from(days).map_err(|_| {
                    ApiError::invalid("`ttl_days` must be a positive number of days")
                })?),
                (false, None, None) => Expiry::Default,
            };
        Ok(NewKey {
            name: self.name,
            roles: self.roles.unwrap_or_default(),
            expiry,
        })
    }
}
