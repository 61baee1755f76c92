//! The commands, each a few calls to the admin API, and what they print.

pub(crate) mod db;
pub(crate) mod keys;
pub(crate) mod other;
pub(crate) mod users;

use axum::http::Method;
use guard_axum::guard_core::credentials::user::name::normalize;
use serde_json::Value;

use crate::admin::{Admin, segment};
use crate::failure::Failure;

/// The most a list answers at once.
const PAGE: usize = 1000;

/// Every item of a paged list (`/users`, `/keys`), up to `at_most`.
pub(crate) async fn list_all(
    admin: &Admin,
    path: &str,
    field: &str,
    at_most: usize,
) -> Result<Vec<Value>, Failure> {
    let mut items = Vec::new();
    loop {
        let limit = PAGE.min(at_most - items.len());
        let url = format!("{path}?limit={limit}&offset={}", items.len());
        let page = admin.ok(Method::GET, &url, None).await?;
        let got = page[field].as_array().cloned().unwrap_or_default();
        let done = got.is_empty() || page["next_offset"].is_null();
        items.extend(got);
        if done || items.len() >= at_most {
            return Ok(items);
        }
    }
}

/// The user `who` names: an id, or a name (compared as logins compare them).
pub(crate) async fn find_user(admin: &Admin, who: &str) -> Result<Value, Failure> {
    let by_id = admin.call(Method::GET, &format!("/users/{}", segment(who)), None).await?;
    match by_id.status {
        200 => return Ok(by_id.body),
        404 => {}
        _ => return Err(admin.refusal(&by_id)),
    }
    if let Ok(wanted) = normalize(who) {
        for user in list_all(admin, "/users", "users", usize::MAX).await? {
            let name = user["name"].as_str().and_then(|n| normalize(n).ok());
            if name.as_deref() == Some(wanted.as_str()) {
                return Ok(user);
            }
        }
    }
    Err(Failure::new(format!("no user `{who}`")))
}

/// The id of a user the API answered with.
pub(crate) fn id_of(user: &Value) -> Result<String, Failure> {
    user["id"].as_str().map(str::to_owned).ok_or_else(|| Failure::new("an answer without an id"))
}

/// What a key command says when the API knows no such key.
pub(crate) async fn key_call(
    admin: &Admin,
    method: Method,
    id: &str,
    tail: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let answer = admin.call(method, &format!("/keys/{}{tail}", segment(id)), body).await?;
    match answer.status {
        200..=299 => Ok(answer.body),
        404 => Err(Failure::new(format!("no key `{id}`"))),
        _ => Err(admin.refusal(&answer)),
    }
}
