//! Property tests of what guard-core decides from client bytes and from the policy:
//!
//! - the opaque credential format: any bytes parse or are refused without a panic; every
//!   generated credential parses to its own id; any one character changed, dropped or
//!   doubled is refused by the shape or the checksum, before any lookup;
//! - policies and requirements against a small reference model: random policies (cycles
//!   included, which must be refused), random principals and random requirement trees
//!   (any, all, roles, permissions, API key, checks that pass or fail) decide as the model
//!   does.
//!
//! `FUZZ_CASES` sets the cases per property (default 2 000; see SECURITY.md for the longer
//! run).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use guard_core::authz::{
    BitSet, Check, Decision, Policy, PolicySpec, Principal, PrincipalKind, Requirement, RoleSpec,
};
use guard_core::credentials::format::CredentialFormat;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

fn runner() -> TestRunner {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    })
}

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    if let Err(error) = runner().run(&strategy, test) {
        panic!("{error}");
    }
}

#[test]
fn any_bytes_parse_or_are_refused() {
    let format = CredentialFormat::default();
    let near_shape = proptest::collection::vec(
        prop_oneof![b'a'..=b'z', b'A'..=b'Z', b'0'..=b'9', Just(b'_'), any::<u8>()],
        format.credential_len() - 2..format.credential_len() + 2,
    );
    run(prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), near_shape], |bytes| {
        if let Ok(parsed) = format.parse(&bytes) {
            // Only a well-formed credential parses: right length, base62, the checksum right.
            prop_assert_eq!(bytes.len(), format.credential_len());
            prop_assert!(bytes.starts_with(b"gk_"));
            prop_assert!(parsed.id.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        Ok(())
    });
}

#[test]
fn one_character_off_is_refused_before_any_lookup() {
    let formats = [CredentialFormat::default(), CredentialFormat::new("acme2").unwrap()];
    let edit = (0..2usize, any::<prop::sample::Index>(), any::<u8>(), 0..3u8);
    run(edit, |(which, at, byte, how)| {
        let format = &formats[which];
        let generated = format.generate().unwrap();
        let real = generated.plaintext.as_bytes();
        let parsed = format.parse(real).unwrap();
        prop_assert_eq!(parsed.id, generated.id.as_str());
        prop_assert_eq!(
            guard_core::credentials::format::hash_secret(parsed.hashed),
            generated.hash
        );
        let mut changed = real.to_vec();
        let at = at.index(changed.len());
        match how {
            0 => {
                let replacement = if byte == changed[at] { byte.wrapping_add(1) } else { byte };
                changed[at] = replacement;
            }
            1 => {
                changed.remove(at);
            }
            _ => changed.insert(at, changed[at]),
        }
        prop_assert!(
            format.parse(&changed).is_err(),
            "{:?} was accepted",
            String::from_utf8_lossy(&changed)
        );
        Ok(())
    });
}

/// A random policy: up to 12 roles, each inheriting any others (so cycles occur), and up to
/// 12 permissions.
#[derive(Debug, Clone)]
struct RandomPolicy {
    permissions: usize,
    /// Per role: the roles it inherits and the permissions it grants, by index.
    roles: Vec<(Vec<u16>, Vec<u16>)>,
}

fn random_policy() -> impl Strategy<Value = RandomPolicy> {
    (1..12usize, 1..12usize).prop_flat_map(|(roles, permissions)| {
        let role = (
            proptest::collection::vec(0..roles as u16, 0..3),
            proptest::collection::vec(0..permissions as u16, 0..4),
        );
        proptest::collection::vec(role, roles)
            .prop_map(move |roles| RandomPolicy { permissions, roles })
    })
}

const NAMES: [&str; 12] =
    ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"];
const PERMISSIONS: [&str; 12] =
    ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11"];

impl RandomPolicy {
    /// The policy's spec, leaked (a spec is `'static`, as the macros make it).
    fn spec(&self) -> &'static PolicySpec {
        let roles: Vec<RoleSpec> = self
            .roles
            .iter()
            .enumerate()
            .map(|(i, (inherits, permissions))| {
                RoleSpec::new(NAMES[i], leak(inherits.clone()), leak(permissions.clone()))
            })
            .collect();
        Box::leak(Box::new(PolicySpec::new(1, &PERMISSIONS[..self.permissions], leak(roles))))
    }

    /// The model: the roles `role` reaches by inheritance, itself included.
    fn reach(&self, role: usize) -> Vec<bool> {
        let mut seen = vec![false; self.roles.len()];
        let mut stack = vec![role];
        while let Some(r) = stack.pop() {
            if !std::mem::replace(&mut seen[r], true) {
                stack.extend(self.roles[r].0.iter().map(|&p| usize::from(p)));
            }
        }
        seen
    }

    /// The model: a role that inherits itself, through any path, is a cycle.
    fn has_cycle(&self) -> bool {
        (0..self.roles.len())
            .any(|r| self.roles[r].0.iter().any(|&p| self.reach(usize::from(p))[r]))
    }

    /// The model: the roles and permissions of a holder of `assigned`.
    fn holds(&self, assigned: &[usize]) -> (Vec<bool>, Vec<bool>) {
        let mut roles = vec![false; self.roles.len()];
        let mut permissions = vec![false; self.permissions];
        for &a in assigned {
            for (r, reached) in self.reach(a).into_iter().enumerate() {
                if reached {
                    roles[r] = true;
                    for &p in &self.roles[r].1 {
                        permissions[usize::from(p)] = true;
                    }
                }
            }
        }
        (roles, permissions)
    }
}

fn leak<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

/// A requirement tree, as the model sees it.
#[derive(Debug, Clone)]
enum Model {
    Authenticated,
    ApiKey,
    AnyRole(Vec<usize>),
    AllPermissions(Vec<usize>),
    Check(bool),
    All(Vec<Model>),
    Any(Vec<Model>),
}

fn model() -> impl Strategy<Value = Model> {
    let leaf = prop_oneof![
        Just(Model::Authenticated),
        Just(Model::ApiKey),
        proptest::collection::vec(0..12usize, 1..4).prop_map(Model::AnyRole),
        proptest::collection::vec(0..12usize, 1..4).prop_map(Model::AllPermissions),
        any::<bool>().prop_map(Model::Check),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Model::All),
            proptest::collection::vec(inner, 1..4).prop_map(Model::Any),
        ]
    })
}

fn passes(_: &Principal, _: &http::request::Parts) -> guard_core::BoxFuture<'static, bool> {
    Box::pin(async { true })
}

fn fails(_: &Principal, _: &http::request::Parts) -> guard_core::BoxFuture<'static, bool> {
    Box::pin(async { false })
}

impl Model {
    /// The requirement the macros would build, indices cut to the policy's size.
    fn requirement(&self, roles: usize, permissions: usize) -> Requirement {
        let set = |items: &[usize], n: usize| BitSet::from_indices(items.iter().map(|i| i % n));
        match self {
            Model::Authenticated => Requirement::Authenticated,
            Model::ApiKey => Requirement::ApiKey,
            Model::AnyRole(r) => Requirement::AnyRole(set(r, roles)),
            Model::AllPermissions(p) => Requirement::AllPermissions(set(p, permissions)),
            Model::Check(true) => Requirement::Check(Check::new("passes", passes)),
            Model::Check(false) => Requirement::Check(Check::new("fails", fails)),
            Model::All(parts) => Requirement::All(leak(
                parts.iter().map(|p| p.requirement(roles, permissions)).collect(),
            )),
            Model::Any(parts) => Requirement::Any(leak(
                parts.iter().map(|p| p.requirement(roles, permissions)).collect(),
            )),
        }
    }

    /// The model's decision for an authenticated caller.
    fn decide(&self, key: bool, held: &(Vec<bool>, Vec<bool>)) -> Decision {
        use Decision::*;
        let (roles, permissions) = held;
        match self {
            Model::Authenticated => Allow,
            Model::ApiKey => {
                if key {
                    Allow
                } else {
                    Unauthenticated
                }
            }
            Model::AnyRole(r) => {
                if r.iter().any(|i| roles[i % roles.len()]) {
                    Allow
                } else {
                    Forbidden
                }
            }
            Model::AllPermissions(p) => {
                if p.iter().all(|i| permissions[i % permissions.len()]) {
                    Allow
                } else {
                    Forbidden
                }
            }
            Model::Check(pass) => {
                if *pass {
                    Allow
                } else {
                    Forbidden
                }
            }
            // A 401 outranks a 403 in both; any allow wins `Any`.
            Model::All(parts) => {
                let decisions: Vec<Decision> = parts.iter().map(|p| p.decide(key, held)).collect();
                if decisions.contains(&Unauthenticated) {
                    Unauthenticated
                } else if decisions.contains(&Forbidden) {
                    Forbidden
                } else {
                    Allow
                }
            }
            Model::Any(parts) => {
                let decisions: Vec<Decision> = parts.iter().map(|p| p.decide(key, held)).collect();
                if decisions.contains(&Allow) {
                    Allow
                } else if decisions.contains(&Unauthenticated) {
                    Unauthenticated
                } else {
                    Forbidden
                }
            }
        }
    }
}

#[test]
fn requirements_decide_as_the_reference_model() {
    let case =
        (random_policy(), proptest::collection::vec(0..12usize, 0..4), any::<bool>(), model());
    let parts = http::Request::new(()).into_parts().0;
    run(case, |(policy, assigned, key, requirement)| {
        let built = Policy::new(policy.spec());
        prop_assert_eq!(built.is_err(), policy.has_cycle(), "{:?}", built.err());
        let Ok(built) = built else { return Ok(()) };
        let n = policy.roles.len();
        let assigned: Vec<usize> = assigned.iter().map(|a| a % n).collect();
        let names: Vec<&str> = assigned.iter().map(|&a| NAMES[a]).collect();
        let grant = built.grant(&names);
        let held = policy.holds(&assigned);
        for (r, &holds) in held.0.iter().enumerate() {
            prop_assert_eq!(grant.roles.contains(r), holds, "role {}", r);
        }
        for (p, &holds) in held.1.iter().enumerate() {
            prop_assert_eq!(grant.permissions.contains(p), holds, "permission {}", p);
        }
        let kind = if key { PrincipalKind::ApiKey } else { PrincipalKind::User };
        let principal = Principal::new(kind, "id", "name", &grant);
        let decided = requirement.requirement(n, policy.permissions);
        let expected = requirement.decide(key, &held);
        prop_assert_eq!(pollster::block_on(decided.decide(&principal, &parts)), expected);
        if let Some(early) = decided.decide_without_checks(&principal) {
            prop_assert_eq!(early, expected, "decided without its checks");
        }
        // An anonymous caller never passes, and no check runs for one.
        let anonymous = Principal::anonymous();
        prop_assert_eq!(
            pollster::block_on(decided.decide(&anonymous, &parts)),
            Decision::Unauthenticated
        );
        Ok(())
    });
}
