//! The [`Guard`]: the core (policy, store, keys, usage, admin secret), the authenticator
//! chain and the HTTP settings, shared by every request. Cheap to clone.

mod builder;
mod chain;
mod client;
mod logins;

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::http::request::Parts;
use guard_core::assembly::Core;
use guard_core::authn::Chain;
use guard_core::credentials::admin_secret::{AdminSecretError, SecretSource};
use guard_core::credentials::api_key::{CreatedKey, KeyError, KeyRing, NewKey};
use guard_core::recording::Usage;
use guard_core::{BitSet, Policy, Principal, Secret};

pub use self::builder::GuardBuilder;
pub(crate) use self::chain::{RequestAuth, resolve};
pub use self::client::IpNet;
use self::client::TrustedProxies;
pub(crate) use self::logins::LoginMethods;
use crate::layer::GuardLayer;
use crate::rejection::{ErrorHook, Rejection};

/// Authentication and authorization for an axum application. Cheap to clone.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use guard_axum::{Guard, protected};
///
/// guard_axum::policy! { roles { admin: [manage_keys] } }
///
/// #[protected(roles = "admin")]
/// async fn admin() -> &'static str { "hello, admin" }
///
/// fn main() -> Result<(), guard_axum::GuardError> {
///     let guard = Guard::builder(&POLICY).database("app.redb").build()?;
///     let app: Router = Router::new()
///         .route("/admin", get(admin))
///         .nest("/auth", guard.admin_router())
///         .layer(guard.layer());
///     # drop(app);
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    core: Core,
    chain: Chain,
    /// The chain's challenges, for every 401.
    challenge: HeaderValue,
    admin_permission: Option<BitSet>,
    error_hook: Option<ErrorHook>,
    logins: LoginMethods,
    proxies: TrustedProxies,
    #[cfg(feature = "openapi")]
    hide_docs: bool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("keys", &self.inner.core.keys().len())
            .field("chain", &self.inner.chain)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Starts building a guard for the policy declared with `policy!` (`&POLICY`).
    pub fn builder(policy: &'static guard_core::PolicySpec) -> GuardBuilder {
        GuardBuilder::new(policy)
    }

    /// The layer that makes this guard available to guarded handlers:
    /// `router.layer(guard.layer())`.
    pub fn layer(&self) -> GuardLayer {
        GuardLayer::new(self.clone())
    }

    /// The run-time policy.
    pub fn policy(&self) -> &Policy {
        self.inner.core.policy()
    }

    /// Everything that is not HTTP: keys, accounts, usage, admin secret.
    pub(crate) fn core(&self) -> &Core {
        &self.inner.core
    }

    /// The API keys: lookup, lifecycle and usage.
    pub fn keys(&self) -> &KeyRing {
        self.inner.core.keys()
    }

    /// Usage of every credential.
    pub fn usage(&self) -> &Usage {
        self.inner.core.usage()
    }

    /// Creates an API key, durably. The plaintext in the result is the only copy.
    ///
    /// This blocks the calling thread until the key is on disk; from async code prefer
    /// [`Guard::create_key_async`].
    pub fn create_key(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        pollster::block_on(self.create_key_async(new))
    }

    /// Creates an API key, durably. The plaintext in the result is the only copy.
    pub async fn create_key_async(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        self.keys().create(new).await
    }

    /// Where the admin secret in force came from.
    pub fn admin_secret_source(&self) -> SecretSource {
        self.inner.core.admin().source()
    }

    /// Replaces a generated admin secret with a new one, durably, and returns it (the only
    /// copy). The old secret stops working at once. A secret configured in code or in
    /// `GUARD_ADMIN_SECRET` is changed there instead: this returns
    /// [`AdminSecretError::Configured`]. If another instance rotated it since this one last
    /// read it, this returns [`AdminSecretError::Superseded`] and changes nothing.
    pub async fn rotate_admin_secret(&self) -> Result<Secret, AdminSecretError> {
        self.inner.core.admin().rotate().await
    }

    /// Replaces `current` with a new generated admin secret, if `current` is still the admin
    /// secret; of concurrent rotations with one secret, on any instance, exactly one succeeds
    /// and the others fail with [`AdminSecretError::Superseded`] (the admin API's 409).
    pub async fn rotate_admin_secret_from(
        &self,
        current: &[u8],
    ) -> Result<Secret, AdminSecretError> {
        self.inner.core.admin().rotate_from(current).await
    }

    /// Whether `presented` is the admin secret (constant-time).
    pub(crate) fn verify_admin_secret(&self, presented: &[u8]) -> bool {
        self.inner.core.admin().verify(presented)
    }

    /// The application's replacement for error bodies, if any.
    pub(crate) fn error_hook(&self) -> Option<&ErrorHook> {
        self.inner.error_hook.as_ref()
    }

    /// The permission that admits a principal to the admin API, if any.
    pub(crate) fn admin_permission(&self) -> Option<&BitSet> {
        self.inner.admin_permission.as_ref()
    }

    /// The authenticator chain.
    pub fn chain(&self) -> &Chain {
        &self.inner.chain
    }

    /// Users, their sessions and tokens.
    pub fn accounts(&self) -> &Arc<guard_core::accounts::Accounts> {
        self.inner.core.accounts()
    }

    /// The login methods this guard offers.
    /// Whether the admin and auth routes stay out of the OpenAPI document.
    #[cfg(feature = "openapi")]
    pub(crate) fn hide_docs(&self) -> bool {
        self.inner.hide_docs
    }

    pub(crate) fn logins(&self) -> &LoginMethods {
        &self.inner.logins
    }

    /// The address of this request's client, as login throttling counts it (see
    /// [`GuardBuilder::trusted_proxies`]), where the server was started with connect info.
    pub(crate) fn client(&self, parts: &Parts) -> Option<std::net::IpAddr> {
        self.inner.proxies.client(parts)
    }

    /// Test mode: a layer like [`Guard::layer`] under which every request is made by
    /// `principal`, with or without credentials. For the application's own tests of guarded
    /// handlers; it exists only in debug builds, or with the `test-mode` feature, so a release
    /// build cannot turn it on by accident.
    ///
    /// ```
    /// # guard_axum::policy! { roles { admin: [manage_keys] } }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// use guard_axum::Guard;
    ///
    /// let guard = Guard::builder(&POLICY).database(dir.path().join("t.redb")).build()?;
    /// let as_alice = guard.test_layer(guard.test_principal("alice", &["admin"]));
    /// let app: axum::Router = axum::Router::new().layer(as_alice);
    /// # drop(app); Ok(()) }
    /// ```
    #[cfg(any(debug_assertions, feature = "test-mode"))]
    pub fn test_layer(&self, principal: Principal) -> GuardLayer {
        tracing::warn!(
            principal = principal.name(),
            "guard test mode: every request is made by this principal, without credentials"
        );
        GuardLayer::with_principal(self.clone(), principal)
    }

    /// Test mode: a user principal holding `roles` (names the policy does not declare are
    /// ignored), for [`Guard::test_layer`].
    #[cfg(any(debug_assertions, feature = "test-mode"))]
    pub fn test_principal(&self, name: &str, roles: &[&str]) -> Principal {
        let grant = self.policy().grant(roles);
        Principal::new(guard_core::PrincipalKind::User, name, name, &grant)
    }

    /// Writes gathered usage and stops the usage writer. Call it when the server has stopped;
    /// dropping the last clone of the guard does the same.
    pub fn shutdown(&self) {
        self.inner.core.shutdown();
    }

    /// Runs the authenticator chain on a request head: the first authenticator to
    /// authenticate or reject decides; if none does, the caller is anonymous. The answer is
    /// kept in the request, so the guarded handler it reaches does not run the chain again.
    pub async fn authenticate(&self, parts: &mut Parts) -> Result<Principal, Rejection> {
        if parts.extensions.get::<RequestAuth>().is_none() {
            parts.extensions.insert(RequestAuth::new(self.clone()));
        }
        resolve(parts).await
    }

    /// The rejection for a request that needs credentials and has none.
    pub(crate) fn missing_credentials(&self) -> Rejection {
        Rejection::MissingCredentials { challenge: self.inner.challenge.clone() }
    }

    /// The rejection for invalid credentials.
    pub(crate) fn invalid_credentials(&self) -> Rejection {
        Rejection::InvalidCredentials { challenge: self.inner.challenge.clone() }
    }
}
