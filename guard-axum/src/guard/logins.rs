//! How people log in, as the builder sets it: which of sessions, bearer tokens, JWT and Basic
//! are on, and their authenticators in the chain.

use std::sync::Arc;

use guard_core::Core;
use guard_core::authn::{Authenticator, positions};
use guard_core::credentials::jwt::{Jwt, JwtConfig, JwtError};

use crate::authn::{
    BasicAuthenticator, BearerAuthenticator, JwtAuthenticator, SessionAuthenticator,
};

/// The login methods a guard offers. All are off unless the application turns them on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Logins {
    /// Session cookies, and `/login` and `/logout`.
    pub(crate) sessions: bool,
    /// Opaque bearer tokens, and `/token`.
    pub(crate) bearer_tokens: bool,
    /// JWTs verified with this configuration.
    pub(crate) jwt: Option<JwtConfig>,
    /// Whether `/token` issues JWTs rather than opaque tokens.
    pub(crate) issue_jwts: bool,
    /// HTTP Basic.
    pub(crate) basic: bool,
    /// `/register`, and the roles it gives.
    pub(crate) registration: Option<Vec<String>>,
    /// Served over TLS: secure cookies, `https` origins.
    pub(crate) tls: bool,
}

/// The login methods of a built guard.
#[derive(Debug)]
pub(crate) struct LoginMethods {
    pub(crate) sessions: bool,
    pub(crate) tokens: bool,
    pub(crate) jwt: Option<Arc<Jwt>>,
    pub(crate) issue_jwts: bool,
    pub(crate) tls: bool,
    pub(crate) registration: Option<Vec<String>>,
}

impl Logins {
    /// The positions and names of the built-in authenticators these turn on.
    pub(crate) fn positions(&self) -> Vec<(u32, &'static str)> {
        let mut taken = Vec::new();
        if self.bearer_tokens {
            taken.push((positions::BEARER, "bearer token"));
        }
        if self.jwt.is_some() {
            taken.push((positions::JWT, "JWT"));
        }
        if self.sessions {
            taken.push((positions::SESSION, "session cookie"));
        }
        if self.basic {
            taken.push((positions::BASIC, "HTTP Basic"));
        }
        taken
    }

    /// The JWT verifier, checked before anything is opened.
    pub(crate) fn jwt(&self) -> Result<Option<Arc<Jwt>>, JwtError> {
        let jwt = self.jwt.clone().map(Jwt::new).transpose()?.map(Arc::new);
        if self.issue_jwts && !jwt.as_ref().is_some_and(|j| j.can_issue()) {
            return Err(JwtError::CannotIssue);
        }
        Ok(jwt)
    }

    /// The authenticators these turn on, at their positions.
    pub(crate) fn authenticators(
        &self,
        core: &Core,
        jwt: Option<&Arc<Jwt>>,
    ) -> Vec<(u32, Box<dyn Authenticator>)> {
        let accounts = core.accounts();
        let mut links: Vec<(u32, Box<dyn Authenticator>)> = Vec::new();
        if self.bearer_tokens {
            let bearer = BearerAuthenticator::new(Arc::clone(accounts.issued()), jwt.is_some());
            links.push((positions::BEARER, Box::new(bearer)));
        }
        if let Some(jwt) = jwt {
            let verifier = JwtAuthenticator::new(Arc::clone(jwt), Arc::clone(accounts.users()));
            links.push((positions::JWT, Box::new(verifier)));
        }
        if self.sessions {
            let sessions = SessionAuthenticator::new(Arc::clone(accounts.issued()), self.tls);
            links.push((positions::SESSION, Box::new(sessions)));
        }
        if self.basic {
            links.push((
                positions::BASIC,
                Box::new(BasicAuthenticator::new(Arc::clone(accounts), self.tls)),
            ));
        }
        links
    }

    pub(crate) fn methods(self, jwt: Option<Arc<Jwt>>) -> LoginMethods {
        LoginMethods {
            sessions: self.sessions,
            tokens: self.bearer_tokens,
            jwt,
            issue_jwts: self.issue_jwts,
            tls: self.tls,
            registration: self.registration,
        }
    }
}
