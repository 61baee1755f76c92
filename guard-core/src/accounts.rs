//! People: users, the sessions and tokens issued to them, the keys they own, and the rules
//! that tie them together. Disabling or deleting a user ends everything issued to it and its
//! keys at once; changing a user's roles takes them from its keys; logging in is throttled
//! and answers alike for an unknown user and a wrong password.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use compact_str::CompactString;

use crate::authz::Grants;
use crate::clock::Clock;
use crate::credentials::api_key::{KeyError, KeyRing};
use crate::credentials::issued::IssuedRing;
use crate::credentials::password::{PasswordError, Passwords, check_length};
use crate::credentials::throttle::{Account, LoginThrottle, UNKNOWN_ADDRESS};
use crate::credentials::user::name::normalize;
use crate::credentials::user::{NewUser, UserDirectory, UserEntry, UserError, UserInfo, UserPatch};
use crate::random;
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
    /// The check itself failed (the cause was logged).
    #[error("the login could not be checked")]
    Failed,
}

/// Users and what they hold.
pub struct Accounts {
    users: Arc<UserDirectory>,
    issued: Arc<IssuedRing>,
    keys: Arc<KeyRing>,
    passwords: Arc<Passwords>,
    throttle: LoginThrottle,
    grants: Arc<Grants>,
    clock: Arc<dyn Clock>,
    /// Whether a login without the client's address was logged about, once.
    told_no_address: AtomicBool,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("users", &self.users.len()).finish_non_exhaustive()
    }
}

fn keys_failed(error: KeyError) -> UserError {
    match error {
        KeyError::Store(store) => UserError::Store(store),
        other => UserError::Store(crate::store::StoreError::Damaged(other.to_string())),
    }
}

impl Accounts {
    /// Ties users, issued credentials, keys, password hashing and throttling together.
    pub fn new(
        users: Arc<UserDirectory>,
        issued: Arc<IssuedRing>,
        keys: Arc<KeyRing>,
        passwords: Arc<Passwords>,
        throttle: LoginThrottle,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let grants = Arc::new(Grants::new(Arc::clone(users.grants().policy())));
        let told_no_address = AtomicBool::new(false);
        Accounts { users, issued, keys, passwords, throttle, grants, clock, told_no_address }
    }

    /// The users.
    pub fn users(&self) -> &Arc<UserDirectory> {
        &self.users
    }

    /// Sessions and tokens.
    pub fn issued(&self) -> &Arc<IssuedRing> {
        &self.issued
    }

    /// Password hashing.
    pub fn passwords(&self) -> &Arc<Passwords> {
        &self.passwords
    }

    fn validate_roles(&self, roles: Vec<String>) -> Result<Vec<CompactString>, UserError> {
        let policy = self.grants.policy();
        let unknown: Vec<String> = roles.iter().filter(|r| !policy.has_role(r)).cloned().collect();
        if !unknown.is_empty() {
            return Err(UserError::UnknownRoles(unknown));
        }
        let mut unique: Vec<CompactString> = Vec::with_capacity(roles.len());
        for role in roles {
            if !unique.iter().any(|r| r == role.as_str()) {
                unique.push(role.into());
            }
        }
        Ok(unique)
    }

    /// Creates a user, durably. The name and password are checked before anything is hashed.
    pub async fn create_user(&self, new: NewUser) -> Result<UserInfo, UserError> {
        let normalized = normalize(&new.name)?;
        check_length(&new.password)?;
        let roles = self.validate_roles(new.roles)?;
        if self.users.by_name(&normalized).is_some() {
            return Err(UserError::NameTaken);
        }
        let password = self.passwords.hash(&new.password).await?;
        let now = self.clock.now();
        let record = UserRecord {
            id: random::base62(12)?.into(),
            name: new.name.into(),
            normalized,
            password,
            roles,
            disabled: false,
            created_at: now,
            updated_at: now,
            generation: 0,
        };
        Ok(self.users.insert(record).await?.info())
    }

    /// Changes a user's name, roles or state. Disabling ends its sessions and tokens and
    /// revokes its keys; fewer roles are taken from its keys too.
    pub async fn patch_user(&self, id: &str, patch: UserPatch) -> Result<UserInfo, UserError> {
        let expected = self.users.record(id)?;
        let mut record = expected.clone();
        if let Some(name) = &patch.name {
            record.normalized = normalize(name)?;
            record.name = name.as_str().into();
        }
        let roles_changed = match patch.roles {
            Some(roles) => {
                record.roles = self.validate_roles(roles)?;
                true
            }
            None => false,
        };
        let disabling = patch.disabled == Some(true) && !record.disabled;
        if let Some(disabled) = patch.disabled {
            record.disabled = disabled;
        }
        if disabling {
            // What was issued before stays ended if the user is enabled again.
            record.generation = record.generation.wrapping_add(1);
        }
        record.updated_at = self.clock.now();
        let roles = record.roles.clone();
        let user = self.users.update(expected, record).await?;
        self.issued.refresh_user(id);
        if disabling {
            self.end_everything(id, false).await?;
        } else if roles_changed {
            self.keys.trim_owned(id, &roles).await.map_err(keys_failed)?;
        }
        Ok(user.info())
    }

    /// Sets a user's password; every session, token and JWT of the user ends.
    pub async fn set_password(&self, id: &str, password: &str) -> Result<UserInfo, UserError> {
        self.users.record(id)?; // an unknown user is a 404 before any hashing
        let hash = self.passwords.hash(password).await?;
        let expected = self.users.record(id)?;
        let mut record = expected.clone();
        record.password = hash;
        record.generation = record.generation.wrapping_add(1);
        record.updated_at = self.clock.now();
        let user = self.users.update(expected, record).await?;
        self.issued.refresh_user(id);
        self.issued.end_user(id).await?;
        Ok(user.info())
    }

    /// Deletes a user, with its sessions, tokens and keys.
    pub async fn delete_user(&self, id: &str) -> Result<(), UserError> {
        self.users.record(id)?;
        self.end_everything(id, true).await?;
        self.users.delete(id).await?;
        self.issued.refresh_user(id);
        Ok(())
    }

    /// Ends a user's sessions and tokens, and revokes (or deletes) its keys.
    async fn end_everything(&self, id: &str, delete_keys: bool) -> Result<(), UserError> {
        self.issued.end_user(id).await?;
        for key in self.keys.owned_by(id) {
            let ended = if delete_keys {
                self.keys.delete(&key).await.map(|_| ())
            } else {
                self.keys.revoke(&key).await.map(|_| ())
            };
            match ended {
                Ok(()) | Err(KeyError::NotFound) => {}
                Err(error) => return Err(keys_failed(error)),
            }
        }
        Ok(())
    }

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
        let account = match (&user, &normalized) {
            (Some(user), _) => Account::User(user.user_id().into()),
            (None, Some(name)) => Account::Unknown(name.clone()),
            // Not even a possible name: counted under a fixed placeholder, never a user's.
            (None, None) => Account::Unknown("\u{0}invalid".into()),
        };
        if client.is_none() && !self.told_no_address.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "a login without the client's address: all such logins share one address's \
                 throttling; serve with connect info (`into_make_service_with_connect_info`)"
            );
        }
        let address = client.unwrap_or(UNKNOWN_ADDRESS);
        let attempt = self
            .throttle
            .begin(&account, address, now)
            .map_err(|retry_after| LoginError::Throttled { retry_after })?;
        let verified =
            match self.passwords.verify(password, user.as_ref().map(|u| u.password_hash())).await {
                Ok(verified) => verified,
                Err(error) => {
                    self.throttle.abandoned(attempt);
                    return Err(match error {
                        PasswordError::Busy => LoginError::Busy,
                        other => {
                            tracing::error!(error = %other, "a password could not be checked");
                            LoginError::Failed
                        }
                    });
                }
            };
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
                self.throttle.succeeded(attempt);
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
            self.users.update(expected, record).await
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

#[cfg(test)]
mod tests {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

    use super::*;
    use crate::assembly::{Core, Settings, StoreChoice};
    use crate::authz::{PolicySpec, RoleSpec};
    use crate::store::{IssuedKind, UserRecord};

    static SPEC: PolicySpec = PolicySpec::new(3, &["read"], &[RoleSpec::new("reader", &[], &[0])]);

    #[test]
    fn a_weak_stored_hash_is_replaced_at_the_next_successful_login() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(&SPEC);
        settings.store = Some(StoreChoice::File(dir.path().join("g.redb")));
        settings.admin_secret = Some("a-test-admin-secret".into());
        let core = Core::open(settings).unwrap().core;
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
        let record = UserRecord {
            id: "AAAAAAAAAAAA".into(),
            name: "Old".into(),
            normalized: "old".into(),
            password: weak.clone(),
            roles: vec!["reader".into()],
            disabled: false,
            created_at: 1,
            updated_at: 1,
            generation: 0,
        };
        pollster::block_on(core.store.insert_user(record)).unwrap();
        let accounts = &core.accounts;
        pollster::block_on(accounts.users().sync()).unwrap();

        let wrong = pollster::block_on(accounts.login("old", "wrong horse battery", None));
        assert_eq!(wrong.unwrap_err(), LoginError::Invalid);
        let stored =
            || pollster::block_on(core.store.get_user("AAAAAAAAAAAA".into())).unwrap().unwrap();
        assert_eq!(stored().password, weak, "a failed login changes nothing");

        let user =
            pollster::block_on(accounts.login("OLD", "correct horse battery", None)).unwrap();
        assert_eq!(user.user_id(), "AAAAAAAAAAAA");
        let upgraded = stored().password;
        assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
        assert!(
            pollster::block_on(accounts.login("old", "correct horse battery", None)).is_ok(),
            "still the same password"
        );
        core.shutdown();
    }

    #[test]
    fn what_is_issued_for_a_user_of_an_earlier_generation_never_works() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(&SPEC);
        settings.store = Some(StoreChoice::File(dir.path().join("g.redb")));
        settings.admin_secret = Some("a-test-admin-secret".into());
        let core = Core::open(settings).unwrap().core;
        let accounts = &core.accounts;
        let new = NewUser {
            name: "ann".into(),
            password: "correct horse battery".into(),
            roles: vec!["reader".into()],
        };
        let id = pollster::block_on(accounts.create_user(new)).unwrap().id;
        // A login checked the old password; the password changes before its session is
        // issued: the session is born ended.
        let checked =
            pollster::block_on(accounts.login("ann", "correct horse battery", None)).unwrap();
        pollster::block_on(accounts.set_password(&id, "another horse battery")).unwrap();
        let issued = accounts.issued();
        let (late, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &checked, core.clock.now()))
                .unwrap();
        let verify = |secret: &str| {
            issued.verify(IssuedKind::Session, secret.as_bytes(), core.clock.now()).is_ok()
        };
        assert!(!verify(late.expose()));
        // Disabled and enabled again: what came before stays ended; a new login works.
        let current =
            pollster::block_on(accounts.login("ann", "another horse battery", None)).unwrap();
        let (before, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &current, core.clock.now()))
                .unwrap();
        assert!(verify(before.expose()));
        let patch = |disabled| UserPatch { disabled: Some(disabled), ..UserPatch::default() };
        pollster::block_on(accounts.patch_user(&id, patch(true))).unwrap();
        pollster::block_on(accounts.patch_user(&id, patch(false))).unwrap();
        assert!(!verify(before.expose()));
        let again =
            pollster::block_on(accounts.login("ann", "another horse battery", None)).unwrap();
        let (after, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &again, core.clock.now()))
                .unwrap();
        assert!(verify(after.expose()));
        core.shutdown();
    }
}
