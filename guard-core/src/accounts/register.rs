//! Registering: a person creates their own account, where the application allows it.

use std::net::IpAddr;

use super::Accounts;
use crate::credentials::throttle::{Account, Refused, UNKNOWN_ADDRESS};
use crate::credentials::user::name::normalize;
use crate::credentials::user::{NewUser, UserError, UserInfo};
use crate::store::StoreError;

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Too many attempts from this address: try again in this many seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// The user could not be created: an invalid name or password, a taken name.
    #[error(transparent)]
    User(#[from] UserError),
    /// The attempt could not be counted.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Accounts {
    /// Creates an account for a person who asked for it themselves, with `roles` (those the
    /// application gives newcomers). Every attempt, whether it creates an account or not,
    /// counts against the client's address like a failed login: an address cannot create
    /// accounts, or ask which names are taken, without limit.
    pub async fn register(
        &self,
        name: String,
        password: String,
        roles: Vec<String>,
        client: Option<IpAddr>,
    ) -> Result<UserInfo, RegisterError> {
        let now = self.clock.now();
        // Counted under the name asked for: never a user's account, so nobody's own logins
        // are slowed by it.
        let account = Account::unknown(normalize(&name).ok());
        let address = client.unwrap_or(UNKNOWN_ADDRESS);
        let _attempt = match self.throttle.begin(&account, address, now).await {
            Ok(attempt) => attempt,
            Err(Refused::Wait(retry_after)) => {
                return Err(RegisterError::Throttled { retry_after });
            }
            Err(Refused::Store(error)) => return Err(error.into()),
        };
        Ok(self.create_user(NewUser { name, password, roles, rate_limit: None }).await?)
    }
}
