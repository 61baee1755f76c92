//! What a handler demands of its caller, and the decision for one principal.

use crate::principal::{Principal, PrincipalKind};
use crate::set::BitSet;

/// A requirement, resolved to policy indices at compile time by `#[protected]` and
/// `#[api_key]`. Evaluating one never allocates.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Requirement {
    /// Any authenticated caller.
    Authenticated,
    /// A caller that presented a valid API key.
    ApiKey,
    /// A caller holding at least one of these roles (inherited roles count).
    AnyRole(BitSet),
    /// A caller holding every one of these permissions.
    AllPermissions(BitSet),
    /// Every requirement in the list.
    All(&'static [Requirement]),
    /// At least one requirement in the list.
    Any(&'static [Requirement]),
}

/// The outcome of evaluating a [`Requirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The handler may run.
    Allow,
    /// The caller must (re)authenticate: 401.
    Unauthenticated,
    /// The caller is known but not allowed: 403.
    Forbidden,
}

impl Requirement {
    /// Decides whether `principal` meets the requirement.
    ///
    /// An anonymous caller never does (401). A requirement for an API key that a caller
    /// authenticated otherwise does not meet is also a 401: presenting a key would help.
    /// Anything else unmet is a 403.
    pub fn evaluate(&self, principal: &Principal) -> Decision {
        if !principal.is_authenticated() {
            return Decision::Unauthenticated;
        }
        match self {
            Requirement::Authenticated => Decision::Allow,
            Requirement::ApiKey if principal.kind() == PrincipalKind::ApiKey => Decision::Allow,
            Requirement::ApiKey => Decision::Unauthenticated,
            Requirement::AnyRole(roles) if principal.roles().intersects(roles) => Decision::Allow,
            Requirement::AllPermissions(perms) if principal.permissions().is_superset(perms) => {
                Decision::Allow
            }
            Requirement::AnyRole(_) | Requirement::AllPermissions(_) => Decision::Forbidden,
            Requirement::All(parts) => parts
                .iter()
                .map(|r| r.evaluate(principal))
                .fold(Decision::Allow, |acc, d| acc.and(d)),
            Requirement::Any(parts) => parts
                .iter()
                .map(|r| r.evaluate(principal))
                .fold(Decision::Forbidden, |acc, d| acc.or(d)),
        }
    }
}

impl Decision {
    /// Both must allow; a 401 outranks a 403, since credentials might satisfy both.
    fn and(self, other: Decision) -> Decision {
        use Decision::*;
        match (self, other) {
            (Unauthenticated, _) | (_, Unauthenticated) => Unauthenticated,
            (Forbidden, _) | (_, Forbidden) => Forbidden,
            (Allow, Allow) => Allow,
        }
    }

    /// Either may allow; failing both, a 401 outranks a 403.
    fn or(self, other: Decision) -> Decision {
        use Decision::*;
        match (self, other) {
            (Allow, _) | (_, Allow) => Allow,
            (Unauthenticated, _) | (_, Unauthenticated) => Unauthenticated,
            (Forbidden, Forbidden) => Forbidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, PolicySpec, RoleSpec};

    static SPEC: PolicySpec = PolicySpec::new(
        1,
        &["view", "edit"],
        &[
            RoleSpec::new("viewer", &[], &[0]),
            RoleSpec::new("editor", &[0], &[1]),
        ],
    );

    fn principal(kind: PrincipalKind, roles: &[&str]) -> Principal {
        let policy = Policy::new(&SPEC).unwrap();
        Principal::new(kind, "id", "name", &policy.grant(roles))
    }

    #[test]
    fn decisions() {
        let editor_key = principal(PrincipalKind::ApiKey, &["editor"]);
        let viewer_user = principal(PrincipalKind::User, &["viewer"]);
        let anonymous = Principal::anonymous();
        let viewer_role = Requirement::AnyRole(BitSet::from_indices([0]));
        let edit_perm = Requirement::AllPermissions(BitSet::from_indices([1]));

        assert_eq!(
            viewer_role.evaluate(&editor_key),
            Decision::Allow,
            "inherited role"
        );
        assert_eq!(edit_perm.evaluate(&editor_key), Decision::Allow);
        assert_eq!(edit_perm.evaluate(&viewer_user), Decision::Forbidden);
        assert_eq!(
            Requirement::ApiKey.evaluate(&viewer_user),
            Decision::Unauthenticated
        );
        assert_eq!(
            Requirement::Authenticated.evaluate(&anonymous),
            Decision::Unauthenticated
        );
        assert_eq!(viewer_role.evaluate(&anonymous), Decision::Unauthenticated);

        static BOTH: [Requirement; 2] = [
            Requirement::ApiKey,
            Requirement::AllPermissions(BitSet::from_words([2, 0, 0, 0])),
        ];
        assert_eq!(
            Requirement::All(&BOTH).evaluate(&editor_key),
            Decision::Allow
        );
        assert_eq!(
            Requirement::All(&BOTH).evaluate(&viewer_user),
            Decision::Unauthenticated
        );
        assert_eq!(
            Requirement::Any(&BOTH).evaluate(&viewer_user),
            Decision::Unauthenticated
        );
        static EITHER: [Requirement; 1] = [Requirement::AllPermissions(BitSet::from_words([
            2, 0, 0, 0,
        ]))];
        assert_eq!(
            Requirement::Any(&EITHER).evaluate(&viewer_user),
            Decision::Forbidden
        );
    }
}
