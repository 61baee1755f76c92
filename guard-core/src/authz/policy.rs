//! The authorization policy: roles, permissions and inheritance.
//!
//! Applications declare the policy once with `guard_axum::policy!`, which checks every name at
//! compile time and emits a [`PolicySpec`]. [`Policy::new`] turns the spec into the run-time
//! registry: for each role the set of roles it stands for (itself and every role it inherits,
//! transitively) and its effective permissions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use compact_str::CompactString;

use super::set::{BitSet, MAX_ENTRIES};

/// The static description of a policy, as `policy!` emits it.
///
/// Roles and permissions are numbered in declaration order; `RoleSpec` refers to both by index.
#[derive(Debug)]
pub struct PolicySpec {
    fingerprint: u64,
    permissions: &'static [&'static str],
    roles: &'static [RoleSpec],
}

/// One role of a [`PolicySpec`].
#[derive(Debug)]
pub struct RoleSpec {
    name: &'static str,
    inherits: &'static [u16],
    permissions: &'static [u16],
}

impl PolicySpec {
    /// Describes a policy. `fingerprint` identifies this exact declaration: handlers compiled
    /// against a policy carry its fingerprint and refuse to run under a different one.
    pub const fn new(
        fingerprint: u64,
        permissions: &'static [&'static str],
        roles: &'static [RoleSpec],
    ) -> Self {
        PolicySpec { fingerprint, permissions, roles }
    }

    /// A policy with no roles or permissions: enough for `#[api_key]` and `#[protected]`
    /// without names.
    pub const EMPTY: PolicySpec = PolicySpec::new(0, &[], &[]);
}

impl RoleSpec {
    /// Describes a role: its name, the roles it inherits and its own permissions, by index.
    pub const fn new(
        name: &'static str,
        inherits: &'static [u16],
        permissions: &'static [u16],
    ) -> Self {
        RoleSpec { name, inherits, permissions }
    }
}

/// Role names a policy does not declare, with the help the macros give at compile time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UnknownRoles {
    /// The names.
    pub names: Vec<String>,
    message: String,
}

/// Why a [`PolicySpec`] cannot be used. `policy!` rules all of these out at compile time; they
/// only arise from a spec written by hand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// More roles or permissions than a policy can hold.
    #[error("a policy holds at most {MAX_ENTRIES} roles and {MAX_ENTRIES} permissions")]
    TooLarge,
    /// Two roles, or two permissions, share a name.
    #[error("`{0}` is declared more than once")]
    Duplicate(&'static str),
    /// A role refers to a role or permission index that does not exist.
    #[error("role `{0}` refers to an undeclared role or permission")]
    DanglingIndex(&'static str),
    /// A role inherits itself, directly or through others.
    #[error("role `{0}` inherits itself")]
    Cycle(&'static str),
}

/// The run-time policy: names, indices and what each role grants.
#[derive(Debug)]
pub struct Policy {
    spec: &'static PolicySpec,
    roles: Vec<RoleGrant>,
    role_index: HashMap<&'static str, usize>,
}

#[derive(Debug, Clone, Copy)]
struct RoleGrant {
    /// The role itself and every role it inherits.
    roles: BitSet,
    /// Its own permissions and those of every inherited role.
    permissions: BitSet,
}

/// What a list of role names grants, resolved against a [`Policy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// The names as assigned (stored), deduplicated, in the order given; undeclared ones
    /// included, so that what was assigned is shown as it was.
    pub assigned: Vec<String>,
    /// The declared roles among the names, deduplicated, in declaration order.
    pub role_names: Vec<&'static str>,
    /// Those roles and every role they inherit.
    pub roles: BitSet,
    /// Their effective permissions.
    pub permissions: BitSet,
    /// Names the policy does not declare; they grant nothing.
    pub unknown: Vec<String>,
}

impl Policy {
    /// Validates `spec` and computes every role's effective roles and permissions.
    pub fn new(spec: &'static PolicySpec) -> Result<Self, PolicyError> {
        if spec.roles.len() > MAX_ENTRIES || spec.permissions.len() > MAX_ENTRIES {
            return Err(PolicyError::TooLarge);
        }
        let mut role_index = HashMap::new();
        for (i, role) in spec.roles.iter().enumerate() {
            if role_index.insert(role.name, i).is_some() {
                return Err(PolicyError::Duplicate(role.name));
            }
        }
        let mut seen = HashMap::new();
        for name in spec.permissions {
            if seen.insert(*name, ()).is_some() {
                return Err(PolicyError::Duplicate(name));
            }
        }
        for role in spec.roles {
            let dangling = role.inherits.iter().any(|&r| usize::from(r) >= spec.roles.len())
                || role.permissions.iter().any(|&p| usize::from(p) >= spec.permissions.len());
            if dangling {
                return Err(PolicyError::DanglingIndex(role.name));
            }
        }
        let roles =
            (0..spec.roles.len()).map(|i| grant_of(spec, i)).collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { spec, roles, role_index })
    }

    /// Identifies the declaration this policy was built from.
    pub fn fingerprint(&self) -> u64 {
        self.spec.fingerprint
    }

    /// The declared role names, in declaration order.
    pub fn role_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.spec.roles.iter().map(|r| r.name)
    }

    /// The declared permission names, in declaration order.
    pub fn permission_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.spec.permissions.iter().copied()
    }

    /// The policy as JSON: `{fingerprint, permissions, roles: [{name, inherits, permissions}]}`,
    /// by name. This is what is recorded in the store for tools that run without the
    /// application (the CLI, an admin API of another process).
    pub fn describe(&self) -> serde_json::Value {
        let roles: Vec<serde_json::Value> = self
            .spec
            .roles
            .iter()
            .map(|role| {
                let inherits: Vec<&str> =
                    role.inherits.iter().map(|&i| self.spec.roles[usize::from(i)].name).collect();
                let permissions: Vec<&str> = role
                    .permissions
                    .iter()
                    .map(|&p| self.spec.permissions[usize::from(p)])
                    .collect();
                serde_json::json!({ "name": role.name, "inherits": inherits, "permissions": permissions })
            })
            .collect();
        serde_json::json!({
            "fingerprint": format!("{:016x}", self.spec.fingerprint),
            "permissions": self.spec.permissions,
            "roles": roles,
        })
    }

    /// The roles a role inherits directly, by name.
    pub fn inherited(&self, role: &str) -> Vec<&'static str> {
        let Some(i) = self.role(role) else { return Vec::new() };
        self.spec.roles[i].inherits.iter().map(|&r| self.spec.roles[usize::from(r)].name).collect()
    }

    /// The names of a set of permissions, in declaration order.
    pub fn permissions_of(&self, set: &BitSet) -> Vec<&'static str> {
        set.iter().filter_map(|i| self.spec.permissions.get(i).copied()).collect()
    }

    /// The index of a declared role.
    pub fn role(&self, name: &str) -> Option<usize> {
        self.role_index.get(name).copied()
    }

    /// The index of a declared permission.
    pub fn permission(&self, name: &str) -> Option<usize> {
        self.spec.permissions.iter().position(|p| *p == name)
    }

    /// Whether `name` is a declared role.
    pub fn has_role(&self, name: &str) -> bool {
        self.role_index.contains_key(name)
    }

    /// Checks role names to be assigned: all declared, each kept once, in the order given;
    /// or the ones that are not, with "did you mean".
    pub fn validate_roles(&self, names: Vec<String>) -> Result<Vec<CompactString>, UnknownRoles> {
        let unknown: Vec<String> = names.iter().filter(|r| !self.has_role(r)).cloned().collect();
        if !unknown.is_empty() {
            return Err(self.unknown_roles(unknown));
        }
        let mut unique: Vec<CompactString> = Vec::with_capacity(names.len());
        for name in names {
            if !unique.iter().any(|r| r == name.as_str()) {
                unique.push(name.into());
            }
        }
        Ok(unique)
    }

    /// The error for role names this policy does not declare: for each, the closest declared
    /// name if it is a plausible typo, and what is declared.
    pub fn unknown_roles(&self, names: Vec<String>) -> UnknownRoles {
        let declared = || self.role_names();
        // The answer names what it refuses, but only so much of it: a request of 64 KiB of
        // names gets a short answer, not its own body back.
        const SHOWN_NAMES: usize = 5;
        const SHOWN_CHARS: usize = 64;
        let shown = |name: &str| -> String {
            let mut shown: String = name.chars().take(SHOWN_CHARS).collect();
            if name.chars().nth(SHOWN_CHARS).is_some() {
                shown.push('…');
            }
            shown.escape_debug().to_string()
        };
        let mut each: Vec<String> = names
            .iter()
            .take(SHOWN_NAMES)
            .map(|name| match super::suggest::closest(name, declared()) {
                Some(best) => format!("unknown role `{}`; did you mean `{best}`?", shown(name)),
                None => format!("unknown role `{}`", shown(name)),
            })
            .collect();
        if names.len() > SHOWN_NAMES {
            each.push(format!("and {} more", names.len() - SHOWN_NAMES));
        }
        let listed: Vec<&str> = declared().collect();
        let listed = if listed.is_empty() {
            "the policy declares no roles".to_owned()
        } else {
            format!("declared roles: {}", listed.join(", "))
        };
        UnknownRoles { message: format!("{} ({listed})", each.join("; ")), names }
    }

    /// What holding the roles `names` grants. Unknown names grant nothing and are listed in
    /// [`Grant::unknown`].
    pub fn grant<S: AsRef<str>>(&self, names: &[S]) -> Grant {
        let mut assigned = BitSet::EMPTY;
        let mut grant = Grant::default();
        for name in names {
            if grant.assigned.iter().any(|a| a == name.as_ref()) {
                continue;
            }
            grant.assigned.push(name.as_ref().to_owned());
            match self.role(name.as_ref()) {
                Some(i) => {
                    assigned.insert(i);
                    grant.roles.union_with(&self.roles[i].roles);
                    grant.permissions.union_with(&self.roles[i].permissions);
                }
                None => grant.unknown.push(name.as_ref().to_owned()),
            }
        }
        grant.role_names = assigned.iter().map(|i| self.spec.roles[i].name).collect();
        grant
    }
}

/// Grants interned by role list: credentials holding the same roles share one [`Grant`], so
/// an index of a million keys holds a handful of grants, not a million.
///
/// A stored role this policy does not declare (assigned under another version of the
/// application, during a deploy, or before the policy dropped it) grants nothing, and is
/// reported once in the log, the first time a credential holding it is met.
#[derive(Debug)]
pub struct Grants {
    policy: Arc<Policy>,
    interned: Mutex<Interned>,
}

#[derive(Debug, Default)]
struct Interned {
    grants: hashbrown::HashMap<Vec<CompactString>, Arc<Grant>>,
    /// Undeclared role names already reported.
    reported: hashbrown::HashSet<String>,
}

impl Grants {
    /// An empty interner for `policy`.
    pub fn new(policy: Arc<Policy>) -> Self {
        Grants { policy, interned: Mutex::new(Interned::default()) }
    }

    /// The policy grants are resolved against.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// What holding `roles` grants, shared with every other holder of the same list.
    pub fn of(&self, roles: &[CompactString]) -> Arc<Grant> {
        let mut interned = self.interned.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(grant) = interned.grants.get(roles) {
            return Arc::clone(grant);
        }
        let grant = Arc::new(self.policy.grant(roles));
        for name in &grant.unknown {
            if interned.reported.insert(name.clone()) {
                tracing::warn!(
                    role = %name,
                    "a stored role assignment names a role this policy does not declare; it \
                     grants nothing here"
                );
            }
        }
        interned.grants.insert(roles.to_vec(), Arc::clone(&grant));
        grant
    }
}

/// Walks the inheritance graph from role `start` with an explicit stack, so that a cycle in a
/// hand-written spec is an error rather than endless recursion.
fn grant_of(spec: &PolicySpec, start: usize) -> Result<RoleGrant, PolicyError> {
    let mut grant = RoleGrant { roles: BitSet::EMPTY, permissions: BitSet::EMPTY };
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        if grant.roles.contains(i) {
            continue;
        }
        grant.roles.insert(i);
        let role = &spec.roles[i];
        for &p in role.permissions {
            grant.permissions.insert(usize::from(p));
        }
        for &parent in role.inherits {
            let parent = usize::from(parent);
            if parent == start {
                return Err(PolicyError::Cycle(spec.roles[start].name));
            }
            if !grant.roles.contains(parent) {
                stack.push(parent);
            }
        }
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: PolicySpec = PolicySpec::new(
        7,
        &["view_reports", "edit_reports", "manage_keys"],
        &[
            RoleSpec::new("viewer", &[], &[0]),
            RoleSpec::new("editor", &[0], &[1]),
            RoleSpec::new("admin", &[1], &[2]),
        ],
    );

    #[test]
    fn inheritance_is_transitive() {
        let policy = Policy::new(&SPEC).unwrap();
        let admin = policy.grant(&["admin"]);
        assert_eq!(admin.role_names, vec!["admin"]);
        assert_eq!(admin.roles, BitSet::from_indices([0, 1, 2]));
        assert_eq!(admin.permissions, BitSet::from_indices([0, 1, 2]));
        let viewer = policy.grant(&["viewer", "ghost", "viewer"]);
        assert_eq!(viewer.assigned, ["viewer", "ghost"]);
        assert_eq!(viewer.roles, BitSet::from_indices([0]));
        assert_eq!(viewer.permissions, BitSet::from_indices([0]));
        assert_eq!(viewer.unknown, vec!["ghost".to_owned()]);
    }

    #[test]
    fn described_by_name() {
        let stored = Policy::new(&SPEC).unwrap().describe();
        assert_eq!(stored["roles"][2]["name"], "admin");
        assert_eq!(stored["roles"][2]["inherits"], serde_json::json!(["editor"]));
        assert_eq!(stored["roles"][2]["permissions"], serde_json::json!(["manage_keys"]));
    }

    #[test]
    fn hand_written_specs_are_validated() {
        static CYCLE: PolicySpec = PolicySpec::new(
            1,
            &[],
            &[RoleSpec::new("a", &[1], &[]), RoleSpec::new("b", &[0], &[])],
        );
        assert_eq!(Policy::new(&CYCLE).unwrap_err(), PolicyError::Cycle("a"));
        static DANGLING: PolicySpec = PolicySpec::new(1, &[], &[RoleSpec::new("a", &[], &[3])]);
        assert_eq!(Policy::new(&DANGLING).unwrap_err(), PolicyError::DanglingIndex("a"));
        static DUP: PolicySpec =
            PolicySpec::new(1, &[], &[RoleSpec::new("a", &[], &[]), RoleSpec::new("a", &[], &[])]);
        assert_eq!(Policy::new(&DUP).unwrap_err(), PolicyError::Duplicate("a"));
    }
}
