//! `Authorization: Bearer <JWT>`: tokens issued elsewhere, or by `/auth/token` in JWT mode.

use std::sync::Arc;

use guard_core::authn::{AuthRequest, Authenticator, Carrier, Description, Outcome, Verdict};
use guard_core::credentials::jwt::Jwt;
use guard_core::credentials::user::UserDirectory;

use super::bearer::authorization;

/// Authenticates JWTs; anything else after `Bearer` is rejected here, as the last bearer
/// authenticator (the opaque-token one, before it, leaves JWT-shaped tokens alone).
#[derive(Debug)]
pub struct JwtAuthenticator {
    jwt: Arc<Jwt>,
    users: Arc<UserDirectory>,
}

impl JwtAuthenticator {
    /// JWTs verified by `jwt`; a token naming one of `users` is that user's while enabled.
    pub fn new(jwt: Arc<Jwt>, users: Arc<UserDirectory>) -> Self {
        JwtAuthenticator { jwt, users }
    }

    fn outcome(&self, request: &AuthRequest<'_>) -> Outcome {
        let token = match authorization(request.headers(), "bearer") {
            Ok(Some(token)) => token,
            Ok(None) => return Outcome::NotMine,
            Err(()) => return Outcome::rejected("more than one Authorization header"),
        };
        if !Jwt::looks_like_jwt(token) {
            return Outcome::rejected("a bearer credential that is neither a token nor a JWT");
        }
        match self.jwt.verify(token, request.now(), request.policy(), &self.users) {
            Ok(principal) => Outcome::Authenticated(principal),
            Err(rejection) => {
                tracing::debug!(reason = %rejection.0, "JWT rejected");
                Outcome::rejected("invalid JWT")
            }
        }
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::Now(self.outcome(request))
    }

    fn describe(&self) -> Description {
        Description::new("Bearer").carried(Carrier::Bearer)
    }

    fn name(&self) -> &str {
        "JWT"
    }
}
