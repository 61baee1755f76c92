//! Logging in: a name and a password checked against the users, throttled per account and
//! client address, with the same answer (and, within noise, the same time) for an unknown
//! user and a wrong password.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Accounts;
use crate::credentials::password::{PasswordError, Verified};
use crate::credentials::throttle::{Account, Attempt, Refused, UNKNOWN_ADDRESS};
use crate::credentials::user::name::normalize;
use crate::credentials::user::{UserEntry, UserError};
use crate::store::UserRecord;

/// Why a login failed. Whatever was wrong (no such user, a wrong password, a disabled user),
/// it is [`LoginError::Invalid`]: the answer does not say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The name and password do not match an enabled user.
    #[error("invalid user name or password")]
    Invalid,
    /// Too many failures: try again in this many seconds.
    #[error("too many failed logins; try again in {retry_after} s")]
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// Too many passwords are being checked.
    #[error("too many logins at once; try again shortly")]
    Busy,
    /// The database cannot be reached, so the attempt could not be counted (the cause was
    /// logged): try again shortly.
    #[error("logins cannot be checked now; try again shortly")]
    Unavailable,
    /// The check itself failed (the cause was logged).
    #[error("the login could not be checked")]
    Failed,
}

impl Accounts {
    /// Checks a name and password, throttled per account and client address. An unknown
    /// user is checked against a dummy hash, so the answer takes as long as for a wrong
    /// password; a hash with weaker parameters than today's is replaced on success.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Arc<UserEntry>, LoginError> {
        let now = self.clock.now();
        let normalized = normalize(name).ok();
        let user = normalized.as_deref().and_then(|n| self.users.by_name(n));
        let account = match &user {
            Some(user) => Account::User(user.user_id().into()),
            None => Account::unknown(normalized),
        };
        if client.is_none() && !self.told_no_address.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "a login without the client's address: all such logins share one address's \
                 throttling; serve with connect info (`into_make_service_with_connect_info`)"
            );
        }
        let address = client.unwrap_or(UNKNOWN_ADDRESS);
        let stored = user.as_ref().map(|u| u.password_hash());
        let (verified, attempt) = self.check(&account, address, password, stored, now).await?;
        // The check may have waited behind others: it counts only if the user is still the
        // one checked (same password, same generation) and enabled.
        let current = user.as_ref().and_then(|u| self.users.get(u.user_id()));
        match (user, current) {
            (Some(checked), Some(current))
                if verified.matches
                    && current.is_enabled()
                    && current.generation() == checked.generation()
                    && current.password_hash() == checked.password_hash() =>
            {
                if let Err(error) = self.throttle.succeeded(attempt, now).await {
                    tracing::warn!(%error, "a successful login stays counted as a failure");
                }
                if verified.rehash {
                    self.rehash(&current, password).await;
                }
                Ok(self
                    .users
                    .get(current.user_id())
                    .filter(|now| now.generation() == current.generation())
                    .unwrap_or(current))
            }
            // The attempt stays counted as a failure.
            _ => Err(LoginError::Invalid),
        }
    }

    /// Checks a presented admin secret with `matches`, throttled as logins are but per
    /// client address only (a count for everybody would let anyone lock the administrators
    /// out): wrong secrets count as failed logins, and while an address is held back every
    /// attempt from it waits, the right secret too, so that waiting reveals nothing. A right
    /// one counts for nothing, so concurrent requests of an administrator are not held back.
    pub async fn check_admin_secret(
        &self,
        client: Option<IpAddr>,
        matches: impl FnOnce() -> bool,
    ) -> Result<(), LoginError> {
        // A name no user can have (it starts with a space), and that any store can keep.
        let account = Account::unknown(Some(" admin secret".into()));
        let address = client.unwrap_or(UNKNOWN_ADDRESS);
        let now = self.clock.now();
        let unavailable = |error: &dyn std::fmt::Display| {
            tracing::error!(%error, "an admin secret could not be checked against its throttle");
            LoginError::Unavailable
        };
        let retry_after = self
            .throttle
            .waiting_per_address(&account, address, now)
            .await
            .map_err(|e| unavailable(&e))?;
        if retry_after > 0 {
            return Err(LoginError::Throttled { retry_after });
        }
        if matches() {
            return Ok(());
        }
        match self.throttle.begin_per_address(&account, address, now).await {
            Ok(attempt) => drop(attempt), // a failure, and it stays counted
            Err(Refused::Wait(retry_after)) => return Err(LoginError::Throttled { retry_after }),
            Err(error) => return Err(unavailable(&error)),
        }
        Err(LoginError::Invalid)
    }

    /// Whether `password` is the user's, checked as a login is (throttled, on the hashing
    /// pool), whether the user is enabled or not: what an administrator asks with
    /// `guard user verify-password`. A wrong one counts as a failed login; a right one counts
    /// for nothing (it is no login: the failures so far stay, and the address asking does
    /// not become one the user logs in from).
    pub async fn verify_password(
        &self,
        user: &UserEntry,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<bool, LoginError> {
        let now = self.clock.now();
        let account = Account::User(user.user_id().into());
        let address = client.unwrap_or(UNKNOWN_ADDRESS);
        let stored = Some(user.password_hash());
        let (verified, attempt) = self.check(&account, address, password, stored, now).await?;
        if verified.matches
            && let Err(error) = self.throttle.abandoned(attempt).await
        {
            tracing::warn!(%error, "a right password stays counted as a failure");
        }
        Ok(verified.matches)
    }

    /// Checks a password against `stored` (a dummy for a name nobody has) for `account`:
    /// a place on the hashing pool first (a check refused for being one too many is neither
    /// counted nor costs the store a write), then the attempt counted, then the hash. The
    /// attempt stays counted unless the caller declares it a success.
    async fn check(
        &self,
        account: &Account,
        address: IpAddr,
        password: &str,
        stored: Option<&str>,
        now: i64,
    ) -> Result<(Verified, Attempt), LoginError> {
        let admission = self.passwords.admit().map_err(|_| LoginError::Busy)?;
        let attempt = match self.throttle.begin(account, address, now).await {
            Ok(attempt) => attempt,
            Err(Refused::Wait(retry_after)) => return Err(LoginError::Throttled { retry_after }),
            Err(error) => {
                tracing::error!(%error, "a login could not be counted; refused");
                return Err(LoginError::Unavailable);
            }
        };
        match self.passwords.verify_admitted(admission, password, stored).await {
            Ok(verified) => Ok((verified, attempt)),
            Err(error) => {
                if let Err(store) = self.throttle.abandoned(attempt).await {
                    tracing::warn!(error = %store, "an abandoned login stays counted");
                }
                Err(match error {
                    PasswordError::Busy => LoginError::Busy,
                    other => {
                        tracing::error!(error = %other, "a password could not be checked");
                        LoginError::Failed
                    }
                })
            }
        }
    }

    /// Replaces a weak stored hash with one of today's parameters, unless the user changed
    /// meanwhile (an administrator's change is never undone); a failure is logged only.
    async fn rehash(&self, user: &UserEntry, password: &str) {
        let updated = async {
            let hash = self.passwords.hash(password).await?;
            let expected = self.users.record(user.user_id())?;
            if expected.password != user.password_hash() {
                return Err(UserError::Changed);
            }
            let record = UserRecord { password: hash, ..expected.clone() };
            self.users.update(expected, record).await?;
            self.written(user.user_id()).await
        };
        match updated.await {
            Ok(_) => tracing::info!(user = user.user_id(), "a weak password hash was replaced"),
            Err(UserError::Changed) => {
                tracing::info!(user = user.user_id(), "the user changed; its hash is left as is");
            }
            Err(error) => tracing::warn!(%error, "a weak password hash could not be replaced"),
        }
    }
}
