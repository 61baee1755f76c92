//! Checks a parsed policy and numbers its roles and permissions.
//!
//! Every problem is reported, each spanned on the name at fault: duplicates (a permission
//! granted twice by one role too), a name used for both a role and a permission, undeclared
//! permissions (when a `permissions` section exists), inheritance of undeclared roles and
//! inheritance cycles.

use std::collections::HashMap;

use super::parse::{PolicyInput, Term};
use crate::errors::Errors;
use crate::suggest;

/// The most roles, and separately permissions, one policy may declare (`guard_core::set`).
const MAX_ENTRIES: usize = 256;

/// A policy that passed every check.
pub(crate) struct ValidPolicy {
    pub(crate) permissions: Vec<String>,
    pub(crate) roles: Vec<ValidRole>,
    pub(crate) fingerprint: u64,
}

pub(crate) struct ValidRole {
    pub(crate) name: String,
    pub(crate) inherits: Vec<usize>,
    pub(crate) permissions: Vec<usize>,
}

impl ValidPolicy {
    pub(crate) fn role(&self, name: &str) -> Option<usize> {
        self.roles.iter().position(|r| r.name == name)
    }

    pub(crate) fn permission(&self, name: &str) -> Option<usize> {
        self.permissions.iter().position(|p| p == name)
    }

    pub(crate) fn role_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.roles.iter().map(|r| r.name.as_str())
    }

    pub(crate) fn permission_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.permissions.iter().map(String::as_str)
    }
}

pub(crate) fn validate(input: &PolicyInput) -> syn::Result<ValidPolicy> {
    let mut errors = Errors::default();

    let mut role_ids: HashMap<String, usize> = HashMap::new();
    for decl in &input.roles {
        let name = decl.name.to_string();
        if role_ids.contains_key(&name) {
            errors.push(&decl.name, format!("role `{name}` is declared more than once"));
        } else {
            role_ids.insert(name, role_ids.len());
        }
    }

    let declared: Vec<String> = input.roles.iter().map(|d| d.name.to_string()).collect();
    let explicit = input.permissions.is_some();
    let mut permissions: Vec<String> = Vec::new();
    // A name is a role or a permission, never both: an attribute's "`x` is a role, not a
    // permission" depends on it, and so does a reader of the policy.
    let shared_name = |ident: &syn::Ident, errors: &mut Errors| {
        let name = ident.to_string();
        let shared = role_ids.contains_key(&name);
        if shared {
            errors.push(
                ident,
                format!("`{name}` is already a role's name; give the permission a name of its own"),
            );
        }
        shared
    };
    for ident in input.permissions.iter().flatten() {
        let name = ident.to_string();
        if shared_name(ident, &mut errors) {
            continue;
        }
        if permissions.contains(&name) {
            errors.push(ident, format!("permission `{name}` is declared more than once"));
        } else {
            permissions.push(name);
        }
    }

    let mut roles: Vec<ValidRole> = Vec::new();
    for decl in &input.roles {
        let name = decl.name.to_string();
        if roles.iter().any(|r| r.name == name) {
            continue; // reported above
        }
        let mut role = ValidRole { name, inherits: Vec::new(), permissions: Vec::new() };
        for term in &decl.terms {
            match term {
                Term::Inherit(parent) => match role_ids.get(&parent.to_string()) {
                    Some(&i) => role.inherits.push(i),
                    None => errors.push(
                        parent,
                        format!(
                            "role `{}` inherits `{parent}`, which is not a declared role; {}",
                            role.name,
                            suggest::help(
                                &parent.to_string(),
                                "role",
                                declared.iter().map(String::as_str)
                            )
                        ),
                    ),
                },
                Term::Permissions(names) => {
                    for ident in names {
                        let name = ident.to_string();
                        if !explicit && shared_name(ident, &mut errors) {
                            continue;
                        }
                        let index = match permissions.iter().position(|p| *p == name) {
                            Some(i) => i,
                            None if explicit => {
                                errors.push(
                                    ident,
                                    format!(
                                        "unknown permission `{name}`; {}",
                                        suggest::help(
                                            &name,
                                            "permission",
                                            permissions.iter().map(String::as_str)
                                        )
                                    ),
                                );
                                continue;
                            }
                            None => {
                                permissions.push(name.clone());
                                permissions.len() - 1
                            }
                        };
                        if role.permissions.contains(&index) {
                            errors
                                .push(ident, format!("role `{}` grants `{name}` twice", role.name));
                        } else {
                            role.permissions.push(index);
                        }
                    }
                }
            }
        }
        roles.push(role);
    }

    if roles.len() > MAX_ENTRIES || permissions.len() > MAX_ENTRIES {
        let first =
            input.roles.first().map(|d| d.name.span()).unwrap_or_else(proc_macro2::Span::call_site);
        errors.push_span(
            first,
            format!("a policy holds at most {MAX_ENTRIES} roles and {MAX_ENTRIES} permissions"),
        );
    }

    for (i, decl) in input.roles.iter().enumerate() {
        let Some(path) = cycle_from(&roles, i) else {
            continue;
        };
        if path.iter().any(|&r| r < i) {
            continue; // reported once, at the cycle's first-declared role
        }
        let names: Vec<&str> = path.iter().map(|&r| roles[r].name.as_str()).collect();
        let message = format!(
            "role `{}` inherits itself ({}): inheritance must not form a cycle",
            roles[i].name,
            names.join(" -> ")
        );
        let at = decl.terms.iter().find_map(|t| match t {
            Term::Inherit(parent) if *parent == roles[path[1]].name => Some(parent),
            _ => None,
        });
        errors.push(at.unwrap_or(&decl.name), message);
    }

    errors.finish()?;
    let fingerprint = fingerprint(&permissions, &roles);
    Ok(ValidPolicy { permissions, roles, fingerprint })
}

/// The shortest inheritance path from role `start` back to itself (`[start, …, start]`), if
/// there is one.
fn cycle_from(roles: &[ValidRole], start: usize) -> Option<Vec<usize>> {
    let mut previous: Vec<Option<usize>> = vec![None; roles.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(r) = queue.pop_front() {
        for &parent in &roles.get(r)?.inherits {
            if parent == start {
                let mut path = vec![r];
                let mut at = r;
                while at != start {
                    at = previous[at]?;
                    path.push(at);
                }
                path.reverse();
                path.push(start);
                return Some(path);
            }
            if previous[parent].is_none() {
                previous[parent] = Some(r);
                queue.push_back(parent);
            }
        }
    }
    None
}

/// FNV-1a over a canonical rendering of the policy: handlers carry it, and the guard refuses
/// to run a handler compiled against a different policy.
fn fingerprint(permissions: &[String], roles: &[ValidRole]) -> u64 {
    let mut canonical = String::new();
    for p in permissions {
        canonical.push_str(p);
        canonical.push(',');
    }
    canonical.push('|');
    for role in roles {
        canonical.push_str(&role.name);
        canonical.push_str(&format!(":{:?}{:?};", role.inherits, role.permissions));
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash.max(1)
}
