//! [`GuardBuilder`]: the HTTP concerns of a guard (its authenticators, the admin permission,
//! the error hook) on top of what [`Settings`] opens in the core.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::HeaderValue;
use axum::response::IntoResponse;
use guard_core::assembly::{Core, Settings, StoreChoice};
use guard_core::authn::chain::check_positions;
use guard_core::authn::{Authenticator, Chain, positions};
use guard_core::config::{ConfigError, EnvConfig};
use guard_core::{BitSet, Clock, Error, PolicySpec, SharedStore, UsageConfig};

use super::client::{IpNet, TrustedProxies};
use super::logins::Logins;
use super::{Guard, Inner};
use crate::authn::ApiKeyAuthenticator;
use crate::authn::api_key::NAME as API_KEY_NAME;
use crate::rejection::{ErrorContext, ErrorHook};

type SecretHandler = Box<dyn FnOnce(&str) + Send>;

/// Builds a [`Guard`]. Settings made in code win over the environment.
#[must_use]
pub struct GuardBuilder {
    settings: Settings,
    admin_permission: Option<String>,
    on_generated_secret: SecretHandler,
    api_key_in_query: bool,
    api_key_position: u32,
    authenticators: Vec<(u32, Box<dyn Authenticator>)>,
    error_hook: Option<ErrorHook>,
    logins: Logins,
    trusted_proxies: Vec<IpNet>,
    #[cfg(feature = "postgres")]
    postgres: Option<guard_postgres::PostgresConfig>,
    #[cfg(feature = "openapi")]
    hide_docs: Option<bool>,
}

impl GuardBuilder {
    pub(super) fn new(policy: &'static PolicySpec) -> Self {
        GuardBuilder {
            settings: Settings::new(policy),
            admin_permission: None,
            on_generated_secret: Box::new(print_generated_secret),
            api_key_in_query: true,
            api_key_position: positions::API_KEY,
            authenticators: Vec::new(),
            error_hook: None,
            logins: Logins::default(),
            trusted_proxies: Vec::new(),
            #[cfg(feature = "postgres")]
            postgres: None,
            #[cfg(feature = "openapi")]
            hide_docs: None,
        }
    }

    /// Fills every setting not made in code from the environment (`GUARD_DB`,
    /// `GUARD_ADMIN_SECRET`, `GUARD_KEY_TTL_DAYS`, and for PostgreSQL the `GUARD_DB_*`
    /// connection settings).
    pub fn with_env(mut self) -> Result<Self, ConfigError> {
        self.settings.env = EnvConfig::from_env()?;
        #[cfg(feature = "postgres")]
        if self.postgres.is_none() {
            self.postgres = Some(guard_postgres::PostgresConfig::from_env()?);
        }
        #[cfg(feature = "openapi")]
        if self.hide_docs.is_none() {
            self.hide_docs = crate::openapi::hide_docs_from_env()?;
        }
        Ok(self)
    }

    /// Leaves the admin and auth routes out of [`Guard::openapi`]'s document (feature
    /// `openapi`; `GUARD_HIDE_DOCS=1` does the same). The application's own routes keep their
    /// locks.
    #[cfg(feature = "openapi")]
    pub fn hide_docs(mut self, hide: bool) -> Self {
        self.hide_docs = Some(hide);
        self
    }

    /// The redb file (default `guard.redb`).
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.store = Some(StoreChoice::File(path.into()));
        self
    }

    /// A PostgreSQL database, `postgres://user:password@host/database`, that any number of
    /// instances of the application share (feature `postgres`, on by default); how to
    /// connect is [`GuardBuilder::postgres`]'s.
    #[cfg(feature = "postgres")]
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.settings.store = Some(StoreChoice::Url(url.into()));
        self
    }

    /// How to connect to PostgreSQL (pool size, statement timeout, start-up retries,
    /// schema), when the database is a `postgres://` URL (here or in `GUARD_DB`).
    #[cfg(feature = "postgres")]
    pub fn postgres(mut self, config: guard_postgres::PostgresConfig) -> Self {
        self.postgres = Some(config);
        self
    }

    /// A store of the application's own instead of a redb file: anything implementing
    /// [`guard_core::Store`].
    pub fn store(mut self, store: SharedStore) -> Self {
        self.settings.store = Some(StoreChoice::Shared(store));
        self
    }

    /// The secret that admits requests to the admin API in `X-Admin-Secret`. Without one
    /// (here or in `GUARD_ADMIN_SECRET`), a secret is generated on the first start, shown once
    /// on stderr, and kept as a hash in the store.
    pub fn admin_secret(mut self, secret: impl Into<String>) -> Self {
        self.settings.admin_secret = Some(secret.into());
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
        self.settings.key_ttl_days = Some(days);
        self
    }

    /// The prefix of new API keys (default `gk`): 1 to 16 lower-case letters or digits.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.key_prefix = Some(prefix.into());
        self
    }

    /// The clock used for expiry and usage times; tests inject a `ManualClock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = Some(clock);
        self
    }

    /// How usage is recorded and how long it is kept.
    pub fn usage(mut self, usage: UsageConfig) -> Self {
        self.settings.usage = usage;
        self
    }

    /// Whether API keys are also accepted in the `api-key` query parameter (default yes).
    /// Keys in URLs end up in proxy logs and browser history; turn this off where you can.
    pub fn api_key_in_query(mut self, allow: bool) -> Self {
        self.api_key_in_query = allow;
        self
    }

    /// Moves the built-in API key authenticator (default position 100).
    pub fn api_key_position(mut self, position: u32) -> Self {
        self.api_key_position = position;
        self
    }

    /// Adds an authenticator of the application's own at `position`: lower positions run
    /// first, and the built-ins sit at [`positions`] (API keys at 100), so 50 runs before
    /// them and 150 after. Two authenticators at one position fail the build.
    pub fn authenticator(mut self, position: u32, authenticator: impl Authenticator) -> Self {
        self.authenticators.push((position, Box::new(authenticator)));
        self
    }

    /// Replaces the body of every 401, 403, 429, 500 and 503 the guard produces. The status and
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

    /// Login sessions: `POST /login` (of [`Guard::auth_router`]) sets a `guard_session`
    /// cookie, which authenticates requests (position 300); `POST /logout` ends it.
    pub fn sessions(mut self) -> Self {
        self.logins.sessions = true;
        self
    }

    /// Bearer tokens: `POST /token` (the OAuth2 password grant) issues opaque `gt_…` tokens,
    /// accepted as `Authorization: Bearer` (position 200); `POST /token/revoke` ends one.
    pub fn bearer_tokens(mut self) -> Self {
        self.logins.bearer_tokens = true;
        self
    }

    /// JWTs issued elsewhere, verified with `config` (position 250).
    pub fn jwt(mut self, config: guard_core::credentials::jwt::JwtConfig) -> Self {
        self.logins.jwt = Some(config);
        self
    }

    /// `POST /token` issues JWTs (signed with the key given to [`GuardBuilder::jwt`])
    /// instead of opaque tokens.
    pub fn issue_jwts(mut self) -> Self {
        self.logins.issue_jwts = true;
        self
    }

    /// HTTP Basic authentication against the users (position 400), throttled like logins.
    /// Off by default: a password in every request is worth avoiding.
    pub fn basic_auth(mut self) -> Self {
        self.logins.basic = true;
        self
    }

    /// People may create their own accounts with `POST /register` (on the
    /// [`Guard::auth_router`]), with these roles (none is the safe choice: an administrator
    /// grants more). Off by default. Every attempt counts against the client's address like a
    /// failed login, so one address cannot create accounts or probe names without limit.
    pub fn registration(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.logins.registration = Some(roles.into_iter().map(Into::into).collect());
        self
    }

    /// The application is served over TLS: the session cookie is `__Host-guard_session`,
    /// `Secure`, and same-origin checks expect `https`.
    pub fn served_over_tls(mut self, tls: bool) -> Self {
        self.logins.tls = tls;
        self
    }

    /// The reverse proxies in front of the application, whose `X-Forwarded-For` tells login
    /// throttling the client's address: addresses (`IpAddr`) or networks
    /// (`"10.0.0.5/32".parse::<IpNet>()?`). None by default: the header is then ignored, since
    /// any client can write it. Behind a proxy that is not listed, every login seems to come
    /// from the proxy, and throttling per address slows everybody's logins together.
    ///
    /// List the proxies' own addresses rather than the network they sit in: any host of a
    /// trusted network can claim any address. The proxies must append the address of their
    /// peer to the header (nginx: `$proxy_add_x_forwarded_for`), not pass on what the client
    /// sent. With proxies listed, the header is read once per authenticated request.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = impl Into<IpNet>>) -> Self {
        self.trusted_proxies = proxies.into_iter().map(Into::into).collect();
        self
    }

    /// How long sessions and tokens work.
    pub fn lifetimes(mut self, lifetimes: guard_core::credentials::issued::Lifetimes) -> Self {
        self.settings.lifetimes = lifetimes;
        self
    }

    /// On a database other instances share: how often this instance looks for their changes
    /// besides when PostgreSQL notifies it (default 1 s): the bound on how late it sees a
    /// change if a notification is lost.
    pub fn sync_interval(mut self, interval: std::time::Duration) -> Self {
        self.settings.sync_interval = interval;
        self
    }

    /// How passwords are hashed, and how many at once.
    pub fn passwords(mut self, config: guard_core::credentials::password::PasswordConfig) -> Self {
        self.settings.passwords = config;
        self
    }

    /// How failed logins are slowed down.
    pub fn login_throttle(
        mut self,
        config: guard_core::credentials::throttle::ThrottleConfig,
    ) -> Self {
        self.settings.throttle = config;
        self
    }

    /// Opens the core (store, policy, keys, users, sessions and tokens, usage writer, admin
    /// secret) and assembles the chain of authenticators.
    pub fn build(self) -> Result<Guard, Error> {
        // Everything that can fail without the core is checked before it is opened, so that
        // a secret the core generates is shown right after, before anything else can fail.
        let policy = guard_core::Policy::new(self.settings.policy)?;
        let admin_permission = match &self.admin_permission {
            None => None,
            Some(name) => {
                let index = policy
                    .permission(name)
                    .ok_or_else(|| Error::UnknownPermission(name.clone()))?;
                Some(BitSet::from_indices([index]))
            }
        };
        let mut registered_roles = self.logins.registration.iter().flatten();
        if let Some(unknown) = registered_roles.find(|r| policy.role(r).is_none()) {
            return Err(Error::UnknownRole(policy.unknown_roles(vec![unknown.clone()])));
        }
        let own = self.authenticators.iter().map(|(p, a)| (*p, a.name()));
        let built_in =
            std::iter::once((self.api_key_position, API_KEY_NAME)).chain(self.logins.positions());
        check_positions(built_in.chain(own))?;
        let jwt = self.logins.jwt().map_err(|e| Error::Jwt(e.to_string()))?;
        #[cfg(feature = "postgres")]
        let settings = {
            let mut settings = self.settings;
            settings.url_opener = Some(guard_postgres::opener(self.postgres.unwrap_or_default()));
            settings
        };
        #[cfg(not(feature = "postgres"))]
        let settings = self.settings;
        let opened = Core::open(settings)?;
        if let Some(secret) = &opened.generated_admin_secret {
            (self.on_generated_secret)(secret.expose());
        }
        let core = opened.core;
        let api_keys = ApiKeyAuthenticator::new(Arc::clone(core.keys()), self.api_key_in_query);
        let mut links: Vec<(u32, Box<dyn Authenticator>)> =
            vec![(self.api_key_position, Box::new(api_keys))];
        links.extend(self.logins.authenticators(&core, jwt.as_ref()));
        links.extend(self.authenticators);
        let chain = Chain::new(links)?;
        let challenge = chain
            .challenge()
            .and_then(|c| HeaderValue::from_str(c).ok())
            .unwrap_or_else(|| HeaderValue::from_static(r#"ApiKey header="X-API-Key""#));
        Ok(Guard {
            inner: Arc::new(Inner {
                core,
                chain,
                challenge,
                admin_permission,
                error_hook: self.error_hook,
                logins: self.logins.methods(jwt),
                proxies: TrustedProxies::new(self.trusted_proxies),
                #[cfg(feature = "openapi")]
                hide_docs: self.hide_docs.unwrap_or(false),
            }),
        })
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
