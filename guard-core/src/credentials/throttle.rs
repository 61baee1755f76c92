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
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::RedbStore;

    /// A throttle counting in a fresh redb file (kept in `.1` for as long as the throttle).
    fn throttle(config: ThrottleConfig) -> (LoginThrottle, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(RedbStore::open(dir.path().join("t.redb")).unwrap());
        (LoginThrottle::new(config, store), dir)
    }

    fn begin(t: &LoginThrottle, account: &Account, address: IpAddr, now: i64) -> Option<Attempt> {
        match pollster::block_on(t.begin(account, address, now)) {
            Ok(attempt) => Some(attempt),
            Err(Refused::Wait(_)) => None,
            Err(other) => panic!("{other}"),
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn user(id: &str) -> Account {
        Account::User(id.into())
    }

    /// A failed attempt: begun and left counted.
    fn fail(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) {
        drop(begin(throttle, account, address, now).expect("not limited"));
    }

    fn wait(throttle: &LoginThrottle, account: &Account, address: IpAddr, now: i64) -> i64 {
        match pollster::block_on(throttle.begin(account, address, now)) {
            Ok(attempt) => {
                // Only looking: a success leaves the counts as they were.
                pollster::block_on(throttle.succeeded(attempt, now)).unwrap();
                0
            }
            Err(Refused::Wait(wait)) => wait,
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn delays_grow_per_account_and_address() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        let now = 1_000;
        for _ in 0..4 {
            fail(&throttle, &user("u"), ip(1), now);
        }
        fail(&throttle, &user("u"), ip(1), now);
        assert_eq!(wait(&throttle, &user("u"), ip(1), now), 1, "five are free, the sixth waits");
        fail(&throttle, &user("u"), ip(1), now + 1);
        assert_eq!(wait(&throttle, &user("u"), ip(1), now + 1), 2, "it doubles");
        assert_eq!(wait(&throttle, &user("u"), ip(2), now + 1), 0, "not from another address");
    }

    #[test]
    fn concurrent_attempts_are_counted_before_they_end() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        // Sixty guesses at once, none finished: only the five free ones may begin.
        let u = user("u");
        let guesses = (0..60).map(|_| throttle.begin(&u, ip(1), 1_000));
        let answers = pollster::block_on(crate::store::conformance::join_all(guesses));
        let begun = answers.into_iter().filter(Result::is_ok).count();
        assert_eq!(begun, 5);
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        for n in 0..48 {
            fail(&throttle, &Account::Unknown(format!("x{n}").into()), ip(1), 1_000);
        }
        let attempt = begin(&throttle, &user("u"), ip(1), 1_000).unwrap();
        pollster::block_on(throttle.succeeded(attempt, 1_000)).unwrap();
        // The address has 48 failures, not 49: two more are still free.
        fail(&throttle, &user("v"), ip(1), 1_000);
        assert_eq!(wait(&throttle, &user("w"), ip(1), 1_000), 0);
        fail(&throttle, &user("w"), ip(1), 1_000);
        assert!(wait(&throttle, &user("w"), ip(1), 1_000) > 0);
    }

    #[test]
    fn the_owner_is_not_locked_out_by_failures_elsewhere() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        let attempt = begin(&throttle, &user("u"), ip(1), 1_000).unwrap();
        pollster::block_on(throttle.succeeded(attempt, 1_000)).unwrap();
        for n in 0..40 {
            let _ = begin(&throttle, &user("u"), ip(100 + (n % 8) as u8), 1_000);
        }
        assert!(wait(&throttle, &user("u"), ip(50), 1_000) > 0, "a new address is slowed");
        assert_eq!(wait(&throttle, &user("u"), ip(1), 1_000), 0, "the owner's is not");
    }

    #[test]
    fn names_nobody_has_are_limited_alike_and_do_not_carry_over() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        let unknown = Account::Unknown("bob".into());
        for n in 0..40 {
            let _ = begin(&throttle, &unknown, ip(100 + (n % 8) as u8), 1_000);
            let _ = begin(&throttle, &user("ann"), ip(100 + (n % 8) as u8), 1_000);
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
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        for n in 0..5u16 {
            let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, n, 0, 0, 9));
            fail(&throttle, &user("u"), rotated, 1_000);
        }
        assert!(wait(&throttle, &user("u"), a, 1_000) > 0, "one /64");
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(wait(&throttle, &user("u"), other, 1_000), 0, "another /64");
        for _ in 0..5 {
            fail(&throttle, &user("v"), ip(9), 1_000);
        }
        let mapped: IpAddr = "::ffff:10.0.0.9".parse().unwrap();
        assert!(wait(&throttle, &user("v"), mapped, 1_000) > 0);
    }

    #[test]
    fn idle_counts_start_afresh_and_are_pruned() {
        let (throttle, _dir) = throttle(ThrottleConfig::default());
        for n in 0..5 {
            fail(&throttle, &user("u"), ip(1), 1_000 + n);
        }
        assert!(wait(&throttle, &user("u"), ip(1), 1_004) > 0);
        assert_eq!(wait(&throttle, &user("u"), ip(1), 1_006 + 3_600), 0, "begun afresh");
        for n in 0..10 {
            fail(&throttle, &Account::unknown(Some(format!("n{n}").into())), ip(2), 2_000);
        }
        // What u left at 1_004 (its address's and its account's counts) is idle first; then
        // the names': two counts each (pair and account) and their address's, one for all.
        assert_eq!(pollster::block_on(throttle.prune(2_000 + 3_599)).unwrap(), 2);
        assert_eq!(pollster::block_on(throttle.prune(2_000 + 3_601)).unwrap(), 21);
    }
}
