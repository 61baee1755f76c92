//! Login sessions, in the `guard_session` cookie (`__Host-guard_session` over TLS).

use std::sync::Arc;

use guard_core::authn::{AuthRequest, Authenticator, Carrier, Description, Outcome, Verdict};
use guard_core::credentials::issued::IssuedKind;
use guard_core::credentials::issued::{IssuedRejection, IssuedRing};

use super::{cookie, origin};

/// Authenticates session cookies, from memory. A request that changes something (not GET,
/// HEAD, OPTIONS or TRACE) with a session cookie must come from this site, or it is refused
/// with 403: a page elsewhere can make a browser send the cookie, not hide its origin.
#[derive(Debug)]
pub struct SessionAuthenticator {
    issued: Arc<IssuedRing>,
    cookie: &'static str,
    tls: bool,
}

impl SessionAuthenticator {
    /// Sessions from `issued`; over TLS, the cookie is the `__Host-` one.
    pub fn new(issued: Arc<IssuedRing>, tls: bool) -> Self {
        let cookie = if tls { cookie::SECURE_COOKIE } else { cookie::COOKIE };
        SessionAuthenticator { issued, cookie, tls }
    }

    fn outcome(&self, request: &AuthRequest<'_>) -> Outcome {
        let head = request.head();
        let presented = match cookie::find(&head.headers, self.cookie) {
            Ok(Some(value)) => value,
            Ok(None) => return Outcome::NotMine,
            Err(()) => return Outcome::rejected("more than one session cookie"),
        };
        // Checked first and used only once the request is admitted: a refused cross-site
        // request does not keep the session alive.
        match self.issued.check(IssuedKind::Session, presented, request.now()) {
            Ok(_) if !origin::is_safe(&head.method) && !origin::is_same_origin(head, self.tls) => {
                Outcome::Forbidden(
                    "a cross-site request that changes something, with a session cookie",
                )
            }
            Ok(checked) => Outcome::Authenticated(checked.accept(request.now())),
            Err(IssuedRejection::Expired) => Outcome::rejected("expired session"),
            Err(IssuedRejection::UserGone) => {
                Outcome::rejected("the session's user is disabled or gone")
            }
            Err(_) => Outcome::rejected("unknown or malformed session"),
        }
    }
}

impl Authenticator for SessionAuthenticator {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        Verdict::Now(self.outcome(request))
    }

    fn describe(&self) -> Description {
        Description::new("Session").carried(Carrier::Cookie(self.cookie.into()))
    }

    fn name(&self) -> &str {
        "session cookie"
    }
}
