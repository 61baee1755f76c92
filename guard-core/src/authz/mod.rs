//! Who may do what: the policy of roles and permissions, the principal a request is made by,
//! and the requirements handlers state.

pub mod policy;
pub mod principal;
pub mod recorded;
pub mod requirement;
pub mod set;
mod suggest;

pub use self::policy::{Grant, Grants, Policy, PolicyError, PolicySpec, RoleSpec, UnknownRoles};
pub use self::principal::{Identity, Principal, PrincipalKind};
pub use self::requirement::{Check, CheckFn, Decision, Requirement};
pub use self::set::BitSet;
