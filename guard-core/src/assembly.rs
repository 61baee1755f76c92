//! Assembly: everything a guard opens, in one place, so that a server and any other binary
//! (a command-line tool, a migration) open exactly the same thing.
//!
//! [`Core::open`] validates the settings, opens the store, records the policy in it, starts
//! the usage writer, loads the users, API keys, sessions and tokens, and establishes the
//! admin secret, in that order: the secret is last, so a secret generated on a first start is
//! shown before anything else can fail and is never stored unseen.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::accounts::Accounts;
use crate::authn::AuthContext;
use crate::authz::{Grants, Policy, PolicySpec};
use crate::clock::{Clock, SystemClock};
use crate::config::{
    DEFAULT_DB_PATH, DEFAULT_KEY_TTL_DAYS, DbLocation, EnvConfig, MAX_TTL_DAYS,
    admin_secret_weakness,
};
use crate::credentials::admin_secret::{self, AdminGate};
use crate::credentials::api_key::{KeyRing, KeyRingConfig};
use crate::credentials::format::CredentialFormat;
use crate::credentials::issued::{IssuedRing, Lifetimes};
use crate::credentials::password::{PasswordConfig, Passwords};
use crate::credentials::throttle::{LoginThrottle, ThrottleConfig};
use crate::credentials::user::UserDirectory;
use crate::error::Error;
use crate::follow::{Followed, Follower};
use crate::future::BoxFuture;
use crate::maintenance::Maintenance;
use crate::recording::{RateLimits, Usage, UsageConfig};
use crate::secret::Secret;
use crate::store::{RedbStore, SharedStore, StoreError};

/// Where the guard's policy is recorded in the store's settings, for tools that run without
/// the application (the CLI, another version of the application during a deploy).
pub const POLICY_META_KEY: &str = "policy";

/// Where the prefix of the application's API keys is recorded, so that a key the command
/// line creates has the shape the servers accept.
pub const KEY_PREFIX_META_KEY: &str = "key_prefix";

/// Where the guard keeps its data.
#[derive(Clone)]
#[non_exhaustive]
pub enum StoreChoice {
    /// A redb file at this path (created if missing).
    File(PathBuf),
    /// A database named by a URL (`postgres://…`), opened by [`Settings::url_opener`].
    Url(String),
    /// A store the application opened.
    Shared(SharedStore),
}

impl From<DbLocation> for StoreChoice {
    fn from(location: DbLocation) -> Self {
        match location {
            DbLocation::File(path) => StoreChoice::File(path),
            DbLocation::Url(url) => StoreChoice::Url(url),
        }
    }
}

impl std::fmt::Debug for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreChoice::File(path) => f.debug_tuple("File").field(path).finish(),
            // A URL may carry a password.
            StoreChoice::Url(_) => f.write_str("Url(..)"),
            StoreChoice::Shared(_) => f.write_str("Shared(..)"),
        }
    }
}

/// Opens the store a URL names: what a backend crate provides (`guard_postgres::opener`).
pub type UrlOpener =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<SharedStore, StoreError>> + Send + Sync>;

/// What to open. Settings left `None` come from the environment, if read, then the defaults.
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The policy declared with `policy!`.
    pub policy: &'static PolicySpec,
    /// Where the data lives (default: `GUARD_DB`, a redb file or a `postgres://` URL, else
    /// the redb file `guard.redb`).
    pub store: Option<StoreChoice>,
    /// Opens a store named by a URL; without one, a URL is an error.
    pub url_opener: Option<UrlOpener>,
    /// The admin secret (default: `GUARD_ADMIN_SECRET`, else the stored or a generated one).
    pub admin_secret: Option<String>,
    /// Default API key lifetime in days (default: `GUARD_KEY_TTL_DAYS`, else 15).
    pub key_ttl_days: Option<u32>,
    /// The prefix of API keys (default `gk`).
    pub key_prefix: Option<String>,
    /// The clock (default: the system's).
    pub clock: Option<Arc<dyn Clock>>,
    /// How usage is recorded.
    pub usage: UsageConfig,
    /// How passwords are hashed.
    pub passwords: PasswordConfig,
    /// How failed logins are slowed down.
    pub throttle: ThrottleConfig,
    /// How long sessions and tokens work.
    pub lifetimes: Lifetimes,
    /// On a store other instances write to: how often this instance looks for their writes
    /// besides when the store signals them (default 1 s), which bounds how late a write is
    /// seen if a signal is lost.
    pub sync_interval: Duration,
    /// What the environment says, used for every setting left `None`.
    pub env: EnvConfig,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Settings {
    /// Defaults for `policy`; the environment is not read.
    pub fn new(policy: &'static PolicySpec) -> Self {
        Settings {
            policy,
            store: None,
            url_opener: None,
            admin_secret: None,
            key_ttl_days: None,
            key_prefix: None,
            clock: None,
            usage: UsageConfig::default(),
            passwords: PasswordConfig::default(),
            throttle: ThrottleConfig::default(),
            lifetimes: Lifetimes::default(),
            sync_interval: Duration::from_secs(1),
            env: EnvConfig::default(),
        }
    }
}

/// Everything a guard holds that is not HTTP.
///
/// The store itself is not handed out: every write goes through the keys, the accounts or
/// the admin gate, which write to the store and then bring the in-memory indexes up to date,
/// so that nothing can change the store behind the indexes' back.
pub struct Core {
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    context: AuthContext,
    keys: Arc<KeyRing>,
    accounts: Arc<Accounts>,
    usage: Arc<Usage>,
    limits: Arc<RateLimits>,
    admin: Arc<AdminGate>,
    maintenance: Maintenance,
    follower: Option<Follower>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

/// A core just opened, and the admin secret it generated, if it did: show it to the operator
/// once, it is kept only as a hash.
#[derive(Debug)]
pub struct Opened {
    /// The core.
    pub core: Core,
    /// A secret generated by this (first) start.
    pub generated_admin_secret: Option<Secret>,
}

impl Core {
    /// Opens everything, blocking the calling thread (the store's work runs on its own
    /// pool, so this is safe inside an async runtime, though it blocks that thread).
    pub fn open(settings: Settings) -> Result<Opened, Error> {
        pollster::block_on(Self::open_async(settings))
    }

    /// [`Core::open`], awaited.
    pub async fn open_async(settings: Settings) -> Result<Opened, Error> {
        let policy = Arc::new(Policy::new(settings.policy)?);
        let env = settings.env;
        let ttl = settings.key_ttl_days.or(env.key_ttl_days).unwrap_or(DEFAULT_KEY_TTL_DAYS);
        if !(1..=MAX_TTL_DAYS).contains(&ttl) {
            return Err(Error::InvalidTtl);
        }
        let format = match &settings.key_prefix {
            Some(prefix) => CredentialFormat::new(prefix)?,
            None => CredentialFormat::default(),
        };
        let configured_secret = settings.admin_secret.or(env.admin_secret);
        if let Some(weakness) = configured_secret.as_deref().and_then(admin_secret_weakness) {
            return Err(Error::WeakAdminSecret(weakness));
        }
        let choice = settings.store.or_else(|| env.db.map(StoreChoice::from));
        let choice = choice.unwrap_or_else(|| StoreChoice::File(PathBuf::from(DEFAULT_DB_PATH)));
        let store = open_store(choice, settings.url_opener.as_ref()).await?;
        record_policy(&policy, &store).await?;
        record_setting(&store, KEY_PREFIX_META_KEY, format.prefix().as_bytes()).await?;
        let clock = settings.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let grants = Arc::new(Grants::new(Arc::clone(&policy)));
        let usage = Usage::start(Arc::clone(&store), Arc::clone(&clock), settings.usage)
            .map_err(|source| Error::Thread { name: "usage writer", source })?;
        let usage = Arc::new(usage);
        let passwords = Arc::new(Passwords::new(settings.passwords)?);
        let users = Arc::new(UserDirectory::load(Arc::clone(&store), Arc::clone(&grants)).await?);
        let config = KeyRingConfig { format, default_ttl_days: ttl };
        let keys = Arc::new(
            KeyRing::load(
                Arc::clone(&store),
                Arc::clone(&grants),
                Arc::clone(&users),
                Arc::clone(&clock),
                config,
            )
            .await?,
        );
        let issued = Arc::new(
            IssuedRing::load(
                Arc::clone(&store),
                Arc::clone(&clock),
                Arc::clone(&users),
                settings.lifetimes,
            )
            .await?,
        );
        let accounts = Arc::new(Accounts::new(
            users,
            issued,
            Arc::clone(&keys),
            passwords,
            LoginThrottle::new(settings.throttle, Arc::clone(&store)),
            Arc::clone(&clock),
        ));
        // A change of a user interrupted by the last run's failure is finished before serving.
        if let Err(error) = accounts.finish_interrupted().await {
            tracing::warn!(%error, "cannot finish interrupted changes of users now; will retry every minute");
        }
        let maintenance = Maintenance::start(Arc::clone(&accounts))
            .map_err(|source| Error::Thread { name: "maintenance", source })?;
        // The follower starts before the admin secret is established, which must come last;
        // it takes in rotations of the secret once the gate exists.
        let gate = Arc::new(OnceLock::new());
        let limits = Arc::new(RateLimits::new(store.watch().is_some()));
        let follower = match store.watch() {
            None => None,
            Some(signal) => {
                let followed = Followed {
                    keys: Arc::clone(&keys),
                    accounts: Arc::clone(&accounts),
                    admin: Arc::clone(&gate),
                    limits: Arc::clone(&limits),
                    store: Arc::clone(&store),
                };
                let follower = Follower::start(signal, settings.sync_interval, followed)
                    .map_err(|source| Error::Thread { name: "follower", source })?;
                Some(follower)
            }
        };
        let established = admin_secret::establish(configured_secret.as_deref(), &store).await?;
        let admin = Arc::new(AdminGate::new(&established, Arc::clone(&store)));
        let _ = gate.set(Arc::clone(&admin));
        let context = AuthContext::new(Arc::clone(&policy), Arc::clone(&clock));
        let core = Core {
            policy,
            clock,
            context,
            keys,
            accounts,
            usage,
            limits,
            admin,
            maintenance,
            follower,
        };
        Ok(Opened { core, generated_admin_secret: established.generated })
    }

    /// The run-time policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// What authenticators share: the policy and the clock.
    pub fn context(&self) -> &AuthContext {
        &self.context
    }

    /// The API keys.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// Users, their sessions and tokens.
    pub fn accounts(&self) -> &Arc<Accounts> {
        &self.accounts
    }

    /// Usage of every credential.
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// The rate limits of keys and users.
    pub fn rate_limits(&self) -> &Arc<RateLimits> {
        &self.limits
    }

    /// The admin secret.
    pub fn admin(&self) -> &Arc<AdminGate> {
        &self.admin
    }

    /// Whether other instances write to the store too (PostgreSQL): then what this one holds
    /// in memory of usage is its own share, and the store has the whole.
    pub fn is_shared(&self) -> bool {
        self.follower.is_some()
    }

    /// Writes all gathered usage and stops the background threads.
    pub fn shutdown(&self) {
        if let Some(follower) = &self.follower {
            follower.stop();
        }
        self.maintenance.stop();
        self.usage.shutdown();
    }
}

/// Opens the store `choice` names: a redb file, or a URL through `url_opener`.
async fn open_store(
    choice: StoreChoice,
    url_opener: Option<&UrlOpener>,
) -> Result<SharedStore, Error> {
    Ok(match choice {
        StoreChoice::Shared(store) => store,
        StoreChoice::File(path) => Arc::new(RedbStore::open(path)?),
        StoreChoice::Url(url) => match url_opener {
            Some(open) => open(url).await?,
            None => return Err(Error::NoUrlBackend),
        },
    })
}

/// The prefix of API keys the servers recorded in `store`, if any.
pub async fn recorded_key_prefix(store: &SharedStore) -> Result<Option<String>, Error> {
    let recorded = store.meta(KEY_PREFIX_META_KEY.into()).await?;
    Ok(recorded.map(|prefix| String::from_utf8_lossy(&prefix).into_owned()))
}

/// Records a setting if it differs from what is stored.
async fn record_setting(store: &SharedStore, name: &str, value: &[u8]) -> Result<(), StoreError> {
    if store.meta(name.into()).await?.as_deref() != Some(value) {
        store.set_meta(name.into(), value.to_vec()).await?;
    }
    Ok(())
}

/// The policy the servers recorded in `store` (the last to start), read back for a program
/// that runs without the application; `None` if none was ever recorded.
pub async fn recorded_policy(store: &SharedStore) -> Result<Option<&'static PolicySpec>, Error> {
    let Some(description) = store.meta(POLICY_META_KEY.into()).await? else { return Ok(None) };
    Ok(Some(crate::authz::recorded::from_recorded(&description)?))
}

/// Records the policy's description in the store if it differs from what is there: the last
/// instance to start records its own, so during a deploy the store holds the newer one.
async fn record_policy(policy: &Policy, store: &SharedStore) -> Result<(), StoreError> {
    let description = policy.describe().to_string().into_bytes();
    if store.meta(POLICY_META_KEY.into()).await?.as_deref() == Some(description.as_slice()) {
        return Ok(());
    }
    store.set_meta(POLICY_META_KEY.into(), description).await?;
    tracing::info!("the policy changed since the last start; recorded in the store");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::RoleSpec;

    static SPEC: PolicySpec = PolicySpec::new(
        7,
        &["view", "manage"],
        &[RoleSpec::new("viewer", &[], &[0]), RoleSpec::new("admin", &[0], &[1])],
    );

    #[test]
    fn the_policy_is_recorded_in_the_store_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(RedbStore::open(dir.path().join("p.redb")).unwrap());
        let policy = Policy::new(&SPEC).unwrap();
        let stored = || pollster::block_on(store.meta(POLICY_META_KEY.into())).unwrap();
        assert_eq!(stored(), None);
        pollster::block_on(record_policy(&policy, &store)).unwrap();
        let first: serde_json::Value = serde_json::from_slice(&stored().unwrap()).unwrap();
        assert_eq!(first["roles"][1]["name"], "admin");
        assert_eq!(first["roles"][1]["inherits"], serde_json::json!(["viewer"]));
        pollster::block_on(store.set_meta(POLICY_META_KEY.into(), b"older".to_vec())).unwrap();
        pollster::block_on(record_policy(&policy, &store)).unwrap();
        assert_eq!(stored().unwrap(), policy.describe().to_string().into_bytes(), "replaced");
    }
}
