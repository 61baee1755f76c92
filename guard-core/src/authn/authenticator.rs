//! The authenticator contract: one for every authenticator, the built-in ones included.
//!
//! An authenticator looks at a request ([`AuthRequest`]: the head, the client's address, and
//! a context with the policy and the time) and answers with an [`Outcome`]:
//!
//! - [`Outcome::Authenticated`]: these credentials identify this caller; stop;
//! - [`Outcome::NotMine`]: no credentials of my kind here; ask the next authenticator;
//! - [`Outcome::Rejected`]: credentials of my kind were present and are wrong; stop, 401.
//!   Invalid credentials never fall through to a weaker method;
//! - [`Outcome::Throttled`]: too many attempts; stop, 429 with `Retry-After`;
//! - [`Outcome::Forbidden`]: valid credentials this request may not use; stop, 403;
//! - [`Outcome::Unavailable`]: the credentials cannot be checked now; stop, 503 with
//!   `Retry-After`.
//!
//! It answers through a [`Verdict`]: at once (`Verdict::Now`) when it decides from memory, as
//! the built-in ones do, so the request path allocates nothing; or later (`Verdict::Later`,
//! a boxed future) when it must wait for something.
//!
//! It also describes itself ([`Description`]): where its credential travels and under which
//! scheme, which builds the `WWW-Authenticate` challenge (and an API description).

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::HeaderMap;
use http::request::Parts;

use crate::authz::{Policy, Principal};
use crate::clock::{Clock, Timestamp};
use crate::future::BoxFuture;
use crate::usage::{Tracked, UsageOutcome};

/// The default positions of the built-in authenticators: lower runs first.
pub mod positions {
    /// API key in `X-API-Key` or `api-key`.
    pub const API_KEY: u32 = 100;
    /// Opaque bearer tokens.
    pub const BEARER: u32 = 200;
    /// JSON Web Tokens.
    pub const JWT: u32 = 250;
    /// The session cookie.
    pub const SESSION: u32 = 300;
    /// HTTP Basic authentication.
    pub const BASIC: u32 = 400;
}

/// What every authenticator of a guard shares: the policy and the clock.
#[derive(Clone)]
pub struct AuthContext {
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext").finish_non_exhaustive()
    }
}

impl AuthContext {
    /// A context over `policy` and `clock`.
    pub fn new(policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        AuthContext { policy, clock }
    }

    /// The policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// One request, as authenticators see it. The time is read at most once, when an
/// authenticator first asks for it, and is the time every authenticator decides at and every
/// use is recorded at.
pub struct AuthRequest<'a> {
    head: &'a Parts,
    client: Client<'a>,
    context: &'a AuthContext,
    /// [`NOT_READ`] until read. Atomic only because the request is shared with the futures of
    /// authenticators that answer later.
    now: AtomicI64,
}

/// Where the client's address comes from: known, or found when first asked for (only logins
/// need it, so most requests never look).
enum Client<'a> {
    Known(Option<IpAddr>),
    Lazy { find: &'a (dyn Fn(&Parts) -> Option<IpAddr> + Sync), found: OnceLock<Option<IpAddr>> },
}

impl std::fmt::Debug for AuthRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("method", &self.head.method)
            .field("uri", &self.head.uri)
            .field("client", &self.client())
            .finish_non_exhaustive()
    }
}

/// The time was not read yet.
const NOT_READ: Timestamp = i64::MIN;

impl<'a> AuthRequest<'a> {
    /// The request with head `head` from `client`.
    pub fn new(head: &'a Parts, client: Option<IpAddr>, context: &'a AuthContext) -> Self {
        AuthRequest { head, client: Client::Known(client), context, now: AtomicI64::new(NOT_READ) }
    }

    /// The request with head `head`, whose client's address `find` gives when an
    /// authenticator first asks for it (most never do).
    pub fn with_client_from(
        head: &'a Parts,
        find: &'a (dyn Fn(&Parts) -> Option<IpAddr> + Sync),
        context: &'a AuthContext,
    ) -> Self {
        let client = Client::Lazy { find, found: OnceLock::new() };
        AuthRequest { head, client, context, now: AtomicI64::new(NOT_READ) }
    }

    /// The request head: method, URI, headers, extensions.
    pub fn head(&self) -> &'a Parts {
        self.head
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        &self.head.headers
    }

    /// The client's address, where the server knows it: its peer's, or, behind a reverse
    /// proxy the application trusts, the address the proxy forwarded.
    pub fn client(&self) -> Option<IpAddr> {
        match &self.client {
            Client::Known(client) => *client,
            Client::Lazy { find, found } => *found.get_or_init(|| find(self.head)),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &'a Arc<Policy> {
        &self.context.policy
    }

    /// The time of the request: the clock is read the first time this is asked.
    pub fn now(&self) -> Timestamp {
        match self.now.load(Ordering::Relaxed) {
            NOT_READ => {
                let now = self.context.clock.now();
                self.now.store(now, Ordering::Relaxed);
                now
            }
            now => now,
        }
    }

    /// The time of the request if an authenticator read it.
    pub fn now_if_read(&self) -> Option<Timestamp> {
        Some(self.now.load(Ordering::Relaxed)).filter(|&now| now != NOT_READ)
    }
}

/// What one authenticator concluded about a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// These credentials identify this caller: stop here.
    Authenticated(Principal),
    /// No credentials of this kind in the request: ask the next authenticator.
    NotMine,
    /// Credentials of this kind were present and are not valid: stop, 401.
    Rejected(Rejected),
    /// Too many attempts: stop, 429, and try again after `retry_after`.
    Throttled {
        /// How long the client should wait.
        retry_after: Duration,
    },
    /// Valid credentials that this request may not use (a session cookie on a cross-site
    /// request that changes something): stop, 403. The reason is for the log.
    Forbidden(&'static str),
    /// The credentials cannot be checked now (what checking them needs, the database, say,
    /// cannot be reached): stop, 503, and try again after `retry_after`.
    Unavailable {
        /// How long the client should wait.
        retry_after: Duration,
    },
}

impl Outcome {
    /// [`Outcome::Rejected`] for `reason`.
    pub fn rejected(reason: &'static str) -> Self {
        Outcome::Rejected(Rejected::new(reason))
    }
}

/// Why credentials were rejected, and, when they named a known credential (a revoked key,
/// say), that credential, so that the attempt is recorded in its usage.
#[derive(Clone)]
pub struct Rejected {
    reason: &'static str,
    credential: Option<(Arc<dyn Tracked>, UsageOutcome)>,
}

impl std::fmt::Debug for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rejected").field("reason", &self.reason).finish_non_exhaustive()
    }
}

impl Rejected {
    /// A rejection for `reason`, which goes to the log only: the client is told nothing more
    /// than "invalid credentials".
    pub fn new(reason: &'static str) -> Self {
        Rejected { reason, credential: None }
    }

    /// A rejection of a known credential, recorded in its usage with `outcome`.
    pub fn of(reason: &'static str, credential: Arc<dyn Tracked>, outcome: UsageOutcome) -> Self {
        Rejected { reason, credential: Some((credential, outcome)) }
    }

    /// The reason, for the log.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The credential the rejected attempt named, and the outcome to record.
    pub fn credential(&self) -> Option<(&Arc<dyn Tracked>, UsageOutcome)> {
        self.credential.as_ref().map(|(c, o)| (c, *o))
    }
}

/// An authenticator's answer: now, or once a future completes.
#[non_exhaustive]
pub enum Verdict<'a> {
    /// Decided without waiting.
    Now(Outcome),
    /// To be decided by this future.
    Later(BoxFuture<'a, Outcome>),
}

impl<'a> Verdict<'a> {
    /// The outcome, awaiting it if it is not known yet.
    pub async fn outcome(self) -> Outcome {
        match self {
            Verdict::Now(outcome) => outcome,
            Verdict::Later(future) => future.await,
        }
    }

    /// A verdict decided by `future`.
    pub fn later(future: impl Future<Output = Outcome> + Send + 'a) -> Self {
        Verdict::Later(Box::pin(future))
    }
}

/// Where a credential travels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Carrier {
    /// In a header of this name.
    Header(Cow<'static, str>),
    /// In a query parameter of this name.
    Query(Cow<'static, str>),
    /// In a cookie of this name.
    Cookie(Cow<'static, str>),
    /// In `Authorization: Bearer …`.
    Bearer,
    /// In `Authorization: Basic …`.
    Basic,
}

/// How an authenticator's credential is presented: its scheme and where it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    scheme: Cow<'static, str>,
    carriers: Vec<Carrier>,
    challenge: bool,
}

impl Description {
    /// A scheme (`ApiKey`, `Bearer`, …) with no carriers yet.
    pub fn new(scheme: impl Into<Cow<'static, str>>) -> Self {
        Description { scheme: scheme.into(), carriers: Vec::new(), challenge: true }
    }

    /// Also carried by `carrier`.
    pub fn carried(mut self, carrier: Carrier) -> Self {
        self.carriers.push(carrier);
        self
    }

    /// Credentials a client cannot be asked for (a proxy's identity headers): no challenge.
    pub fn without_challenge(mut self) -> Self {
        self.challenge = false;
        self
    }

    /// The scheme.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Where the credential travels.
    pub fn carriers(&self) -> &[Carrier] {
        &self.carriers
    }

    /// The `WWW-Authenticate` challenge that tells a client how to present the credential:
    /// `Bearer`, `Basic realm="…"`, `ApiKey header="X-API-Key", query="api-key"`. `None` for
    /// credentials a client cannot be asked for, and for cookies (a login page sets those).
    pub fn challenge(&self) -> Option<String> {
        if !self.challenge {
            return None;
        }
        let mut params = Vec::new();
        for carrier in &self.carriers {
            match carrier {
                Carrier::Bearer => return Some("Bearer".to_owned()),
                Carrier::Basic => {
                    return Some(r#"Basic realm="guard", charset="UTF-8""#.to_owned());
                }
                Carrier::Header(name) => params.push(format!("header=\"{name}\"")),
                Carrier::Query(name) => params.push(format!("query=\"{name}\"")),
                Carrier::Cookie(_) => {}
            }
        }
        let only_cookies = !self.carriers.is_empty()
            && self.carriers.iter().all(|c| matches!(c, Carrier::Cookie(_)));
        match (only_cookies, params.is_empty()) {
            (true, _) => None,
            (false, true) => Some(self.scheme.to_string()),
            (false, false) => Some(format!("{} {}", self.scheme, params.join(", "))),
        }
    }
}

/// Recognises one kind of credential.
///
/// ```
/// use guard_core::authn::{AuthRequest, Authenticator, Description, Outcome, Verdict};
///
/// /// Trusts nobody: rejects any request carrying `X-Debug-User`.
/// struct NoDebugUsers;
///
/// impl Authenticator for NoDebugUsers {
///     fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a> {
///         Verdict::Now(if request.headers().contains_key("x-debug-user") {
///             Outcome::rejected("debug users are not accepted")
///         } else {
///             Outcome::NotMine
///         })
///     }
///
///     fn describe(&self) -> Description {
///         Description::new("DebugUser").without_challenge()
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Looks for this authenticator's credentials in the request.
    fn authenticate<'a>(&'a self, request: &'a AuthRequest<'a>) -> Verdict<'a>;

    /// How its credential is presented.
    fn describe(&self) -> Description;

    /// A name for logs and errors (by default, the type's name).
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_the_carriers() {
        let api_key = Description::new("ApiKey")
            .carried(Carrier::Header("X-API-Key".into()))
            .carried(Carrier::Query("api-key".into()));
        assert_eq!(
            api_key.challenge().as_deref(),
            Some(r#"ApiKey header="X-API-Key", query="api-key""#)
        );
        assert_eq!(
            Description::new("Bearer").carried(Carrier::Bearer).challenge().as_deref(),
            Some("Bearer")
        );
        assert!(
            Description::new("Basic")
                .carried(Carrier::Basic)
                .challenge()
                .unwrap()
                .starts_with("Basic realm=")
        );
        assert_eq!(
            Description::new("Session")
                .carried(Carrier::Cookie("guard_session".into()))
                .challenge(),
            None
        );
        assert_eq!(Description::new("Tagged").challenge().as_deref(), Some("Tagged"));
        assert_eq!(Description::new("Proxy").without_challenge().challenge(), None);
    }
}
