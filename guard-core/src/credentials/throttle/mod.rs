//! Login throttling: failed logins (form, token endpoint, Basic) slow down, per account and
//! per client address, with growing delays; while limited, every answer is the same 429.
//!
//! Three counts, each with a number of free failures, then delays that double (1 s, 2 s, 4 s,
//! … up to 15 minutes):
//!
//! - one account from one address: tight (5 free), what stops guessing one password;
//! - one account from anywhere: looser (20 free), and never applied to an address this
//!   account logged in from before, so an attacker elsewhere cannot lock its owner out;
//! - one address, whatever the account: loose (50 free), what slows credential stuffing.
//!
//! An attempt counts as a failure when it begins, and is taken back if the password was
//! right: a burst of concurrent guesses cannot all pass the check before any of them has
//! failed. An account is a user's id, not its name: failures for a name nobody has are
//! counted under the name, by the same rules (so the answers do not tell which names exist),
//! and never carry over to the user who later takes it. IPv6 addresses count by their /64,
//! what one host or subscriber usually holds.
//!
//! The counts live in the store ([`ThrottleStore`](crate::store::ThrottleStore)), changed
//! atomically there, so that every instance serving one database counts the same failures:
//! running N instances does not give an attacker N times the attempts. Counts idle for an
//! hour start afresh, and the maintenance thread forgets them.

use std::net::{IpAddr, Ipv4Addr};

use compact_str::CompactString;

use crate::clock::Timestamp;
use crate::store::{FailureCount, SharedStore, StoreError};

/// Throttling thresholds and delays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Failures for one account from one address before delays begin (default 5).
    pub pair_free: u32,
    /// Failures for one account from all addresses it never logged in from (default 20).
    pub account_free: u32,
    /// Failures from one address, all accounts together (default 50).
    pub address_free: u32,
    /// The first delay, in seconds (default 1); each further failure doubles it.
    pub first_delay: i64,
    /// The longest delay, in seconds (default 15 minutes).
    pub max_delay: i64,
    /// Seconds after which an idle count is forgotten (default one hour).
    pub forget_after: i64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            pair_free: 5,
            account_free: 20,
            address_free: 50,
            first_delay: 1,
            max_delay: 15 * 60,
            forget_after: 60 * 60,
        }
    }
}

impl ThrottleConfig {
    /// Sets the free failures: per account and address, per account, per address.
    pub fn free_failures(mut self, pair: u32, account: u32, address: u32) -> Self {
        self.pair_free = pair;
        self.account_free = account;
        self.address_free = address;
        self
    }

    /// Sets the first and the longest delay, in seconds.
    pub fn delays(mut self, first: i64, max: i64) -> Self {
        self.first_delay = first.max(1);
        self.max_delay = max.max(self.first_delay);
        self
    }
}

/// Whose failures are counted: a user, or a name nobody has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    /// An existing user, by id.
    User(CompactString),
    /// A name no user has, normalized.
    Unknown(CompactString),
}

impl Account {
    /// A name no user has: `normalized`, or, for what is not even a possible name, the empty
    /// name, which no user can have.
    pub fn unknown(normalized: Option<CompactString>) -> Self {
        Account::Unknown(normalized.unwrap_or_default())
    }

    /// How the store's keys name it.
    fn key(&self) -> String {
        match self {
            Account::User(id) => format!("u:{id}"),
            Account::Unknown(name) => format!("n:{name}"),
        }
    }
}

/// Why an attempt may not begin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// Too many failures: try again in this many seconds.
    #[error("too many failed attempts; try again in {0} s")]
    Wait(i64),
    /// The counts could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Failed logins, counted in the store.
pub struct LoginThrottle {
    config: ThrottleConfig,
    store: SharedStore,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A login being tried, already counted as a failure; [`LoginThrottle::succeeded`] takes it
/// back. Dropping it leaves the failure counted.
#[derive(Debug)]
#[must_use = "an attempt is a failure unless it is declared a success"]
pub struct Attempt {
    account: Account,
    address: IpAddr,
    /// The store's keys of its counts: pair, address, and account if it counted there.
    keys: Vec<String>,
    /// Each count as it was before this attempt and as the attempt left it: taking it back
    /// restores the first where nothing else has counted since.
    counts: Vec<(FailureCount, FailureCount)>,
}

/// How many addresses a user is remembered to have logged in from.
const KNOWN_ADDRESSES: u32 = 8;

/// The address counted for a client whose address is unknown.
pub const UNKNOWN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The address as counted: an IPv4 address as itself (also when written as IPv6), an IPv6
/// address by its /64.
fn counted(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

impl LoginThrottle {
    /// A throttle with `config`, counting in `store`.
    pub(crate) fn new(config: ThrottleConfig, store: SharedStore) -> Self {
        LoginThrottle { config, store }
    }

    /// Begins a login for `account` from `address`: refused with the seconds to wait if it
    /// may not be tried now; otherwise counted as a failure until declared a success.
    pub async fn begin(
        &self,
        account: &Account,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<Attempt, Refused> {
        let wide = match account {
            Account::User(id) => !self.is_known(id, counted(address)).await?,
            Account::Unknown(_) => true,
        };
        self.count(account, address, now, wide).await
    }

    /// Begins an attempt at `account` from `address` counted per address only, never for the
    /// account from everywhere: for what one account serves everybody (the admin secret),
    /// where failures from all addresses together would let anyone lock everyone out.
    pub async fn begin_per_address(
        &self,
        account: &Account,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<Attempt, Refused> {
        self.count(account, address, now, false).await
    }

    /// The seconds an attempt at `account` from `address` must wait (0: none), counted per
    /// address only as [`LoginThrottle::begin_per_address`] counts; counts nothing.
    pub async fn waiting_per_address(
        &self,
        account: &Account,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let address = counted(address);
        let keys = vec![format!("p|{}|{address}", account.key()), format!("i|{address}")];
        let counts =
            self.store.update_failures(keys, Box::new(|_: &mut [FailureCount]| {})).await?;
        Ok(wait(&counts, now))
    }

    async fn count(
        &self,
        account: &Account,
        address: IpAddr,
        now: Timestamp,
        wide: bool,
    ) -> Result<Attempt, Refused> {
        let address = counted(address);
        let config = &self.config;
        let mut keys = vec![format!("p|{}|{address}", account.key()), format!("i|{address}")];
        let mut free = vec![config.pair_free, config.address_free];
        if wide {
            keys.push(format!("a|{}", account.key()));
            free.push(config.account_free);
        }
        let counting = (config.clone(), free.clone());
        // Checking and counting are one step in the store: concurrent attempts, through this
        // instance or another, are counted one after another.
        let before = self
            .store
            .update_failures(
                keys.clone(),
                Box::new(move |counts: &mut [FailureCount]| {
                    let (config, free) = counting;
                    if wait(counts, now) == 0 {
                        for (count, free) in counts.iter_mut().zip(free) {
                            *count = bumped(*count, free, &config, now);
                        }
                    }
                }),
            )
            .await?;
        let wait = wait(&before, now);
        if wait > 0 {
            return Err(Refused::Wait(wait));
        }
        let counts =
            before.iter().zip(free).map(|(c, free)| (*c, bumped(*c, free, config, now))).collect();
        Ok(Attempt { account: account.clone(), address, keys, counts })
    }

    /// The password was right: the attempt was no failure, this account and address start
    /// afresh, and the address is known to the account.
    pub async fn succeeded(&self, attempt: Attempt, now: Timestamp) -> Result<(), StoreError> {
        let Attempt { account, address, keys, counts } = attempt;
        let update = move |stored: &mut [FailureCount]| {
            // The pair starts afresh; the others lose this attempt.
            stored[0] = FailureCount::default();
            for (count, counted) in stored.iter_mut().zip(counts).skip(1) {
                *count = taken_back(*count, counted);
            }
        };
        self.store.update_failures(keys, Box::new(update)).await?;
        if let Account::User(id) = account {
            let (id, address) = (id.to_string(), address.to_string());
            self.store.remember_address(id, address, now, KNOWN_ADDRESSES).await?;
        }
        Ok(())
    }

    /// The password could not be checked (the pool was full, or the check failed): the
    /// attempt counts for nothing.
    pub async fn abandoned(&self, attempt: Attempt) -> Result<(), StoreError> {
        let Attempt { keys, counts, .. } = attempt;
        let update = move |stored: &mut [FailureCount]| {
            for (count, counted) in stored.iter_mut().zip(counts) {
                *count = taken_back(*count, counted);
            }
        };
        self.store.update_failures(keys, Box::new(update)).await.map(|_| ())
    }

    /// Forgets counts idle for longer than they are kept; returns how many.
    pub(crate) async fn prune(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.store.prune_failures(now.saturating_sub(self.config.forget_after)).await
    }

    async fn is_known(&self, id: &CompactString, address: IpAddr) -> Result<bool, StoreError> {
        if address == UNKNOWN_ADDRESS {
            return Ok(false);
        }
        self.store.known_address(id.to_string(), address.to_string()).await
    }
}

/// How long the counts make an attempt wait at `now` (0: not at all).
fn wait(counts: &[FailureCount], now: Timestamp) -> i64 {
    counts.iter().map(|c| c.blocked_until - now).max().unwrap_or(0).max(0)
}

/// `count` with one more failure at `now`. The `free`-th failure sets the first delay, so
/// that exactly `free` attempts are tried before the first refusal; each failure after it
/// doubles the delay. A count idle for longer than it is kept starts afresh.
fn bumped(count: FailureCount, free: u32, config: &ThrottleConfig, now: Timestamp) -> FailureCount {
    let mut count =
        if now - count.last >= config.forget_after { FailureCount::default() } else { count };
    count.failures = count.failures.saturating_add(1);
    count.last = now;
    if count.failures >= free {
        let doublings = (count.failures - free).min(30);
        let delay = config.first_delay.saturating_mul(1 << doublings).min(config.max_delay);
        count.blocked_until = now.saturating_add(delay);
    }
    count
}

/// `count` without one failure an attempt counted: as it was before the attempt if nothing
/// counted since, otherwise one failure fewer.
fn taken_back(count: FailureCount, (before, after): (FailureCount, FailureCount)) -> FailureCount {
    if count == after {
        before
    } else {
        FailureCount { failures: count.failures.saturating_sub(1), ..count }
    }
}

#[cfg(test)]
mod tests;
