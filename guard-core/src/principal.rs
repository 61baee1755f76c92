//! Who is calling: the principal an authenticator resolved for a request.

use std::sync::{Arc, LazyLock};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::policy::Grant;
use crate::set::BitSet;

/// What kind of credential identified a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A user, by password or session.
    User,
    /// An API key.
    ApiKey,
    /// A bearer token.
    Token,
    /// Nobody: no credentials were presented.
    Anonymous,
    /// Identified by an authenticator of the application's own.
    Custom,
}

/// The caller of a request. Cheap to clone: the data is shared.
///
/// Roles are held twice: the names assigned (for display) and, as compact sets, the roles and
/// permissions they grant after inheritance (for checks, which never allocate).
#[derive(Clone)]
pub struct Principal(Arc<Inner>);

struct Inner {
    id: String,
    kind: PrincipalKind,
    name: String,
    role_names: Vec<&'static str>,
    roles: BitSet,
    permissions: BitSet,
}

static ANONYMOUS: LazyLock<Principal> = LazyLock::new(|| {
    Principal(Arc::new(Inner {
        id: String::new(),
        kind: PrincipalKind::Anonymous,
        name: "anonymous".to_owned(),
        role_names: Vec::new(),
        roles: BitSet::EMPTY,
        permissions: BitSet::EMPTY,
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
        Principal(Arc::new(Inner {
            id: id.into(),
            kind,
            name: name.into(),
            role_names: grant.role_names.clone(),
            roles: grant.roles,
            permissions: grant.permissions,
        }))
    }

    /// The caller who presented no credentials.
    pub fn anonymous() -> Self {
        ANONYMOUS.clone()
    }

    /// A stable identifier: the key id for an API key, the user name for a user.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// A human-readable name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// What kind of credential identified the caller.
    pub fn kind(&self) -> PrincipalKind {
        self.0.kind
    }

    /// Whether the caller presented valid credentials.
    pub fn is_authenticated(&self) -> bool {
        self.0.kind != PrincipalKind::Anonymous
    }

    /// The declared roles assigned to the caller (without the ones they inherit).
    pub fn role_names(&self) -> &[&'static str] {
        &self.0.role_names
    }

    /// The roles the caller holds, inherited ones included, as policy indices.
    pub fn roles(&self) -> &BitSet {
        &self.0.roles
    }

    /// The caller's effective permissions, as policy indices.
    pub fn permissions(&self) -> &BitSet {
        &self.0.permissions
    }
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.0.id)
            .field("kind", &self.0.kind)
            .field("name", &self.0.name)
            .field("roles", &self.0.role_names)
            .finish()
    }
}

/// Serializes as `{"id", "name", "kind", "roles"}`, roles by name.
impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Principal", 4)?;
        s.serialize_field("id", &self.0.id)?;
        s.serialize_field("name", &self.0.name)?;
        s.serialize_field("kind", &self.0.kind)?;
        s.serialize_field("roles", &self.0.role_names)?;
        s.end()
    }
}
