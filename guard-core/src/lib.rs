//! The core of guard: everything that is not HTTP. The policy and requirements (`authz`), the
//! authenticator contract and chain (`authn`), credentials and their in-memory indexes
//! (`credentials`), the store traits and the redb store (`store`), usage (`usage`), and the
//! assembly that opens them all (`assembly`). Applications use it through `guard-axum`, which
//! re-exports everything here.

pub mod accounts;
pub mod assembly;
pub mod authn;
pub mod authz;
pub mod clock;
pub mod config;
pub mod credentials;
mod error;
mod follow;
mod future;
mod maintenance;
mod random;
pub mod recording;
pub mod secret;
pub mod store;
pub mod usage;

pub use assembly::{Core, Opened, Settings, StoreChoice};
pub use authn::{Authenticator, Outcome};
pub use authz::{
    BitSet, Check, CheckFn, Decision, Policy, PolicyError, PolicySpec, Principal, PrincipalKind,
    Requirement, RoleSpec,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{ConfigError, EnvConfig};
pub use credentials::admin_secret::{AdminSecret, AdminSecretError, SecretSource};
pub use credentials::api_key::{
    CreatedKey, Expiry, KeyError, KeyInfo, KeyRejection, KeyRing, KeyState, NewKey, Renewed,
};
pub use credentials::format::CredentialFormat;
pub use error::Error;
pub use future::BoxFuture;
pub use random::RandomError;
pub use recording::UsageConfig;
pub use secret::Secret;
pub use store::{RedbStore, SharedStore, Store, StoreError};
pub use usage::UsageOutcome;
