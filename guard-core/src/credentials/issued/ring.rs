//! [`IssuedRing`]: sessions and bearer tokens in memory, following the store like the key ring.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::entry::IssuedEntry;
use super::{IssuedInfo, IssuedKind, IssuedRejection};
use crate::authz::Principal;
use crate::clock::{Clock, Timestamp};
use crate::credentials::counters::load_counters;
use crate::credentials::format::{hash_for_nothing, hash_secret};
use crate::credentials::table::IdTable;
use crate::credentials::user::{UserDirectory, UserEntry};
use crate::random::RandomError;
use crate::secret::Secret;
use crate::store::{Follows, IssuedChange, IssuedRecord, SharedStore, StoreError, catch_up};

const PAGE: usize = 10_000;

/// A session or token [`IssuedRing::check`] found valid, not yet used.
#[must_use = "a checked credential admits nobody until it is accepted"]
pub struct Checked(Arc<IssuedEntry>);

impl Checked {
    /// Uses it at `now` (moving a session's idle deadline) and returns its principal.
    pub fn accept(self, now: Timestamp) -> Principal {
        self.0.seen(now);
        Principal::from_identity(self.0)
    }
}

/// How long sessions and tokens work, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetimes {
    /// A session ends after this long without a request (default 30 minutes).
    pub session_idle: i64,
    /// A session ends this long after login, however used (default 12 hours).
    pub session_absolute: i64,
    /// A bearer token ends this long after it was issued (default 1 hour).
    pub token: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes { session_idle: 30 * 60, session_absolute: 12 * 60 * 60, token: 60 * 60 }
    }
}

impl Lifetimes {
    /// Sets the idle timeout of sessions, in seconds (at least one).
    pub fn session_idle(mut self, seconds: i64) -> Self {
        self.session_idle = seconds.max(1);
        self
    }

    /// Sets the absolute lifetime of sessions, in seconds (at least one).
    pub fn session_absolute(mut self, seconds: i64) -> Self {
        self.session_absolute = seconds.max(1);
        self
    }

    /// Sets the lifetime of bearer tokens, in seconds (at least one).
    pub fn token(mut self, seconds: i64) -> Self {
        self.token = seconds.max(1);
        self
    }
}

#[derive(Default)]
struct Index {
    table: IdTable<IssuedEntry>,
    cursor: u64,
}

impl Follows for Index {
    fn cursor(&self) -> u64 {
        self.cursor
    }
    fn set_cursor(&mut self, seq: u64) {
        self.cursor = seq;
    }
}

/// The sessions and bearer tokens of one guard.
pub struct IssuedRing {
    store: SharedStore,
    clock: Arc<dyn Clock>,
    users: Arc<UserDirectory>,

    lifetimes: Lifetimes,
    index: RwLock<Index>,
}

impl std::fmt::Debug for IssuedRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedRing").field("lifetimes", &self.lifetimes).finish_non_exhaustive()
    }
}

/// Why a session or token could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// Randomness was unavailable.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IssuedRing {
    /// Loads every live session and token from `store`.
    pub(crate) async fn load(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        users: Arc<UserDirectory>,
        lifetimes: Lifetimes,
    ) -> Result<Self, StoreError> {
        let ring =
            IssuedRing { store, clock, users, lifetimes, index: RwLock::new(Index::default()) };
        ring.sync().await?;
        for kind in IssuedKind::ALL {
            load_counters(&ring.store, kind.credential_kind(), |id, counters| {
                if let Some(entry) = ring.get(id) {
                    entry.set_counters(counters);
                }
            })
            .await?;
        }
        Ok(ring)
    }

    /// Applies every change the store made since the ring last looked.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let fetch = |cursor| self.store.issued_changes(cursor, PAGE);
        catch_up(&self.index, fetch, |index, change| apply(index, change, &self.users)).await
    }

    /// The lifetimes in force.
    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    /// Verifies a presented session or token at `now`, from memory: the credential, its
    /// lifetime and idle timeout, and its user, who must still exist and be enabled.
    pub fn verify(
        &self,
        kind: IssuedKind,
        presented: &[u8],
        now: Timestamp,
    ) -> Result<Principal, IssuedRejection> {
        Ok(self.check(kind, presented, now)?.accept(now))
    }

    /// Checks a presented credential without counting it as used: an authenticator that may
    /// still refuse the request (a session cookie on a cross-site request) accepts it only
    /// once it admits the request, so that a refused request moves no idle deadline.
    pub fn check(
        &self,
        kind: IssuedKind,
        presented: &[u8],
        now: Timestamp,
    ) -> Result<Checked, IssuedRejection> {
        let entry = self.find(kind, presented)?;
        if !entry.is_live(now) {
            return Err(IssuedRejection::Expired);
        }
        if !entry.has_user() {
            return Err(IssuedRejection::UserGone);
        }
        Ok(Checked(entry))
    }

    /// The entry a presented credential names, if its secret is right.
    fn find(
        &self,
        kind: IssuedKind,
        presented: &[u8],
    ) -> Result<Arc<IssuedEntry>, IssuedRejection> {
        let parsed = kind.format().parse(presented).map_err(|_| IssuedRejection::Malformed)?;
        let Some(entry) = self.get(parsed.id).filter(|e| e.kind() == kind) else {
            hash_for_nothing(parsed.hashed);
            return Err(IssuedRejection::Unknown);
        };
        if !entry.hash_matches(&hash_secret(parsed.hashed)) {
            return Err(IssuedRejection::Unknown);
        }
        Ok(entry)
    }

    /// Issues a session or a token to `user`, who proved who they are at `authenticated_at`,
    /// durably; the plaintext is the only copy.
    pub async fn issue(
        &self,
        kind: IssuedKind,
        user: &UserEntry,
        authenticated_at: Timestamp,
    ) -> Result<(Secret, IssuedInfo), IssueError> {
        let now = self.clock.now();
        let generated = kind.format().generate()?;
        let (lifetime, idle_timeout) = match kind {
            IssuedKind::Session => {
                (self.lifetimes.session_absolute, Some(self.lifetimes.session_idle))
            }
            _ => (self.lifetimes.token, None),
        };
        let record = IssuedRecord {
            kind: kind.credential_kind(),
            id: generated.id.as_str().into(),
            hash: *generated.hash.as_bytes(),
            user_id: user.user_id().into(),
            user_generation: user.generation(),
            created_at: now,
            authenticated_at,
            expires_at: now.saturating_add(lifetime),
            idle_timeout,
            revoked: false,
            last_seen_at: None,
        };
        let info = IssuedInfo {
            id: generated.id,
            kind,
            user_id: record.user_id.to_string(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_seen_at: None,
        };
        self.store.insert_issued(record).await?;
        self.sync().await?;
        Ok((Secret::new(generated.plaintext), info))
    }

    /// The session or token with this id.
    pub fn get(&self, id: &str) -> Option<Arc<IssuedEntry>> {
        self.read().table.get(id.as_bytes()).cloned()
    }

    /// Ends (deletes) one, by id; `false` if there is none.
    pub async fn end(&self, id: &str) -> Result<bool, StoreError> {
        let ended = self.store.delete_issued(id.to_owned(), self.clock.now()).await?;
        self.sync().await?;
        Ok(ended)
    }

    /// Ends the credential presented, if it is a live one of `kind` (what logging out and
    /// revoking a token do); `false` if it named none. The secret must be right: nobody ends
    /// another's session by knowing its id.
    pub async fn end_presented(
        &self,
        kind: IssuedKind,
        presented: &[u8],
    ) -> Result<bool, StoreError> {
        match self.find(kind, presented) {
            Ok(entry) => self.end(entry.id_str()).await,
            Err(_) => Ok(false),
        }
    }

    /// Ends a user's sessions (its tokens stay); returns how many.
    pub async fn end_sessions_of(&self, user_id: &str) -> Result<u64, StoreError> {
        let mut ended = 0;
        for session in self.issued_to(user_id, Some(IssuedKind::Session)) {
            ended += u64::from(self.end(&session.id).await?);
        }
        Ok(ended)
    }

    /// Ends everything issued to a user; returns how many.
    pub async fn end_user(&self, user_id: &str) -> Result<u64, StoreError> {
        let ended = self.store.delete_issued_to(user_id.to_owned(), self.clock.now()).await?;
        self.sync().await?;
        Ok(ended)
    }

    /// What was issued to a user, live, newest first; of one kind, or both.
    pub fn issued_to(&self, user_id: &str, kind: Option<IssuedKind>) -> Vec<IssuedInfo> {
        let now = self.clock.now();
        let mut found: Vec<IssuedInfo> = self
            .read()
            .table
            .iter()
            .filter(|e| {
                e.user_id() == user_id && kind.is_none_or(|k| e.kind() == k) && e.is_live(now)
            })
            .map(|e| e.info())
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        found
    }

    /// The sessions and tokens that no longer stand for their user (deleted, disabled, or of
    /// an older generation), as (id, user id, generation): none works, and the writes that
    /// end them with their user may have been interrupted.
    pub(crate) fn without_user(&self) -> Vec<(String, String, u32)> {
        let index = self.read();
        let orphans = index.table.iter().filter(|e| !e.has_user());
        orphans
            .map(|e| (e.id_str().to_owned(), e.user_id().to_owned(), e.user_generation()))
            .collect()
    }

    /// Takes in a change to a user (its name, roles, state, or its deletion): what was issued
    /// to it now stands for the user as they are, or for nobody.
    pub fn refresh_user(&self, user_id: &str) {
        let mut index = self.write();
        // Read under the lock, so that of two refreshes the later sees the later user.
        let user = self.users.get(user_id);
        let theirs: Vec<Arc<IssuedEntry>> =
            index.table.iter().filter(|e| e.user_id() == user_id).cloned().collect();
        for old in theirs {
            index.table.insert(Arc::new(old.with_user(user.clone())));
        }
    }

    /// Drops expired ones, from the store and from memory.
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let pruned = self.store.prune_issued(now).await?;
        self.write().table.retain(|e| e.expires_at() > now);
        Ok(pruned)
    }

    fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn apply(index: &mut Index, change: IssuedChange, users: &UserDirectory) {
    if let (Some(entry), Some(record)) = (index.table.get(change.id.as_bytes()), &change.record)
        && entry.is_record_of(record)
    {
        // Used through another instance (or this one): its idle clock moves, nothing else.
        if let Some(seen) = record.last_seen_at {
            entry.seen(seen);
        }
        return;
    }
    let counters = index.table.remove(change.id.as_bytes()).map(|e| e.usage_counters());
    if let Some(record) = change.record
        && let Some(entry) =
            IssuedEntry::new(&record, counters.unwrap_or_default(), users.get(&record.user_id))
    {
        index.table.insert_new(Arc::new(entry));
    }
}
