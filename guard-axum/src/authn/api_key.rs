//! API keys in header `X-API-Key` (any case) or query parameter `api-key`.

use std::sync::Arc;

use axum::http::HeaderName;
use axum::http::request::Parts;
use guard_core::authenticator::{Authenticator, BoxFuture, Outcome};
use guard_core::keys::{KeyRejection, KeyRing, KeyUse};
use guard_core::store::UsageOutcome;

use crate::extract::route;

/// The header that carries an API key.
pub const HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// The query parameter that carries an API key.
pub const QUERY_PARAM: &str = "api-key";

/// Authenticates API keys against the guard's key ring.
///
/// A request carrying more than one key (the header twice, the parameter twice, or both) is
/// rejected rather than guessed at.
#[derive(Debug)]
pub struct ApiKeyAuthenticator {
    keys: Arc<KeyRing>,
    allow_query: bool,
}

impl ApiKeyAuthenticator {
    /// Reads keys from the header, and from the query when `allow_query`.
    pub fn new(keys: Arc<KeyRing>, allow_query: bool) -> Self {
        ApiKeyAuthenticator { keys, allow_query }
    }

    /// The outcome, synchronously: nothing here waits.
    pub(crate) fn outcome(&self, parts: &Parts) -> Outcome {
        self.verify(parts).0
    }

    /// The outcome and, for a valid key, the handle that records the request's outcome.
    pub(crate) fn verify(&self, parts: &Parts) -> (Outcome, Option<KeyUse>) {
        let mut headers = parts.headers.get_all(&HEADER).iter();
        let header = headers.next();
        if headers.next().is_some() {
            return (Outcome::Rejected("more than one X-API-Key header"), None);
        }
        let query = if self.allow_query { query_key(parts) } else { Ok(None) };
        let presented = match (header, query) {
            (_, Err(reason)) => return (Outcome::Rejected(reason), None),
            (None, Ok(None)) => return (Outcome::NotMine, None),
            (Some(_), Ok(Some(_))) => {
                return (Outcome::Rejected("API key in both header and query"), None);
            }
            (Some(value), Ok(None)) => self.keys.verify(value.as_bytes()),
            (None, Ok(Some(value))) => self.keys.verify(value.as_bytes()),
        };
        let outcome = match presented {
            Ok((principal, key_use)) => return (Outcome::Authenticated(principal), Some(key_use)),
            Err(KeyRejection::Malformed) => Outcome::Rejected("malformed API key"),
            Err(KeyRejection::Unknown) => Outcome::Rejected("unknown API key"),
            Err(KeyRejection::Revoked { id }) => {
                self.keys.record_use(&id, UsageOutcome::Revoked, &parts.method, route(parts));
                Outcome::Rejected("revoked API key")
            }
            Err(KeyRejection::Expired { id }) => {
                self.keys.record_use(&id, UsageOutcome::Expired, &parts.method, route(parts));
                Outcome::Rejected("expired API key")
            }
        };
        (outcome, None)
    }
}

/// The `api-key` query parameter, if present exactly once.
fn query_key(parts: &Parts) -> Result<Option<String>, &'static str> {
    let Some(query) = parts.uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == QUERY_PARAM {
            if found.is_some() {
                return Err("api-key query parameter given more than once");
            }
            found = Some(value.into_owned());
        }
    }
    Ok(found)
}

impl Authenticator for ApiKeyAuthenticator {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Outcome> {
        Box::pin(std::future::ready(self.outcome(parts)))
    }

    fn challenge(&self) -> Option<&str> {
        Some(if self.allow_query {
            r#"ApiKey header="X-API-Key", query="api-key""#
        } else {
            r#"ApiKey header="X-API-Key""#
        })
    }
}
