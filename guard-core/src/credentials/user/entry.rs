//! One user in memory: what a request made by this user needs. Immutable: a change to the
//! user replaces the entry (and the sessions and tokens that carry it), so a change (a role
//! removed, the user disabled) counts at once.

use std::sync::Arc;

use compact_str::CompactString;

use super::UserInfo;
use crate::authz::{Grant, Identity, PrincipalKind};
use crate::store::UserRecord;
use crate::usage::RateLimiter;

/// A user in the in-memory directory.
pub struct UserEntry {
    pub(super) record: UserRecord,
    pub(super) grant: Arc<Grant>,
    /// Its rate limit and what is used of it, if it is limited.
    pub(super) limiter: Option<Arc<RateLimiter>>,
}

impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry").field("id", &self.record.id).finish_non_exhaustive()
    }
}

impl UserEntry {
    /// The entry for a record; under the same limit as `old` (the user before a change), it
    /// takes over what `old` used of it.
    pub(super) fn new(record: UserRecord, grant: Arc<Grant>, old: Option<&UserEntry>) -> Self {
        let limiter = match (record.rate_limit, old.and_then(|o| o.limiter.as_ref())) {
            (Some(limit), Some(old)) if old.limit() == limit => Some(Arc::clone(old)),
            (Some(limit), _) => {
                Some(Arc::new(RateLimiter::new(limit, format!("u:{}", record.id).into())))
            }
            (None, _) => None,
        };
        UserEntry { record, grant, limiter }
    }

    /// The user's stable id.
    pub fn user_id(&self) -> &str {
        &self.record.id
    }

    /// Whether the user may log in and use what was issued to it.
    pub fn is_enabled(&self) -> bool {
        !self.record.disabled
    }

    /// What the user's roles grant.
    pub fn user_grant(&self) -> &Arc<Grant> {
        &self.grant
    }

    /// The roles assigned.
    pub fn roles(&self) -> &[CompactString] {
        &self.record.roles
    }

    /// Goes up when the password changes or the user is disabled; what was issued for an
    /// earlier one no longer works.
    pub fn generation(&self) -> u32 {
        self.record.generation
    }

    pub(crate) fn password_hash(&self) -> &str {
        &self.record.password
    }

    /// What the admin API shows of the user: never its password hash.
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.record.id.to_string(),
            name: self.record.name.to_string(),
            roles: self.grant.assigned.clone(),
            disabled: self.record.disabled,
            created_at: self.record.created_at,
            updated_at: self.record.updated_at,
            rate_limit: self.record.rate_limit,
        }
    }
}

impl Identity for UserEntry {
    fn id(&self) -> &str {
        &self.record.id
    }
    fn name(&self) -> &str {
        &self.record.name
    }
    fn kind(&self) -> PrincipalKind {
        PrincipalKind::User
    }
    fn grant(&self) -> &Grant {
        &self.grant
    }
    fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.limiter.as_ref()
    }
}
