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
//! An account is a user's id, not its name: failures for a name nobody has yet are counted
//! under the name, for that name and address only, and never carry over to the user who
//! later takes the name. State is in memory, bounded, and forgotten after an idle hour.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use compact_str::CompactString;

use crate::clock::Timestamp;

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
    /// Counts kept per kind before idle ones are dropped (default 100 000).
    pub capacity: usize,
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
            capacity: 100_000,
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
    /// A name no user has (normalized, or as given if it cannot be).
    Unknown(CompactString),
}

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    failures: u32,
    blocked_until: Timestamp,
    last: Timestamp,
}

/// Failed logins, counted.
#[derive(Debug)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    pairs: Mutex<HashMap<(Account, IpAddr), Count>>,
    accounts: Mutex<HashMap<CompactString, Count>>,
    addresses: Mutex<HashMap<IpAddr, Count>>,
    /// Addresses each user logged in from, which the account-wide count spares.
    known: Mutex<HashMap<CompactString, Vec<IpAddr>>>,
}

/// How many addresses a user is remembered to have logged in from.
const KNOWN_ADDRESSES: usize = 8;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The address counted for a client whose address is unknown.
pub const UNKNOWN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl LoginThrottle {
    /// A throttle with `config`.
    pub fn new(config: ThrottleConfig) -> Self {
        LoginThrottle {
            config,
            pairs: Mutex::default(),
            accounts: Mutex::default(),
            addresses: Mutex::default(),
            known: Mutex::default(),
        }
    }

    /// `Err(seconds to wait)` if this login may not be tried now.
    pub fn check(&self, account: &Account, address: IpAddr, now: Timestamp) -> Result<(), i64> {
        let mut wait = 0;
        let blocked = |count: Option<&Count>| count.map_or(0, |c| c.blocked_until - now).max(0);
        wait = wait.max(blocked(lock(&self.pairs).get(&(account.clone(), address))));
        wait = wait.max(blocked(lock(&self.addresses).get(&address)));
        if let Account::User(id) = account
            && !self.is_known(id, address)
        {
            wait = wait.max(blocked(lock(&self.accounts).get(id)));
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Counts a failed login.
    pub fn failed(&self, account: &Account, address: IpAddr, now: Timestamp) {
        let config = &self.config;
        bump(&self.pairs, (account.clone(), address), config.pair_free, config, now);
        bump(&self.addresses, address, config.address_free, config, now);
        if let Account::User(id) = account
            && !self.is_known(id, address)
        {
            bump(&self.accounts, id.clone(), config.account_free, config, now);
        }
    }

    /// A successful login: this account and address start afresh, and the address is known.
    pub fn succeeded(&self, account: &Account, address: IpAddr) {
        lock(&self.pairs).remove(&(account.clone(), address));
        if let Account::User(id) = account {
            let mut known = lock(&self.known);
            let addresses = known.entry(id.clone()).or_default();
            addresses.retain(|a| *a != address);
            if addresses.len() == KNOWN_ADDRESSES {
                addresses.remove(0);
            }
            addresses.push(address);
        }
    }

    fn is_known(&self, id: &CompactString, address: IpAddr) -> bool {
        address != UNKNOWN_ADDRESS
            && lock(&self.known).get(id).is_some_and(|a| a.contains(&address))
    }
}

/// Counts one failure; beyond `free`, the delay doubles with each.
fn bump<K: Eq + Hash>(
    map: &Mutex<HashMap<K, Count>>,
    key: K,
    free: u32,
    config: &ThrottleConfig,
    now: Timestamp,
) {
    let mut map = lock(map);
    if map.len() >= config.capacity && !map.contains_key(&key) {
        map.retain(|_, c| now - c.last < config.forget_after);
        if map.len() >= config.capacity {
            map.retain(|_, c| c.blocked_until > now);
        }
    }
    let count = map.entry(key).or_default();
    if now - count.last >= config.forget_after {
        *count = Count::default();
    }
    count.failures = count.failures.saturating_add(1);
    count.last = now;
    if count.failures > free {
        let doublings = (count.failures - free - 1).min(30);
        let delay = config.first_delay.saturating_mul(1 << doublings).min(config.max_delay);
        count.blocked_until = now + delay;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn user(id: &str) -> Account {
        Account::User(id.into())
    }

    #[test]
    fn delays_grow_per_account_and_address() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let now = 1_000;
        for _ in 0..5 {
            assert!(throttle.check(&user("u"), ip(1), now).is_ok());
            throttle.failed(&user("u"), ip(1), now);
        }
        assert!(throttle.check(&user("u"), ip(1), now).is_ok(), "five are free");
        throttle.failed(&user("u"), ip(1), now);
        assert_eq!(throttle.check(&user("u"), ip(1), now), Err(1));
        throttle.failed(&user("u"), ip(1), now + 1);
        assert_eq!(throttle.check(&user("u"), ip(1), now + 1), Err(2), "it doubles");
        assert!(
            throttle.check(&user("u"), ip(2), now + 1).is_ok(),
            "another address is not limited"
        );
    }

    #[test]
    fn the_owner_is_not_locked_out_by_failures_elsewhere() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        throttle.succeeded(&user("u"), ip(1));
        for n in 0..40 {
            throttle.failed(&user("u"), ip(100 + (n % 8) as u8), 1_000);
        }
        assert!(throttle.check(&user("u"), ip(50), 1_000).is_err(), "a new address is slowed");
        assert!(throttle.check(&user("u"), ip(1), 1_000).is_ok(), "the owner's is not");
    }

    #[test]
    fn failures_for_a_name_nobody_has_do_not_carry_over() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let unknown = Account::Unknown("bob".into());
        for _ in 0..10 {
            throttle.failed(&unknown, ip(1), 1_000);
        }
        assert!(throttle.check(&unknown, ip(1), 1_000).is_err());
        assert!(throttle.check(&user("bob's new id"), ip(1), 1_000).is_ok());
        assert!(throttle.check(&user("bob's new id"), ip(2), 1_000).is_ok());
    }

    #[test]
    fn idle_counts_are_forgotten_and_memory_is_bounded() {
        let config = ThrottleConfig { capacity: 10, ..ThrottleConfig::default() };
        let throttle = LoginThrottle::new(config);
        for n in 0..6 {
            throttle.failed(&user("u"), ip(1), 1_000 + n);
        }
        assert!(throttle.check(&user("u"), ip(1), 1_005).is_err());
        throttle.failed(&user("u"), ip(1), 1_006 + 3_600);
        assert!(throttle.check(&user("u"), ip(1), 1_006 + 3_600).is_ok(), "begun afresh");
        for n in 0..100 {
            throttle.failed(
                &Account::Unknown(format!("n{n}").into()),
                ip(2),
                10_000 + i64::from(n) * 4_000,
            );
        }
        assert!(lock(&throttle.pairs).len() <= 10);
    }
}
