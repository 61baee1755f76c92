//! The [`Guard`]: policy, key ring, authenticator chain and admin secret, shared by every
//! request.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use axum::http::HeaderValue;
use axum::http::request::Parts;
use guard_core::admin_secret::{self, AdminSecret, AdminSecretError, SecretSource};
use guard_core::authenticator::{Authenticator, Outcome, positions};
use guard_core::clock::{Clock, SystemClock};
use guard_core::config::{ConfigError, DEFAULT_KEY_TTL_DAYS, EnvConfig, MIN_ADMIN_SECRET_LEN};
use guard_core::key_format::{InvalidPrefix, KeyFormat};
use guard_core::keys::{CreatedKey, KeyError, KeyRing, KeyRingConfig, KeyUse, NewKey, Secret};
use guard_core::policy::{Policy, PolicyError, PolicySpec};
use guard_core::principal::Principal;
use guard_core::set::BitSet;
use guard_core::store::{RedbStore, Store, StoreError};
use guard_core::usage::UsageConfig;

use crate::authn::ApiKeyAuthenticator;
use crate::layer::GuardLayer;
use crate::rejection::{ErrorContext, ErrorHook, Rejection};
use axum::response::IntoResponse;

/// The database file used when neither code nor `GUARD_DB` names one.
pub const DEFAULT_DB_PATH: &str = "guard.redb";

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

/// One authenticator of the chain. The built-in API key authenticator is synchronous and
/// called directly, sparing the hot path a boxed future; authenticators of the application's
/// own will join as another variant, called through the `Authenticator` trait.
enum Link {
    ApiKey(ApiKeyAuthenticator),
    Dyn(Arc<dyn Authenticator>),
}

impl Link {
    async fn authenticate(&self, parts: &Parts) -> (Outcome, Option<KeyUse>) {
        match self {
            Link::ApiKey(api_key) => api_key.verify(parts),
            Link::Dyn(authenticator) => (authenticator.authenticate(parts).await, None),
        }
    }

    fn challenge(&self) -> Option<&str> {
        match self {
            Link::ApiKey(api_key) => api_key.challenge(),
            Link::Dyn(authenticator) => authenticator.challenge(),
        }
    }

    fn name(&self) -> &str {
        match self {
            Link::ApiKey(api_key) => api_key.name(),
            Link::Dyn(authenticator) => authenticator.name(),
        }
    }
}

struct Inner {
    policy: Arc<Policy>,
    keys: Arc<KeyRing>,
    store: Arc<dyn Store>,
    chain: Vec<Link>,
    challenge: HeaderValue,
    admin_secret: RwLock<AdminSecret>,
    admin_secret_source: SecretSource,
    admin_permission: Option<BitSet>,
    error_hook: Option<ErrorHook>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("keys", &self.inner.keys.len()).finish_non_exhaustive()
    }
}

/// Why a guard could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The policy is invalid (only possible for a hand-written spec).
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A setting from the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key prefix is invalid.
    #[error(transparent)]
    KeyPrefix(#[from] InvalidPrefix),
    /// The admin secret could not be set up.
    #[error(transparent)]
    AdminSecret(#[from] AdminSecretError),
    /// `admin_permission` names a permission the policy does not declare.
    #[error("the admin permission `{0}` is not declared by the policy")]
    UnknownPermission(String),
    /// Two authenticators were registered at one position: their order would be arbitrary.
    #[error(
        "authenticators `{first}` and `{second}` are both at position {position}; give each its own"
    )]
    DuplicatePosition {
        /// The position.
        position: u32,
        /// The authenticator registered first.
        first: String,
        /// The one registered second.
        second: String,
    },
    /// The admin secret set in code is too short to resist guessing.
    #[error("the admin secret must be at least {MIN_ADMIN_SECRET_LEN} characters")]
    WeakAdminSecret,
    /// The default key lifetime is out of range.
    #[error(
        "the default key lifetime must be between 1 and {} days",
        guard_core::keys::MAX_TTL_DAYS
    )]
    InvalidTtl,
}

type SecretHandler = Box<dyn FnOnce(&str) + Send>;

/// Builds a [`Guard`]. Settings made in code win over the environment.
#[must_use]
pub struct GuardBuilder {
    spec: &'static PolicySpec,
    env: EnvConfig,
    db_path: Option<PathBuf>,
    store: Option<Arc<dyn Store>>,
    admin_secret: Option<String>,
    admin_permission: Option<String>,
    on_generated_secret: SecretHandler,
    key_ttl_days: Option<u32>,
    key_prefix: Option<String>,
    clock: Option<Arc<dyn Clock>>,
    usage: UsageConfig,
    api_key_in_query: bool,
    api_key_position: u32,
    authenticators: Vec<(u32, Arc<dyn Authenticator>)>,
    error_hook: Option<ErrorHook>,
}

impl Guard {
    /// Starts building a guard for the policy declared with `policy!` (`&POLICY`).
    pub fn builder(policy: &'static PolicySpec) -> GuardBuilder {
        GuardBuilder {
            spec: policy,
            env: EnvConfig::default(),
            db_path: None,
            store: None,
            admin_secret: None,
            admin_permission: None,
            on_generated_secret: Box::new(print_generated_secret),
            key_ttl_days: None,
            key_prefix: None,
            clock: None,
            usage: UsageConfig::default(),
            api_key_in_query: true,
            api_key_position: positions::API_KEY,
            authenticators: Vec::new(),
            error_hook: None,
        }
    }

    /// The layer that makes this guard available to guarded handlers:
    /// `router.layer(guard.layer())`.
    pub fn layer(&self) -> GuardLayer {
        GuardLayer::new(self.clone())
    }

    /// The run-time policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Creates an API key, durably. The plaintext in the result is the only copy.
    ///
    /// This blocks on a disk write; from async code prefer [`Guard::create_key_async`].
    pub fn create_key(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        self.inner.keys.create(new)
    }

    /// [`Guard::create_key`] on a blocking thread.
    pub async fn create_key_async(&self, new: NewKey) -> Result<CreatedKey, KeyError> {
        let keys = self.keys_arc();
        run_blocking(move || keys.create(new)).await
    }

    /// The key ring: lookup, lifecycle and usage of API keys. Its writes block on the disk.
    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    pub(crate) fn keys_arc(&self) -> Arc<KeyRing> {
        Arc::clone(&self.inner.keys)
    }

    /// Where the admin secret in force came from.
    pub fn admin_secret_source(&self) -> SecretSource {
        self.inner.admin_secret_source
    }

    /// Replaces a generated admin secret with a new one, durably, and returns it (the only
    /// copy). The old secret stops working at once. A secret configured in code or in
    /// `GUARD_ADMIN_SECRET` is changed there instead: this returns
    /// [`AdminSecretError::Configured`].
    pub fn rotate_admin_secret(&self) -> Result<Secret, AdminSecretError> {
        if self.inner.admin_secret_source == SecretSource::Configured {
            return Err(AdminSecretError::Configured);
        }
        let mut current = self.inner.admin_secret.write().unwrap_or_else(PoisonError::into_inner);
        let (hash, plaintext) = admin_secret::rotate(self.inner.store.as_ref())?;
        *current = hash;
        Ok(plaintext)
    }

    /// Whether `presented` is the admin secret (constant-time).
    pub(crate) fn verify_admin_secret(&self, presented: &[u8]) -> bool {
        self.inner.admin_secret.read().unwrap_or_else(PoisonError::into_inner).verify(presented)
    }

    /// The application's replacement for error bodies, if any.
    pub(crate) fn error_hook(&self) -> Option<ErrorHook> {
        self.inner.error_hook.clone()
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
        let grant = self.inner.policy.grant(roles);
        Principal::new(guard_core::PrincipalKind::User, name, name, &grant)
    }

    /// The permission that admits a principal to the admin API, if any.
    pub(crate) fn admin_permission(&self) -> Option<&BitSet> {
        self.inner.admin_permission.as_ref()
    }

    /// Writes buffered usage records now and stops the usage writer. Call it when the server
    /// has stopped; dropping the last clone of the guard does the same.
    pub fn shutdown(&self) {
        self.inner.keys.shutdown();
    }

    /// Runs the authenticator chain in position order: the first to authenticate or reject
    /// decides; if all pass, the caller is anonymous.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Principal, Rejection> {
        self.authenticate_request(parts).await.map(|(principal, _)| principal)
    }

    /// [`Guard::authenticate`], with the handle that records an API key's use.
    pub(crate) async fn authenticate_request(
        &self,
        parts: &Parts,
    ) -> Result<(Principal, Option<KeyUse>), Rejection> {
        for authenticator in &self.inner.chain {
            match authenticator.authenticate(parts).await {
                (Outcome::Authenticated(principal), key_use) => return Ok((principal, key_use)),
                (Outcome::NotMine, _) => continue,
                (Outcome::Rejected(reason), _) => {
                    tracing::debug!(reason, "credentials rejected");
                    return Err(Rejection::InvalidCredentials {
                        challenge: self.inner.challenge.clone(),
                    });
                }
            }
        }
        Ok((Principal::anonymous(), None))
    }

    /// The rejection for a request that needs credentials and has none.
    pub(crate) fn missing_credentials(&self) -> Rejection {
        Rejection::MissingCredentials { challenge: self.inner.challenge.clone() }
    }
}

/// Runs blocking store work off the async executor.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(_) => Err(KeyError::Store(StoreError::Cancelled)),
    }
}

/// Shows a generated admin secret to the operator, once, on stderr. Deliberately not through
/// `tracing`: logs are shipped and kept; this must not be.
fn print_generated_secret(secret: &str) {
    eprintln!(
        "\n\
         guard: no admin secret was configured, so one was generated. It is shown this once;\n\
         guard: only its hash is stored, and it stays valid across restarts:\n\
         guard:\n\
         guard:     {secret}\n\
         guard:\n\
         guard: send it in the X-Admin-Secret header to use the admin API, e.g.\n\
         guard:     curl -H 'X-Admin-Secret: {secret}' http://127.0.0.1:8080/auth/keys\n\
         guard: to replace it: POST /auth/admin-secret/rotate, or set GUARD_ADMIN_SECRET.\n"
    );
}

impl GuardBuilder {
    /// Fills every setting not made in code from the environment (`GUARD_DB`,
    /// `GUARD_ADMIN_SECRET`, `GUARD_KEY_TTL_DAYS`).
    pub fn with_env(mut self) -> Result<Self, ConfigError> {
        self.env = EnvConfig::from_env()?;
        Ok(self)
    }

    /// The redb file (default `guard.redb`).
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.db_path = Some(path.into());
        self
    }

    /// A store of the application's own instead of a redb file.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The secret that admits requests to the admin API in `X-Admin-Secret`. Without one
    /// (here or in `GUARD_ADMIN_SECRET`), a secret is generated on the first start, shown once
    /// on stderr, and kept as a hash in the store.
    pub fn admin_secret(mut self, secret: impl Into<String>) -> Self {
        self.admin_secret = Some(secret.into());
        self
    }

    /// Replaces the printing of a generated admin secret (to stderr, by default) with
    /// `handler`, e.g. to hand it to a secrets manager. It is called at most once.
    pub fn on_generated_admin_secret(
        mut self,
        handler: impl FnOnce(&str) + Send + 'static,
    ) -> Self {
        self.on_generated_secret = Box::new(handler);
        self
    }

    /// Also admits to the admin API any principal holding this permission (for example
    /// `manage_keys`), besides the admin secret.
    pub fn admin_permission(mut self, permission: impl Into<String>) -> Self {
        self.admin_permission = Some(permission.into());
        self
    }

    /// Default lifetime of new and renewed API keys, in days (default 15).
    pub fn key_ttl_days(mut self, days: u32) -> Self {
        self.key_ttl_days = Some(days);
        self
    }

    /// The prefix of new API keys (default `gk`): 1 to 16 lower-case letters or digits.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = Some(prefix.into());
        self
    }

    /// The clock used for expiry and usage times; tests inject a `ManualClock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How usage records are batched and how long they are kept.
    pub fn usage(mut self, usage: UsageConfig) -> Self {
        self.usage = usage;
        self
    }

    /// Whether API keys are also accepted in the `api-key` query parameter (default yes).
    /// Keys in URLs end up in proxy logs and browser history; turn this off where you can.
    pub fn api_key_in_query(mut self, allow: bool) -> Self {
        self.api_key_in_query = allow;
        self
    }

    /// Adds an authenticator of the application's own at `position`: lower positions run
    /// first, and the built-ins sit at [`positions`] (API keys at 100), so 50 runs before
    /// them and 150 after. Two authenticators at one position fail the build.
    ///
    /// [`positions`]: guard_core::authenticator::positions
    pub fn authenticator(mut self, position: u32, authenticator: impl Authenticator) -> Self {
        self.authenticators.push((position, Arc::new(authenticator)));
        self
    }

    /// Replaces the body of every 401, 403, 429 and 500 the guard produces. The status and
    /// `WWW-Authenticate` (and `Retry-After`) are kept whatever `hook` returns.
    ///
    /// ```no_run
    /// # guard_axum::policy! { roles { admin: [manage_keys] } }
    /// # fn main() -> Result<(), guard_axum::GuardError> {
    /// use guard_axum::{ErrorContext, Guard};
    ///
    /// let guard = Guard::builder(&POLICY)
    ///     .error_response(|error: &ErrorContext<'_>| format!("<h1>{}</h1>", error.detail))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn error_response<R: IntoResponse>(
        mut self,
        hook: impl Fn(&ErrorContext<'_>) -> R + Send + Sync + 'static,
    ) -> Self {
        self.error_hook = Some(Arc::new(move |context| hook(context).into_response()));
        self
    }

    /// Moves the built-in API key authenticator (default position 100).
    pub fn api_key_position(mut self, position: u32) -> Self {
        self.api_key_position = position;
        self
    }

    /// Opens the store, loads the keys, sets up the admin secret and assembles the guard.
    pub fn build(self) -> Result<Guard, GuardError> {
        let policy = Arc::new(Policy::new(self.spec)?);
        let admin_permission = match &self.admin_permission {
            None => None,
            Some(name) => {
                let index = policy
                    .permission(name)
                    .ok_or_else(|| GuardError::UnknownPermission(name.clone()))?;
                Some(BitSet::from_indices([index]))
            }
        };
        let ttl = self.key_ttl_days.or(self.env.key_ttl_days).unwrap_or(DEFAULT_KEY_TTL_DAYS);
        if !(1..=guard_core::keys::MAX_TTL_DAYS).contains(&ttl) {
            return Err(GuardError::InvalidTtl);
        }
        let format = match &self.key_prefix {
            Some(prefix) => KeyFormat::new(prefix)?,
            None => KeyFormat::default(),
        };
        let store = match self.store {
            Some(store) => store,
            None => {
                let path = self
                    .db_path
                    .or(self.env.db_path)
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_DB_PATH));
                Arc::new(RedbStore::open(path)?) as Arc<dyn Store>
            }
        };
        if policy.record(store.as_ref())? {
            tracing::info!("the policy changed since the last start; recorded in the store");
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let config = KeyRingConfig { format, default_ttl_days: ttl, usage: self.usage };
        let keys = Arc::new(KeyRing::load(Arc::clone(&store), Arc::clone(&policy), clock, config)?);
        let api_keys = ApiKeyAuthenticator::new(Arc::clone(&keys), self.api_key_in_query);
        let mut links = vec![(self.api_key_position, Link::ApiKey(api_keys))];
        links.extend(self.authenticators.into_iter().map(|(p, a)| (p, Link::Dyn(a))));
        // Stable: among equal positions the registration order is kept, for the error.
        links.sort_by_key(|(position, _)| *position);
        if let Some(pair) = links.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(GuardError::DuplicatePosition {
                position: pair[0].0,
                first: pair[0].1.name().to_owned(),
                second: pair[1].1.name().to_owned(),
            });
        }
        let chain: Vec<Link> = links.into_iter().map(|(_, link)| link).collect();
        let challenge = challenge(&chain);
        // Last of the fallible steps: a secret generated here is shown right after, before
        // anything else can fail, so it is never stored without its operator having seen it.
        let configured = self.admin_secret.or(self.env.admin_secret);
        if configured.as_ref().is_some_and(|s| s.len() < MIN_ADMIN_SECRET_LEN) {
            return Err(GuardError::WeakAdminSecret);
        }
        let established = admin_secret::establish(configured.as_deref(), store.as_ref())?;
        if let Some(plaintext) = established.generated {
            (self.on_generated_secret)(plaintext.expose());
        }
        Ok(Guard {
            inner: Arc::new(Inner {
                policy,
                keys,
                store,
                chain,
                challenge,
                admin_secret: RwLock::new(established.secret),
                admin_secret_source: established.source,
                admin_permission,
                error_hook: self.error_hook,
            }),
        })
    }
}

/// The `WWW-Authenticate` value: every authenticator's challenge, in chain order.
fn challenge(chain: &[Link]) -> HeaderValue {
    let joined: Vec<&str> = chain.iter().filter_map(|a| a.challenge()).collect();
    HeaderValue::from_str(&joined.join(", "))
        .unwrap_or_else(|_| HeaderValue::from_static(r#"ApiKey header="X-API-Key""#))
}
