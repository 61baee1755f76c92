//! Who is calling: the principal an authenticator resolved for a request.

use std::sync::{Arc, LazyLock};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::policy::Grant;
use super::set::BitSet;
use crate::clock::Timestamp;
use crate::recording::Usage;
use crate::usage::{RateLimiter, Tracked, UsageOutcome};

/// What kind of credential identified a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A user, by password.
    User,
    /// An API key.
    ApiKey,
    /// A user, by login session.
    Session,
    /// A user, by bearer token.
    Token,
    /// A JSON Web Token issued elsewhere.
    Jwt,
    /// Nobody: no credentials were presented.
    Anonymous,
    /// Identified by an authenticator of the application's own.
    Custom,
}

/// What a principal is: implemented by the in-memory records of credentials (an API key's
/// entry is its own identity), so that resolving a caller allocates nothing.
pub trait Identity: Send + Sync + 'static {
    /// A stable identifier: the key id for an API key, the user id for a user.
    fn id(&self) -> &str;
    /// A human-readable name.
    fn name(&self) -> &str;
    /// What kind of credential identified the caller.
    fn kind(&self) -> PrincipalKind;
    /// What the caller's roles grant.
    fn grant(&self) -> &Grant;

    /// The credential that proved this identity, if its uses are recorded (an API key, a
    /// session, a bearer token).
    fn credential(&self) -> Option<&dyn Tracked> {
        None
    }

    /// [`Identity::credential`] as a shared handle, taken only when the credential first
    /// gathers usage in a flush interval.
    fn credential_handle(self: Arc<Self>) -> Option<Arc<dyn Tracked>> {
        None
    }

    /// The rate limit its requests share, if it has one (an API key's own, or a user's for
    /// all its sessions, tokens and passwords).
    fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        None
    }
}

/// The caller of a request. Cheap to clone: one reference count, two for a user proved by a
/// session or a token.
///
/// Roles are held twice: the names assigned (for display) and, as compact sets, the roles and
/// permissions they grant after inheritance (for checks, which never allocate). A principal
/// also reaches the credential that proved it, on which the outcome of the request is
/// recorded ([`Principal::record_use`]): its identity itself (an API key), or a credential
/// issued to it (a session or token of a user).
#[derive(Clone)]
pub struct Principal {
    identity: Arc<dyn Identity>,
    via: Option<Via>,
}

/// A credential issued to the identity, and the kind it makes the principal.
#[derive(Clone)]
struct Via {
    credential: Arc<dyn Tracked>,
    kind: PrincipalKind,
}

/// An identity built by value, for authenticators of the application's own and tests.
struct Owned {
    id: String,
    kind: PrincipalKind,
    name: String,
    grant: Grant,
}

impl Identity for Owned {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> PrincipalKind {
        self.kind
    }
    fn grant(&self) -> &Grant {
        &self.grant
    }
}

static ANONYMOUS: LazyLock<Principal> = LazyLock::new(|| {
    Principal::from_identity(Arc::new(Owned {
        id: String::new(),
        kind: PrincipalKind::Anonymous,
        name: "anonymous".to_owned(),
        grant: Grant::default(),
    }))
});

impl Principal {
    /// A principal holding what `grant` grants.
    pub fn new(
        kind: PrincipalKind,
        id: impl Into<String>,
        name: impl Into<String>,
        grant: &Grant,
    ) -> Self {
        Self::from_identity(Arc::new(Owned {
            id: id.into(),
            kind,
            name: name.into(),
            grant: grant.clone(),
        }))
    }

    /// The principal an identity describes.
    pub fn from_identity(identity: Arc<dyn Identity>) -> Self {
        Principal { identity, via: None }
    }

    /// The principal `identity` (a user) proved by `credential` (a session or token), which
    /// makes it of `kind`.
    pub fn via(
        identity: Arc<dyn Identity>,
        credential: Arc<dyn Tracked>,
        kind: PrincipalKind,
    ) -> Self {
        Principal { identity, via: Some(Via { credential, kind }) }
    }

    /// The caller who presented no credentials.
    pub fn anonymous() -> Self {
        ANONYMOUS.clone()
    }

    /// A stable identifier: the key id for an API key, the user id for a user.
    pub fn id(&self) -> &str {
        self.identity.id()
    }

    /// A human-readable name.
    pub fn name(&self) -> &str {
        self.identity.name()
    }

    /// What kind of credential identified the caller.
    pub fn kind(&self) -> PrincipalKind {
        self.via.as_ref().map_or_else(|| self.identity.kind(), |via| via.kind)
    }

    /// Whether the caller presented valid credentials.
    pub fn is_authenticated(&self) -> bool {
        self.kind() != PrincipalKind::Anonymous
    }

    /// The declared roles assigned to the caller (without the ones they inherit).
    pub fn role_names(&self) -> &[&'static str] {
        &self.identity.grant().role_names
    }

    /// The roles the caller holds, inherited ones included, as policy indices.
    pub fn roles(&self) -> &BitSet {
        &self.identity.grant().roles
    }

    /// The caller's effective permissions, as policy indices.
    pub fn permissions(&self) -> &BitSet {
        &self.identity.grant().permissions
    }

    /// The credential that proved this principal, if its uses are recorded.
    pub fn credential(&self) -> Option<&dyn Tracked> {
        match &self.via {
            Some(via) => Some(via.credential.as_ref()),
            None => self.identity.credential(),
        }
    }

    /// The rate limit this principal's requests share, if it has one.
    pub fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.identity.rate_limiter()
    }

    /// Records one use of the credential that proved this principal (nothing for one whose
    /// credential keeps no usage): counted at once, written by the next flush.
    pub fn record_use(
        &self,
        usage: &Usage,
        at: Timestamp,
        outcome: UsageOutcome,
        method: &http::Method,
        route: &str,
    ) {
        match &self.via {
            Some(via) => {
                let handle = || Some(Arc::clone(&via.credential));
                usage.record_slot(via.credential.as_ref(), handle, at, outcome, method, route);
            }
            None => {
                if let Some(credential) = self.identity.credential() {
                    let handle = || Arc::clone(&self.identity).credential_handle();
                    usage.record_slot(credential, handle, at, outcome, method, route);
                }
            }
        }
    }
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.id())
            .field("kind", &self.kind())
            .field("name", &self.name())
            .field("roles", &self.role_names())
            .finish()
    }
}

/// Serializes as `{"id", "name", "kind", "roles"}`, roles by name.
impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Principal", 4)?;
        s.serialize_field("id", self.id())?;
        s.serialize_field("name", self.name())?;
        s.serialize_field("kind", &self.kind())?;
        s.serialize_field("roles", self.role_names())?;
        s.end()
    }
}
