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
//! what one host or subscriber usually holds. State is in memory, bounded, and forgotten
//! after an idle hour.

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
    /// A name no user has, normalized.
    Unknown(CompactString),
}

impl Account {
    /// A name no user has: `normalized`, or, for what is not even a possible name, one fixed
    /// placeholder that no user's name can be.
    pub fn unknown(normalized: Option<CompactString>) -> Self {
        Account::Unknown(normalized.unwrap_or_else(|| "\u{0}invalid".into()))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    accounts: Mutex<HashMap<Account, Count>>,
    addresses: Mutex<HashMap<IpAddr, Count>>,
    /// Addresses each user logged in from, which the account-wide count spares.
    known: Mutex<HashMap<CompactString, Vec<IpAddr>>>,
}

/// A login being tried, already counted as a failure; [`LoginThrottle::succeeded`] takes it
/// back. Dropping it leaves the failure counted.
#[derive(Debug)]
#[must_use = "an attempt is a failure unless it is declared a success"]
pub struct Attempt {
    account: Account,
    address: IpAddr,
    /// The counts as they were before this attempt, and as it left them: taking it back
    /// restores the first where nothing else has counted since.
    pair_count: (Count, Count),
    address_count: (Count, Count),
    account_count: Option<(Count, Count)>,
}

/// How many addresses a user is remembered to have logged in from.
const KNOWN_ADDRESSES: usize = 8;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

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

    /// Begins a login for `account` from `address`: `Err(seconds to wait)` if it may not be
    /// tried now; otherwise it is counted as a failure until declared a success.
    pub fn begin(
        &self,
        account: &Account,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<Attempt, i64> {
        let address = counted(address);
        let wide = match account {
            Account::User(id) => !self.is_known(id, address),
            Account::Unknown(_) => true,
        };
        let config = &self.config;
        let pair = (account.clone(), address);
        let blocked = |count: Option<&Count>| count.map_or(0, |c| c.blocked_until - now).max(0);
        // The three counts are locked together, always in this order, so that checking and
        // counting are one step for concurrent attempts.
        let mut pairs = lock(&self.pairs);
        let mut accounts = lock(&self.accounts);
        let mut addresses = lock(&self.addresses);
        let mut wait = blocked(pairs.get(&pair)).max(blocked(addresses.get(&address)));
        if wide {
            wait = wait.max(blocked(accounts.get(account)));
        }
        if wait > 0 {
            return Err(wait);
        }
        let pair_count = bump(&mut pairs, pair, config.pair_free, config, now);
        let address_count = bump(&mut addresses, address, config.address_free, config, now);
        let account_count =
            wide.then(|| bump(&mut accounts, account.clone(), config.account_free, config, now));
        Ok(Attempt { account: account.clone(), address, pair_count, address_count, account_count })
    }

    /// The password was right: the attempt was no failure, this account and address start
    /// afresh, and the address is known to the account.
    pub fn succeeded(&self, attempt: Attempt) {
        lock(&self.pairs).remove(&(attempt.account.clone(), attempt.address));
        let (account, address) = self.take_back(attempt);
        if let Account::User(id) = account {
            let mut known = lock(&self.known);
            let addresses = known.entry(id).or_default();
            addresses.retain(|a| *a != address);
            if addresses.len() == KNOWN_ADDRESSES {
                addresses.remove(0);
            }
            addresses.push(address);
        }
    }

    /// The password could not be checked (the pool was full, or the check failed): the
    /// attempt counts for nothing.
    pub fn abandoned(&self, attempt: Attempt) {
        let pair = (attempt.account.clone(), attempt.address);
        take_back(&mut lock(&self.pairs), &pair, attempt.pair_count);
        self.take_back(attempt);
    }

    /// Takes back an attempt's address and account counts.
    fn take_back(&self, attempt: Attempt) -> (Account, IpAddr) {
        let Attempt { account, address, address_count, account_count, .. } = attempt;
        take_back(&mut lock(&self.addresses), &address, address_count);
        if let Some(counts) = account_count {
            take_back(&mut lock(&self.accounts), &account, counts);
        }
        (account, address)
    }

    fn is_known(&self, id: &CompactString, address: IpAddr) -> bool {
        address != UNKNOWN_ADDRESS
            && lock(&self.known).get(id).is_some_and(|a| a.contains(&address))
    }
}

/// Counts one failure; beyond `free`, the delay doubles with each. Returns the count before
/// and after.
fn bump<K: Eq + Hash>(
    map: &mut HashMap<K, Count>,
    key: K,
    free: u32,
    config: &ThrottleConfig,
    now: Timestamp,
) -> (Count, Count) {
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
    let before = *count;
    count.failures = count.failures.saturating_add(1);
    count.last = now;
    if count.failures > free {
        let doublings = (count.failures - free - 1).min(30);
        let delay = config.first_delay.saturating_mul(1 << doublings).min(config.max_delay);
        count.blocked_until = now.saturating_add(delay);
    }
    (before, *count)
}

/// Takes back one counted failure: the count as it was, if nothing counted since; otherwise
/// one failure fewer.
fn take_back<K: Eq + Hash>(map: &mut HashMap<K, Count>, key: &K, (before, after): (Count, Count)) {
    if let Some(count) = map.get_mut(key) {
        if *count == after {
            *count = before;
        } else {
            count.failures = count.failures.saturating_sub(1);
        }
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

    /// A failed attempt: begun and left counted.
    fn fail(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) {
        drop(throttle.begin(account, address, now).expect("not limited"));
    }

    fn wait(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) -> i64 {
        match throttle.begin(account, address, now) {
            Ok(attempt) => {
                // Only looking: a success leaves the counts as they were.
                throttle.succeeded(attempt);
                0
            }
            Err(wait) => wait,
        }
    }

    #[test]
    fn delays_grow_per_account_and_address() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let now = 1_000;
        for _ in 0..5 {
            fail(&throttle, &user("u"), ip(1), now);
        }
        fail(&throttle, &user("u"), ip(1), now);
        assert_eq!(wait(&throttle, &user("u"), ip(1), now), 1, "five are free");
        fail(&throttle, &user("u"), ip(1), now + 1);
        assert_eq!(wait(&throttle, &user("u"), ip(1), now + 1), 2, "it doubles");
        assert_eq!(wait(&throttle, &user("u"), ip(2), now + 1), 0, "not from another address");
    }

    #[test]
    fn concurrent_attempts_are_counted_before_they_end() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        // Sixty guesses at once, none finished: only the free ones and one more may begin.
        let begun: Vec<_> =
            (0..60).filter_map(|_| throttle.begin(&user("u"), ip(1), 1_000).ok()).collect();
        assert_eq!(begun.len(), 6);
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        for n in 0..49 {
            fail(&throttle, &Account::Unknown(format!("x{n}").into()), ip(1), 1_000);
        }
        let attempt = throttle.begin(&user("u"), ip(1), 1_000).unwrap();
        throttle.succeeded(attempt);
        // The address has 49 failures, not 50: one more is still free.
        fail(&throttle, &user("v"), ip(1), 1_000);
        assert_eq!(wait(&throttle, &user("w"), ip(1), 1_000), 0);
        fail(&throttle, &user("w"), ip(1), 1_000);
        assert!(wait(&throttle, &user("w"), ip(1), 1_000) > 0);
    }

    #[test]
    fn the_owner_is_not_locked_out_by_failures_elsewhere() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        throttle.succeeded(throttle.begin(&user("u"), ip(1), 1_000).unwrap());
        for n in 0..40 {
            let _ = throttle.begin(&user("u"), ip(100 + (n % 8) as u8), 1_000);
        }
        assert!(wait(&throttle, &user("u"), ip(50), 1_000) > 0, "a new address is slowed");
        assert_eq!(wait(&throttle, &user("u"), ip(1), 1_000), 0, "the owner's is not");
    }

    #[test]
    fn names_nobody_has_are_limited_alike_and_do_not_carry_over() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let unknown = Account::Unknown("bob".into());
        for n in 0..40 {
            let _ = throttle.begin(&unknown, ip(100 + (n % 8) as u8), 1_000);
            let _ = throttle.begin(&user("ann"), ip(100 + (n % 8) as u8), 1_000);
        }
        // From a fresh address, an unknown name and a user are limited the same.
        assert!(wait(&throttle, &unknown, ip(50), 1_000) > 0);
        assert!(wait(&throttle, &user("ann"), ip(50), 1_000) > 0);
        // The user who later takes the name starts afresh.
        assert_eq!(wait(&throttle, &user("bob's new id"), ip(100), 1_000), 0);
        assert_eq!(wait(&throttle, &user("bob's new id"), ip(50), 1_000), 0);
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        for n in 0..6u16 {
            let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, n, 0, 0, 9));
            fail(&throttle, &user("u"), rotated, 1_000);
        }
        assert!(wait(&throttle, &user("u"), a, 1_000) > 0, "one /64");
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(wait(&throttle, &user("u"), other, 1_000), 0, "another /64");
        for _ in 0..6 {
            fail(&throttle, &user("v"), ip(9), 1_000);
        }
        let mapped: IpAddr = "::ffff:10.0.0.9".parse().unwrap();
        assert!(wait(&throttle, &user("v"), mapped, 1_000) > 0);
    }

    #[test]
    fn idle_counts_are_forgotten_and_memory_is_bounded() {
        let config = ThrottleConfig { capacity: 10, ..ThrottleConfig::default() };
        let throttle = LoginThrottle::new(config);
        for n in 0..6 {
            fail(&throttle, &user("u"), ip(1), 1_000 + n);
        }
        assert!(wait(&throttle, &user("u"), ip(1), 1_005) > 0);
        assert_eq!(wait(&throttle, &user("u"), ip(1), 1_006 + 3_600), 0, "begun afresh");
        for n in 0..100 {
            fail(
                &throttle,
                &Account::Unknown(format!("n{n}").into()),
                ip(2),
                10_000 + i64::from(n) * 4_000,
            );
        }
        assert!(lock(&throttle.pairs).len() <= 10);
        assert!(lock(&throttle.accounts).len() <= 10);
    }
}
