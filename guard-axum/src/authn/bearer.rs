//! `Authorization: Bearer …`: this guard's opaque tokens (`gt_…`), and, when a JWT
//! authenticator follows, leaving JWTs to it. The two never look alike.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use guard_core::authn::{AuthRequest, Authenticator, Carrier, Description, Outcome, Verdict};
use guard_core::credentials::issued::IssuedKind;
use guard_core::credentials::issued::{IssuedRejection, IssuedRing};
use guard_core::credentials::jwt::Jwt;

/// The credential of `Authorization: <scheme> <credential>`, if the scheme is `scheme` (any
/// case). `Err` for a request with more than one `Authorization` header.
pub(crate) fn authorization<'a>(
    headers: &'a HeaderMap,
    scheme: &str,
) -> Result<Option<&'a [u8]>, ()> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(None),
        (Some(value), None) => value,
        (Some(_), Some(_)) => return Err(()),
    };
    let value = value.as_bytes();
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return Ok(None);
    };
    if !value[..space].eq_ignore_ascii_case(scheme.as_bytes()) {
        return Ok(None);
    }
    Ok(Some(value[space + 1..].trim_ascii()))
}

/// Authenticates opaque bearer tokens from `/auth/token`, from memory.
#[derive(Debug)]
pub struct BearerAuthenticator {
    issued: Arc<IssuedRing>,
    /// Whether a JWT authenticator comes later, to which JWT-shaped tokens are left.
    jwt_follows: bool,
}

impl BearerAuthenticator {
    /// Tokens from `issued`; JWT-shaped ones are left to a JWT authenticator if one follows,
    /// and rejected otherwise.
    pub fn new(issued: Arc<IssuedRing>, jwt_follows: bool) -> Self {
        BearerAuthenticator { issued, jwt_follows }
    }

    fn outcome(&self, request: &AuthRequest<'_>) -> Outcome {
        let token = match authorization(request.headers(), "bearer") {
            Ok(Some(token)) => token,
            Ok(None) => return Outcome::NotMine,
            Err(()) => return Outcome::rejected("more than one Authorization header"),
        };
        if self.jwt_follows && Jwt::looks_like_jwt(token) {
            return Outcome::NotMine;
        }
        match self.issued.verify(IssuedKind::Token, token, request.now()) {
            Ok(principal) => Outcome::Authenticated(principal),
            Err(IssuedRejection::Expired) => Outcome::rejected("expired bearer token"),
            Err(IssuedRejection::UserGone) => {
                Outcome::rejected("the token's user is disabled or gone")
            }
            Err(_) => Outcome::rejected("unknown or malformed bearer token"),
        }
    }
}

impl Authenticator for BearerAuthenticator {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::Now(self.outcome(request))
    }

    fn describe(&self) -> Description {
        Description::new("Bearer").carried(Carrier::Bearer)
    }

    fn name(&self) -> &str {
        "bearer token"
    }
}
