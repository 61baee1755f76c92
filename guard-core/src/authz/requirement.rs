//! What a handler demands of its caller, and the decision for one principal.

use http::request::Parts;

use super::principal::{Principal, PrincipalKind};
use super::set::BitSet;
use crate::future::BoxFuture;

/// A requirement, resolved to policy indices at compile time by `#[protected]` and
/// `#[api_key]`. Deciding one never allocates, unless it has a check to run.
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
    /// A predicate of the application's own over the caller and the request head.
    Check(Check),
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
    /// Decides whether `principal` meets the requirement, running `check` predicates
    /// against the request head where the requirement has them.
    ///
    /// An anonymous caller never does (401), and no check runs for one. A requirement for an
    /// API key that a caller authenticated otherwise does not meet is also a 401: presenting a
    /// key would help. Anything else unmet is a 403. Requirements without checks are decided
    /// without allocating or awaiting anything.
    pub async fn decide(&self, principal: &Principal, parts: &Parts) -> Decision {
        match self.decide_without_checks(principal) {
            Some(decision) => decision,
            None => self.decide_with_checks(principal, parts).await,
        }
    }

    /// The decision, if it can be made without running a check (always, for a requirement
    /// that has none); `None` if a check must run: then [`Requirement::decide`].
    pub fn decide_without_checks(&self, principal: &Principal) -> Option<Decision> {
        if !principal.is_authenticated() {
            return Some(Decision::Unauthenticated);
        }
        self.decide_now(principal)
    }

    /// The decision for an authenticated caller, if it needs no check.
    fn decide_now(&self, principal: &Principal) -> Option<Decision> {
        Some(match self {
            Requirement::Authenticated => Decision::Allow,
            Requirement::ApiKey if principal.kind() == PrincipalKind::ApiKey => Decision::Allow,
            Requirement::ApiKey => Decision::Unauthenticated,
            Requirement::AnyRole(roles) if principal.roles().intersects(roles) => Decision::Allow,
            Requirement::AllPermissions(perms) if principal.permissions().is_superset(perms) => {
                Decision::Allow
            }
            Requirement::AnyRole(_) | Requirement::AllPermissions(_) => Decision::Forbidden,
            Requirement::Check(_) => return None,
            Requirement::All(parts) => {
                let mut decision = Decision::Allow;
                for part in *parts {
                    decision = decision.and(part.decide_now(principal)?);
                }
                decision
            }
            Requirement::Any(parts) => {
                let mut decision = Decision::Forbidden;
                for part in *parts {
                    decision = decision.or(part.decide_now(principal)?);
                }
                decision
            }
        })
    }

    /// The full evaluation, awaiting checks; boxed because it recurses.
    fn decide_with_checks<'a>(
        &'a self,
        principal: &'a Principal,
        parts: &'a Parts,
    ) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            match self {
                Requirement::Check(check) if (check.run)(principal, parts).await => Decision::Allow,
                Requirement::Check(_) => Decision::Forbidden,
                Requirement::All(list) => {
                    let mut decision = Decision::Allow;
                    for part in *list {
                        decision = decision.and(part.decide_with_checks(principal, parts).await);
                        if decision == Decision::Unauthenticated {
                            break;
                        }
                    }
                    decision
                }
                Requirement::Any(list) => {
                    let mut decision = Decision::Forbidden;
                    for part in *list {
                        decision = decision.or(part.decide_with_checks(principal, parts).await);
                        if decision == Decision::Allow {
                            break;
                        }
                    }
                    decision
                }
                leaf => leaf.decide_now(principal).unwrap_or(Decision::Forbidden),
            }
        })
    }
}

/// A predicate of the application's own, named in `check = path::to::fn`.
#[derive(Clone, Copy)]
pub struct Check {
    name: &'static str,
    run: CheckFn,
}

/// How a check is called: the macros wrap the application's sync or async function in one.
pub type CheckFn = for<'a> fn(&'a Principal, &'a Parts) -> BoxFuture<'a, bool>;

impl Check {
    /// A check called `name` (its path, for diagnostics) that runs `run`.
    pub const fn new(name: &'static str, run: CheckFn) -> Self {
        Check { name, run }
    }

    /// The path of the function, as written in the attribute.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Check").field(&self.name).finish()
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
    use crate::authz::policy::{Policy, PolicySpec, RoleSpec};

    static SPEC: PolicySpec = PolicySpec::new(
        1,
        &["view", "edit"],
        &[RoleSpec::new("viewer", &[], &[0]), RoleSpec::new("editor", &[0], &[1])],
    );

    fn principal(kind: PrincipalKind, name: &str, roles: &[&str]) -> Principal {
        let policy = Policy::new(&SPEC).unwrap();
        Principal::new(kind, "id", name, &policy.grant(roles))
    }

    /// Polls a future that never waits (checks in these tests are ready at once).
    fn now<T>(future: impl std::future::Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("a check waited"),
        }
    }

    fn decide(requirement: &Requirement, principal: &Principal) -> Decision {
        let parts = http::Request::get("/notes/alice").body(()).unwrap().into_parts().0;
        now(requirement.decide(principal, &parts))
    }

    fn is_alice<'a>(p: &'a Principal, parts: &'a Parts) -> BoxFuture<'a, bool> {
        Box::pin(async move { p.name() == "alice" && parts.uri.path().ends_with("/alice") })
    }

    #[test]
    fn decisions() {
        let editor_key = principal(PrincipalKind::ApiKey, "k", &["editor"]);
        let viewer_user = principal(PrincipalKind::User, "bob", &["viewer"]);
        let alice = principal(PrincipalKind::User, "alice", &[]);
        let anonymous = Principal::anonymous();
        let viewer_role = Requirement::AnyRole(BitSet::from_indices([0]));
        let edit_perm = Requirement::AllPermissions(BitSet::from_indices([1]));

        assert_eq!(decide(&viewer_role, &editor_key), Decision::Allow, "inherited role");
        assert_eq!(decide(&edit_perm, &editor_key), Decision::Allow);
        assert_eq!(decide(&edit_perm, &viewer_user), Decision::Forbidden);
        assert_eq!(decide(&Requirement::ApiKey, &viewer_user), Decision::Unauthenticated);
        assert_eq!(decide(&Requirement::Authenticated, &anonymous), Decision::Unauthenticated);
        assert_eq!(decide(&viewer_role, &anonymous), Decision::Unauthenticated);

        static BOTH: [Requirement; 2] =
            [Requirement::ApiKey, Requirement::AllPermissions(BitSet::from_words([2, 0, 0, 0]))];
        assert_eq!(decide(&Requirement::All(&BOTH), &editor_key), Decision::Allow);
        assert_eq!(decide(&Requirement::All(&BOTH), &viewer_user), Decision::Unauthenticated);
        assert_eq!(decide(&Requirement::Any(&BOTH), &viewer_user), Decision::Unauthenticated);
        static EITHER: [Requirement; 1] =
            [Requirement::AllPermissions(BitSet::from_words([2, 0, 0, 0]))];
        assert_eq!(decide(&Requirement::Any(&EITHER), &viewer_user), Decision::Forbidden);

        static OWNER_OR_EDITOR: [Requirement; 2] = [
            Requirement::AllPermissions(BitSet::from_words([2, 0, 0, 0])),
            Requirement::Check(Check::new("is_alice", is_alice)),
        ];
        let owner_or_editor = Requirement::Any(&OWNER_OR_EDITOR);
        assert_eq!(decide(&owner_or_editor, &alice), Decision::Allow, "the check admits");
        assert_eq!(decide(&owner_or_editor, &editor_key), Decision::Allow, "the permission admits");
        assert_eq!(decide(&owner_or_editor, &viewer_user), Decision::Forbidden);
        assert_eq!(decide(&owner_or_editor, &anonymous), Decision::Unauthenticated);
        static OWNER_AND_EDITOR: [Requirement; 2] = OWNER_OR_EDITOR;
        assert_eq!(decide(&Requirement::All(&OWNER_AND_EDITOR), &alice), Decision::Forbidden);
    }
}
