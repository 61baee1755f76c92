//! People: users, the sessions and tokens issued to them, the keys they own, and the rules
//! that tie them together. Disabling or deleting a user ends everything issued to it and its
//! keys at once; changing a user's roles takes them from its keys; logging in is throttled
//! and answers alike for an unknown user and a wrong password.

mod login;
mod register;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use compact_str::CompactString;

use crate::clock::Clock;
use crate::credentials::api_key::{KeyError, KeyRing, KeyState};
use crate::credentials::issued::IssuedRing;
use crate::credentials::password::{Passwords, check_length};
use crate::credentials::throttle::LoginThrottle;
use crate::credentials::user::name::normalize;
use crate::credentials::user::{NewUser, UserDirectory, UserEntry, UserError, UserInfo, UserPatch};
use crate::random;
use crate::store::{StoreError, UserRecord};

pub use self::login::LoginError;
pub use self::register::RegisterError;

/// Users and what they hold.
pub struct Accounts {
    users: Arc<UserDirectory>,
    issued: Arc<IssuedRing>,
    keys: Arc<KeyRing>,
    passwords: Arc<Passwords>,
    throttle: LoginThrottle,
    clock: Arc<dyn Clock>,
    /// Whether a login without the client's address was logged about, once.
    told_no_address: AtomicBool,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("users", &self.users.len()).finish_non_exhaustive()
    }
}

impl Accounts {
    /// Ties users, issued credentials, keys, password hashing and throttling together.
    pub(crate) fn new(
        users: Arc<UserDirectory>,
        issued: Arc<IssuedRing>,
        keys: Arc<KeyRing>,
        passwords: Arc<Passwords>,
        throttle: LoginThrottle,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let told_no_address = AtomicBool::new(false);
        Accounts { users, issued, keys, passwords, throttle, clock, told_no_address }
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

    /// Applies what changed in the store since the users, sessions and tokens last looked
    /// (another instance's writes): users first, so that what was issued to a changed user
    /// stands for the user as they are now.
    pub(crate) async fn sync(&self) -> Result<(), StoreError> {
        for id in self.users.sync().await? {
            self.issued.refresh_user(&id);
        }
        self.issued.sync().await
    }

    /// Takes in a write just made to user `id` through the directory, with whatever else
    /// changed (another instance's writes it meets on the way): the user as it is now, and
    /// what was issued to users standing for them as they are.
    async fn written(&self, id: &str) -> Result<Arc<UserEntry>, UserError> {
        self.sync().await?;
        self.issued.refresh_user(id);
        self.users.get(id).ok_or(UserError::NotFound)
    }

    /// Drops expired sessions and tokens, forgets idle login failures, and finishes what an
    /// interrupted change of a user left undone; what the maintenance thread does every
    /// minute.
    pub(crate) async fn sweep(&self) -> Result<(u64, u64), StoreError> {
        self.finish_interrupted().await?;
        let expired = self.issued.sweep().await?;
        let forgotten = self.throttle.prune(self.clock.now()).await?;
        Ok((expired, forgotten))
    }

    fn validate_roles(&self, roles: Vec<String>) -> Result<Vec<CompactString>, UserError> {
        self.users.grants().policy().validate_roles(roles).map_err(UserError::UnknownRoles)
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
            rate_limit: new.rate_limit,
        };
        let id = record.id.clone();
        self.users.insert(record).await?;
        Ok(self.written(&id).await?.info())
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
        if let Some(rate_limit) = patch.rate_limit {
            record.rate_limit = rate_limit;
        }
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
        self.users.update(expected, record).await?;
        let user = self.written(id).await?;
        if disabling {
            self.end_everything(id, false).await?;
        } else if roles_changed {
            self.keys.trim_owned(id, &roles).await?;
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
        self.users.update(expected, record).await?;
        let user = self.written(id).await?;
        self.issued.end_user(id).await?;
        Ok(user.info())
    }

    /// Deletes a user, with its sessions, tokens and keys. The user goes first: if what
    /// follows is interrupted, nothing left works (a key needs its owner, a session its
    /// user), and what is left is removed when the guard opens and every minute.
    pub async fn delete_user(&self, id: &str) -> Result<(), UserError> {
        self.users.record(id)?;
        self.users.delete(id).await?;
        self.sync().await?;
        self.issued.refresh_user(id);
        self.end_everything(id, true).await?;
        Ok(())
    }

    /// Finishes what a change of a user left undone when it was interrupted between its
    /// writes (the store failed, the process stopped): the keys of a deleted user deleted,
    /// those of a disabled one revoked, the sessions and tokens of a deleted or disabled user,
    /// or of an older generation, ended. None of them works meanwhile; this makes the store
    /// say so. Each is checked against the store first, so that a user another instance has
    /// just made is never taken for a deleted one. Runs when the guard opens, and every
    /// minute.
    pub(crate) async fn finish_interrupted(&self) -> Result<(), StoreError> {
        for (key, owner) in self.keys.owned() {
            // Only keys whose owner this instance knows as gone or disabled are candidates: a
            // store read each, not one per owned key.
            let revoked = || self.keys.get(&key).is_ok_and(|k| k.state == KeyState::Revoked);
            match self.users.get(&owner) {
                Some(user) if user.is_enabled() => continue,
                Some(_) if revoked() => continue,
                _ => {}
            }
            let finished = match self.users.stored(owner.clone()).await? {
                None => self.keys.delete(&key).await.map(|()| true),
                Some(user) if user.disabled => match self.keys.get(&key) {
                    Ok(info) if info.state != KeyState::Revoked => {
                        self.keys.revoke(&key).await.map(|_| true)
                    }
                    _ => Ok(false),
                },
                Some(_) => Ok(false),
            };
            match finished {
                Ok(true) => {
                    tracing::info!(key, owner, "revoked or deleted a key its owner's change left")
                }
                Ok(false) | Err(KeyError::NotFound) => {}
                Err(KeyError::Store(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, key, "a key its owner's change left could not be ended")
                }
            }
        }
        for (id, user, generation) in self.issued.without_user() {
            let dead = match self.users.stored(user.clone()).await? {
                None => true,
                Some(user) => user.disabled || user.generation != generation,
            };
            if dead && self.issued.end(&id).await? {
                tracing::info!(user, "ended a session or token its user's change left");
            }
        }
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
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

    use super::*;
    use crate::assembly::{Core, Settings, StoreChoice};
    use crate::authz::{PolicySpec, RoleSpec};
    use crate::credentials::issued::IssuedKind;
    use crate::store::{RedbStore, SharedStore, UserRecord};

    static SPEC: PolicySpec = PolicySpec::new(3, &["read"], &[RoleSpec::new("reader", &[], &[0])]);

    #[test]
    fn a_weak_stored_hash_is_replaced_at_the_next_successful_login() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(&SPEC);
        let store: SharedStore = Arc::new(RedbStore::open(dir.path().join("g.redb")).unwrap());
        settings.store = Some(StoreChoice::Shared(Arc::clone(&store)));
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
            rate_limit: None,
        };
        pollster::block_on(store.insert_user(record)).unwrap();
        let accounts = core.accounts();
        pollster::block_on(accounts.users().sync()).unwrap();

        let wrong = pollster::block_on(accounts.login("old", "wrong horse battery", None));
        assert_eq!(wrong.unwrap_err(), LoginError::Invalid);
        let stored = || pollster::block_on(store.get_user("AAAAAAAAAAAA".into())).unwrap().unwrap();
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
        let accounts = core.accounts();
        let new = NewUser {
            name: "ann".into(),
            password: "correct horse battery".into(),
            roles: vec!["reader".into()],
            rate_limit: None,
        };
        let id = pollster::block_on(accounts.create_user(new)).unwrap().id;
        // A login checked the old password; the password changes before its session is
        // issued: the session is born ended.
        let checked =
            pollster::block_on(accounts.login("ann", "correct horse battery", None)).unwrap();
        pollster::block_on(accounts.set_password(&id, "another horse battery")).unwrap();
        let issued = accounts.issued();
        let (late, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &checked, core.clock().now()))
                .unwrap();
        let verify = |secret: &str| {
            issued.verify(IssuedKind::Session, secret.as_bytes(), core.clock().now()).is_ok()
        };
        assert!(!verify(late.expose()));
        // Disabled and enabled again: what came before stays ended; a new login works.
        let current =
            pollster::block_on(accounts.login("ann", "another horse battery", None)).unwrap();
        let (before, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &current, core.clock().now()))
                .unwrap();
        assert!(verify(before.expose()));
        let patch = |disabled| UserPatch { disabled: Some(disabled), ..UserPatch::default() };
        pollster::block_on(accounts.patch_user(&id, patch(true))).unwrap();
        pollster::block_on(accounts.patch_user(&id, patch(false))).unwrap();
        assert!(!verify(before.expose()));
        let again =
            pollster::block_on(accounts.login("ann", "another horse battery", None)).unwrap();
        let (after, _) =
            pollster::block_on(issued.issue(IssuedKind::Session, &again, core.clock().now()))
                .unwrap();
        assert!(verify(after.expose()));
        core.shutdown();
    }
}
