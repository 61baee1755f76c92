//! The core of guard: policy, principals, requirements, credentials and storage, with no
//! dependency on a web framework. Applications use it through `guard-axum`, which re-exports
//! everything here.

pub mod admin_secret;
pub mod authenticator;
pub mod clock;
pub mod config;
pub mod key_format;
pub mod keys;
pub mod policy;
pub mod principal;
mod random;
pub mod requirement;
pub mod set;
pub mod store;
pub mod usage;

pub use admin_secret::{AdminSecret, AdminSecretError, SecretSource};
pub use authenticator::{Authenticator, Outcome};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{ConfigError, EnvConfig};
pub use key_format::KeyFormat;
pub use keys::{
    CreatedKey, Expiry, KeyError, KeyInfo, KeyRejection, KeyRing, KeyRingConfig, KeyState, KeyUse,
    NewKey, Renewed, Secret,
};
pub use policy::{Policy, PolicyError, PolicySpec, RoleSpec};
pub use principal::{Principal, PrincipalKind};
pub use random::RandomError;
pub use requirement::{Check, CheckFn, Decision, Requirement};
pub use set::BitSet;
pub use store::{RedbStore, Store, StoreError, UsageOutcome, UsageRecord};
pub use usage::UsageConfig;
