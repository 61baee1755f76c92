//! The note [`routes!`](crate::openapi::routes) leaves on a guarded operation, for
//! [`Guard::openapi`](crate::Guard::openapi) to turn into its security: the requirement as
//! alternatives (any one admits the caller), each naming the roles, permissions and checks it
//! needs by their policy indices.

use guard_core::Requirement;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Operation, PathItem, Paths};

/// The extension that carries the note until `Guard::openapi` replaces it.
pub(super) const NOTE: &str = "x-guard-requirement";

/// More alternatives than this are documented as one, without scopes: the lock is right, the
/// scopes would only be noise.
const MAX_ALTERNATIVES: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Note {
    /// Only an API key admits (`#[api_key]`).
    pub(super) api_key: bool,
    pub(super) alternatives: Vec<Alternative>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Alternative {
    pub(super) roles: Vec<usize>,
    pub(super) permissions: Vec<usize>,
    pub(super) checks: Vec<String>,
}

impl Alternative {
    /// Whether a caller could be authenticated and still refused (403).
    pub(super) fn can_forbid(&self) -> bool {
        !(self.roles.is_empty() && self.permissions.is_empty() && self.checks.is_empty())
    }

    fn and(&self, other: &Alternative) -> Alternative {
        let mut both = self.clone();
        both.roles.extend(&other.roles);
        both.permissions.extend(&other.permissions);
        both.checks.extend(other.checks.iter().cloned());
        both
    }
}

impl Note {
    pub(super) fn of(requirement: &Requirement) -> Note {
        let mut alternatives = alternatives(requirement);
        if alternatives.len() > MAX_ALTERNATIVES {
            let forbids = alternatives.iter().any(Alternative::can_forbid);
            let checks =
                if forbids { vec!["(see the route's description)".into()] } else { vec![] };
            alternatives = vec![Alternative { checks, ..Alternative::default() }];
        }
        Note { api_key: needs_api_key(requirement), alternatives }
    }
}

/// Notes `requirement` (if the handler has one) on every operation of `paths`.
pub fn note(paths: &mut Paths, requirement: Option<Requirement>) {
    let Some(requirement) = requirement else {
        return;
    };
    let Ok(value) = serde_json::to_value(Note::of(&requirement)) else {
        return;
    };
    for item in paths.paths.values_mut() {
        for operation in operations(item) {
            operation
                .extensions
                .get_or_insert_with(Default::default)
                .insert(NOTE.into(), value.clone());
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The requirement in disjunctive form: any one alternative admits.
fn alternatives(requirement: &Requirement) -> Vec<Alternative> {
    let one = |alternative: Alternative| vec![alternative];
    match requirement {
        Requirement::AnyRole(set) => set
            .iter()
            .map(|role| Alternative { roles: vec![role], ..Alternative::default() })
            .collect(),
        Requirement::AllPermissions(set) => {
            one(Alternative { permissions: set.iter().collect(), ..Alternative::default() })
        }
        Requirement::Check(check) => {
            one(Alternative { checks: vec![check.name().to_owned()], ..Alternative::default() })
        }
        Requirement::Any(list) => list.iter().flat_map(alternatives).collect(),
        Requirement::All(list) => list.iter().fold(one(Alternative::default()), |so_far, next| {
            let next = alternatives(next);
            let mut product = Vec::with_capacity(so_far.len() * next.len());
            for a in &so_far {
                for b in &next {
                    if product.len() <= MAX_ALTERNATIVES {
                        product.push(a.and(b));
                    }
                }
            }
            product
        }),
        // Any authenticated caller, or any caller with a key (`needs_api_key` says which).
        _ => one(Alternative::default()),
    }
}

fn needs_api_key(requirement: &Requirement) -> bool {
    match requirement {
        Requirement::ApiKey => true,
        Requirement::All(list) => list.iter().any(needs_api_key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guard_core::BitSet;

    #[test]
    fn requirements_become_alternatives() {
        let roles = BitSet::from_indices([0, 2]);
        let permissions = BitSet::from_indices([1, 3]);
        static BOTH: [Requirement; 2] = [Requirement::ApiKey, Requirement::Authenticated];
        let note = Note::of(&Requirement::AnyRole(roles));
        assert_eq!(
            note.alternatives.iter().map(|a| a.roles.clone()).collect::<Vec<_>>(),
            [vec![0], vec![2]]
        );
        assert!(!note.api_key);
        let note = Note::of(&Requirement::AllPermissions(permissions));
        assert_eq!(note.alternatives.len(), 1);
        assert_eq!(note.alternatives[0].permissions, [1, 3]);
        let note = Note::of(&Requirement::All(&BOTH));
        assert!(note.api_key);
        assert_eq!(note.alternatives, [Alternative::default()]);
        assert!(!note.alternatives[0].can_forbid());
    }
}
