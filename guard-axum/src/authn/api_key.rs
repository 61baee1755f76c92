//! API keys in header `X-API-Key` (any case) or query parameter `api-key`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::HeaderName;
use axum::http::request::Parts;
use guard_core::authn::{
    AuthRequest, Authenticator, Carrier, Description, Outcome, Rejected, Verdict,
};
use guard_core::credentials::api_key::{KeyEntry, KeyRejection, KeyRing};
use guard_core::usage::UsageOutcome;

/// The header that carries an API key.
pub const HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// The query parameter that carries an API key.
pub const QUERY_PARAM: &str = "api-key";
/// The authenticator's name in logs and errors.
pub(crate) const NAME: &str = "API key";

/// Authenticates API keys against the guard's key ring, from memory: a checksum, a lookup, one
/// blake3 block. It decides at once, so it never allocates a future.
///
/// A request carrying more than one key (the header twice, the parameter twice, or both) is
/// rejected rather than guessed at. The query is read only when the header is absent.
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

    fn outcome(&self, request: &AuthRequest<'_>) -> Outcome {
        let head = request.head();
        let mut headers = head.headers.get_all(&HEADER).iter();
        let presented: Cow<'_, [u8]> = match (headers.next(), headers.next()) {
            (Some(_), Some(_)) => return Outcome::rejected("more than one X-API-Key header"),
            (Some(_), None) if self.allow_query && query_names_key(head) => {
                return Outcome::rejected("API key in both header and query");
            }
            (Some(value), None) => Cow::Borrowed(value.as_bytes()),
            (None, _) if !self.allow_query => return Outcome::NotMine,
            (None, _) => match query_key(head) {
                Err(reason) => return Outcome::rejected(reason),
                Ok(None) => return Outcome::NotMine,
                Ok(Some(Cow::Borrowed(value))) => Cow::Borrowed(value.as_bytes()),
                Ok(Some(Cow::Owned(value))) => Cow::Owned(value.into_bytes()),
            },
        };
        match self.keys.verify(&presented, request.now()) {
            Ok(entry) => Outcome::Authenticated(KeyEntry::principal(&entry)),
            Err(KeyRejection::Revoked(entry)) => {
                Outcome::Rejected(Rejected::of("revoked API key", entry, UsageOutcome::Revoked))
            }
            Err(KeyRejection::Expired(entry)) => {
                Outcome::Rejected(Rejected::of("expired API key", entry, UsageOutcome::Expired))
            }
            // Its owner was disabled (which revokes its keys) or deleted: counted as revoked.
            Err(KeyRejection::OwnerGone(entry)) => Outcome::Rejected(Rejected::of(
                "API key whose owner is disabled or gone",
                entry,
                UsageOutcome::Revoked,
            )),
            Err(KeyRejection::Malformed) => Outcome::rejected("malformed API key"),
            Err(_) => Outcome::rejected("unknown API key"),
        }
    }
}

/// Whether the query has an `api-key` parameter, without decoding anything.
fn query_names_key(head: &Parts) -> bool {
    head.uri.query().is_some_and(|query| {
        query.split('&').any(|pair| pair.split('=').next() == Some(QUERY_PARAM))
    })
}

/// The `api-key` query parameter, if present exactly once.
fn query_key(head: &Parts) -> Result<Option<Cow<'_, str>>, &'static str> {
    let Some(query) = head.uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == QUERY_PARAM {
            if found.is_some() {
                return Err("api-key query parameter given more than once");
            }
            found = Some(value);
        }
    }
    Ok(found)
}

impl Authenticator for ApiKeyAuthenticator {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::Now(self.outcome(request))
    }

    fn describe(&self) -> Description {
        let header = Description::new("ApiKey").carried(Carrier::Header("X-API-Key".into()));
        if self.allow_query { header.carried(Carrier::Query(QUERY_PARAM.into())) } else { header }
    }

    fn name(&self) -> &str {
        NAME
    }
}
