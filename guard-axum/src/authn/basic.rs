//! HTTP Basic authentication (off unless the application turns it on): a user's name and
//! password in every request, checked like a login (throttled, on the password pool).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use guard_core::Principal;
use guard_core::accounts::{Accounts, LoginError};
use guard_core::authn::{AuthRequest, Authenticator, Carrier, Description, Outcome, Verdict};

use super::bearer::authorization;
use super::origin;

/// Authenticates `Authorization: Basic …` against the users. A browser caches Basic
/// credentials and sends them by itself, like a cookie: a request that changes something and
/// says it comes from another site is refused with 403 (clients that are not browsers say
/// nothing, and are not affected).
#[derive(Debug)]
pub struct BasicAuthenticator {
    accounts: Arc<Accounts>,
    tls: bool,
}

impl BasicAuthenticator {
    /// Checks names and passwords against `accounts`; `tls` is whether the application is
    /// served over HTTPS, which the same-site check compares origins with.
    pub fn new(accounts: Arc<Accounts>, tls: bool) -> Self {
        BasicAuthenticator { accounts, tls }
    }
}

/// The name and password of a Basic credential.
fn decode(credential: &[u8]) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(credential).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

impl Authenticator for BasicAuthenticator {
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
        let credential = match authorization(request.headers(), "basic") {
            Ok(Some(credential)) => credential,
            Ok(None) => return Verdict::Now(Outcome::NotMine),
            Err(()) => {
                return Verdict::Now(Outcome::rejected("more than one Authorization header"));
            }
        };
        // A credential far longer than a name and the longest password is refused unread.
        if credential.len() > 2048 {
            return Verdict::Now(Outcome::rejected("an oversized Basic credential"));
        }
        let Some((name, password)) = decode(credential) else {
            return Verdict::Now(Outcome::rejected("a malformed Basic credential"));
        };
        let head = request.head();
        if !origin::is_safe(&head.method) && origin::is_cross_site(head, self.tls) {
            return Verdict::Now(Outcome::Forbidden(
                "a cross-site request that changes something, with Basic credentials",
            ));
        }
        let client = request.client();
        Verdict::later(async move {
            match self.accounts.login(&name, &password, client).await {
                Ok(user) => Outcome::Authenticated(Principal::from_identity(user)),
                Err(LoginError::Throttled { retry_after }) => Outcome::Throttled {
                    retry_after: Duration::from_secs(u64::try_from(retry_after).unwrap_or(1)),
                },
                // The server could not check it: not the caller's fault, so not a 401.
                Err(LoginError::Busy | LoginError::Unavailable) => {
                    Outcome::Unavailable { retry_after: Duration::from_secs(1) }
                }
                Err(LoginError::Invalid) => Outcome::rejected("wrong user name or password"),
                Err(error) => {
                    tracing::error!(%error, "a Basic credential could not be checked");
                    Outcome::Unavailable { retry_after: Duration::from_secs(1) }
                }
            }
        })
    }

    fn describe(&self) -> Description {
        Description::new("Basic").carried(Carrier::Basic)
    }

    fn name(&self) -> &str {
        "HTTP Basic"
    }
}
