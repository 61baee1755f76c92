//! Passwords: checked before hashing, hashed with argon2id, verified on a bounded pool.
//!
//! Hashing and verifying cost about 19 MiB and a few tens of milliseconds each, so they run
//! on a blocking thread, at most [`PasswordConfig::workers`] at a time, with at most
//! [`PasswordConfig::queue`] more waiting: beyond that the answer is [`PasswordError::Busy`]
//! (a 503), so a flood of logins never exhausts memory or holds up other requests. A user
//! who does not exist is verified against a dummy hash, so that the answer takes as long; a
//! hash stored with weaker parameters than today's is checked, then made to take as long as
//! a check at today's (and replaced at the next successful login).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use async_lock::Semaphore;
use zeroize::Zeroizing;

/// The shortest password accepted, in bytes (ASVS 6.2.1).
pub const MIN_PASSWORD_BYTES: usize = 8;
/// The longest password accepted, in bytes: longer ones are refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// How passwords are hashed and how many hashes run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordConfig {
    /// argon2id memory cost in KiB (default and minimum 19 456, OWASP's recommendation).
    pub memory_kib: u32,
    /// argon2id iterations (default and minimum 2).
    pub iterations: u32,
    /// argon2id parallelism (default 1).
    pub parallelism: u32,
    /// Hashes computed at once (default: one less than the CPUs, at least one).
    pub workers: usize,
    /// Hashes waiting for a worker before more are refused (default 64).
    pub queue: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        PasswordConfig {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
            workers: cpus.saturating_sub(1).max(1),
            queue: 64,
        }
    }
}

impl PasswordConfig {
    /// Sets how many hashes are computed at once (at least one).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Sets how many hashes may wait for a worker before more are refused.
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// Sets the argon2id costs (raised to the minimum if below it).
    pub fn costs(mut self, memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        self.memory_kib = memory_kib;
        self.iterations = iterations;
        self.parallelism = parallelism;
        self
    }
}

/// Why a password could not be set or checked.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// Shorter or longer than allowed.
    #[error("a password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long")]
    Length,
    /// Too many hashes are waiting already: try again shortly.
    #[error("too many passwords are being checked; try again shortly")]
    Busy,
    /// The parameters are weaker than the minimum, or the hasher failed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Checks a password's length before anything costly is done with it.
pub fn check_length(password: &str) -> Result<(), PasswordError> {
    if (MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(PasswordError::Length)
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Whether the password is right.
    pub matches: bool,
    /// Whether the stored hash has weaker parameters than today's and should be replaced,
    /// now that the password is known.
    pub rehash: bool,
}

/// A place in the hashing pool's queue ([`Passwords::admit`]), given back when dropped.
#[derive(Debug)]
pub struct Admission {
    _place: async_lock::SemaphoreGuardArc,
}

/// Hashes and verifies passwords on a bounded pool.
pub struct Passwords {
    config: PasswordConfig,
    params: Params,
    workers: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    /// What an unknown user's password is checked against, so that it takes as long.
    dummy: String,
    /// How long a check at today's parameters takes, in nanoseconds (a running average):
    /// a check against a weaker stored hash is made to take as long, so that the time of a
    /// failed login does not tell an old account from the others.
    full_check_nanos: Arc<AtomicU64>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Passwords {
    /// A hasher with `config`; parameters below the minimum are raised to it.
    pub fn new(config: PasswordConfig) -> Result<Self, PasswordError> {
        let config = PasswordConfig {
            memory_kib: config.memory_kib.max(Params::DEFAULT_M_COST),
            iterations: config.iterations.max(Params::DEFAULT_T_COST),
            parallelism: config.parallelism.max(1),
            workers: config.workers.max(1),
            queue: config.queue,
        };
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let started = Instant::now();
        let dummy = hash_with(&params, b"no user has this password, it only takes time")?;
        let full_check_nanos = Arc::new(AtomicU64::new(nanos(started.elapsed())));
        Ok(Passwords {
            full_check_nanos,
            workers: Arc::new(Semaphore::new(config.workers)),
            admitted: Arc::new(Semaphore::new(config.workers + config.queue)),
            config,
            params,
            dummy,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &PasswordConfig {
        &self.config
    }

    /// Hashes a password (whose length was checked) into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        let params = self.params.clone();
        let password = zeroizing(password);
        self.run(move || hash_with(&params, &password)).await
    }

    /// Checks `password` against `stored` (a PHC string), or, for a user who does not exist
    /// (`None`), against a dummy hash, which takes as long and never matches.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified, PasswordError> {
        let admission = self.admit()?;
        self.verify_admitted(admission, password, stored).await
    }

    /// A place in the pool's queue, or [`PasswordError::Busy`] if it is full: taken before
    /// anything else is done for a login, so that one refused for being too many costs
    /// nothing more.
    pub fn admit(&self) -> Result<Admission, PasswordError> {
        let place = self.admitted.try_acquire_arc().ok_or(PasswordError::Busy)?;
        Ok(Admission { _place: place })
    }

    /// [`Passwords::verify`] in a place already taken with [`Passwords::admit`].
    pub async fn verify_admitted(
        &self,
        admission: Admission,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified, PasswordError> {
        let exists = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy).to_owned();
        // Too long a password is wrong, but takes as long as any to say so.
        let acceptable = check_length(password).is_ok();
        let password = zeroizing(if acceptable { password } else { "" });
        let wanted = self.params.clone();
        let full_check_nanos = Arc::clone(&self.full_check_nanos);
        self.run_admitted(admission, move || {
            let started = Instant::now();
            let Ok(hash) = PasswordHash::new(&stored) else {
                return Err(PasswordError::Hashing("a stored password hash is damaged".into()));
            };
            let matches = Argon2::default().verify_password(&password, &hash).is_ok();
            let weak = weaker(&hash, &wanted);
            let took = nanos(started.elapsed());
            if weak {
                // As long as a check at today's parameters: then the hash is replaced at the
                // next successful login, and nothing tells the account apart meanwhile.
                let full = full_check_nanos.load(Ordering::Relaxed);
                std::thread::sleep(Duration::from_nanos(full.saturating_sub(took)));
            } else {
                // A running average, an eighth of the way towards each new check.
                let full = full_check_nanos.load(Ordering::Relaxed);
                full_check_nanos.store(full - full / 8 + took / 8, Ordering::Relaxed);
            }
            let matches = matches && exists && acceptable;
            Ok(Verified { matches, rehash: matches && weak })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let admission = self.admit()?;
        self.run_admitted(admission, work).await
    }

    async fn run_admitted<T: Send + 'static>(
        &self,
        admission: Admission,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _admitted = admission;
        let _worker = self.workers.acquire_arc().await;
        blocking::unblock(work).await
    }
}

fn nanos(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// A copy of a password for the hashing thread, wiped when dropped so that it does not linger
/// in freed memory.
fn zeroizing(password: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(password.as_bytes().to_vec())
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, PasswordError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether a stored hash is weaker than what is configured today.
fn weaker(hash: &PasswordHash, wanted: &Params) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || hash.version != Some(0x13)
        || params.m_cost() < wanted.m_cost()
        || params.t_cost() < wanted.t_cost()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords() -> Passwords {
        Passwords::new(PasswordConfig::default()).unwrap()
    }

    #[test]
    fn hashes_verify_and_know_when_they_are_weak() {
        let passwords = passwords();
        let hash = pollster::block_on(passwords.hash("correct horse")).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let right = pollster::block_on(passwords.verify("correct horse", Some(&hash))).unwrap();
        assert_eq!(right, Verified { matches: true, rehash: false });
        let wrong = pollster::block_on(passwords.verify("correct hors", Some(&hash))).unwrap();
        assert!(!wrong.matches);
        let nobody = pollster::block_on(passwords.verify("correct horse", None)).unwrap();
        assert!(!nobody.matches);

        let weak_params = Params::new(8 * 1024, 1, 1, None).unwrap();
        let weak = hash_with(&weak_params, b"correct horse").unwrap();
        let found = pollster::block_on(passwords.verify("correct horse", Some(&weak))).unwrap();
        assert_eq!(found, Verified { matches: true, rehash: true });
    }

    #[test]
    fn lengths_are_checked_before_hashing() {
        let passwords = passwords();
        assert_eq!(pollster::block_on(passwords.hash("short")), Err(PasswordError::Length));
        let huge = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(pollster::block_on(passwords.hash(&huge)), Err(PasswordError::Length));
        assert!(pollster::block_on(passwords.hash(&"x".repeat(MAX_PASSWORD_BYTES))).is_ok());
    }

    #[test]
    fn beyond_the_queue_the_answer_is_busy() {
        let config = PasswordConfig { workers: 1, queue: 0, ..PasswordConfig::default() };
        let passwords = Passwords::new(config).unwrap();
        let (first, second) = pollster::block_on(futures_lite::future::zip(
            passwords.hash("first password"),
            passwords.hash("second password"),
        ));
        assert!(first.is_ok());
        assert_eq!(second, Err(PasswordError::Busy));
    }
}
