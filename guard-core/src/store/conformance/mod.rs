//! The behaviour every store backend must have, as one `pub async fn` per behaviour (the
//! `object_store` pattern). A backend's own tests run them all with [`run_all`]:
//!
//! ```ignore
//! pollster::block_on(guard_core::store::conformance::run_all(|| MyStore::fresh()));
//! ```
//!
//! Test-only: enabled by the `testing` feature. Each case panics with a message on failure.

#![allow(clippy::unwrap_used, clippy::panic)]

mod keys;
mod people;
mod settings;
mod shared;
mod usage;

use super::{IssuedRecord, KeyRecord, Store, UserRecord};
use crate::usage::{CredentialKind, RateLimit};

pub use self::keys::{
    key_changes_follow_every_write, key_updates_are_conditional, keys_insert_get_update_delete,
};
pub use self::people::{
    a_session_s_use_moves_its_last_seen, issued_credentials_end_with_their_user_and_expire,
    usage_of_issued_credentials_is_kept_while_they_exist, user_changes_follow_every_write,
    user_updates_are_conditional, users_have_unique_names,
};
pub(crate) use self::settings::join_all;
pub use self::settings::{
    failure_counts_change_as_one_step, known_addresses_keep_the_latest,
    meta_is_replaced_only_from_its_value, meta_round_trips, prune_forgets_idle_failure_counts,
};
pub use self::shared::{
    a_conditional_update_loses_to_another_writer, counters_add_up_across_writers,
    each_writer_sees_the_other_s_changes, failure_counts_are_shared_by_writers,
    marks_add_up_across_writers, the_other_writer_s_changes_raise_the_signal,
};
pub use self::usage::{
    counters_are_added_as_deltas, delete_usage_forgets_one_credential,
    marks_advance_and_never_go_back, prune_removes_old_rollups_only, recent_uses_keep_the_last_n,
    rollups_add_up_per_minute_route_method_and_outcome, usage_of_unknown_credentials_is_dropped,
};

/// Runs every case, each on a fresh, empty store from `fresh`.
pub async fn run_all<S: Store>(mut fresh: impl FnMut() -> S) {
    keys_insert_get_update_delete(&fresh()).await;
    key_updates_are_conditional(&fresh()).await;
    key_changes_follow_every_write(&fresh()).await;
    counters_are_added_as_deltas(&fresh()).await;
    rollups_add_up_per_minute_route_method_and_outcome(&fresh()).await;
    recent_uses_keep_the_last_n(&fresh()).await;
    usage_of_unknown_credentials_is_dropped(&fresh()).await;
    delete_usage_forgets_one_credential(&fresh()).await;
    prune_removes_old_rollups_only(&fresh()).await;
    marks_advance_and_never_go_back(&fresh()).await;
    meta_round_trips(&fresh()).await;
    meta_is_replaced_only_from_its_value(&fresh()).await;
    users_have_unique_names(&fresh()).await;
    user_updates_are_conditional(&fresh()).await;
    user_changes_follow_every_write(&fresh()).await;
    issued_credentials_end_with_their_user_and_expire(&fresh()).await;
    usage_of_issued_credentials_is_kept_while_they_exist(&fresh()).await;
    a_session_s_use_moves_its_last_seen(&fresh()).await;
    failure_counts_change_as_one_step(&fresh()).await;
    known_addresses_keep_the_latest(&fresh()).await;
    prune_forgets_idle_failure_counts(&fresh()).await;
}

/// Runs the cases that only several writers show, each on a fresh pair from `fresh`: two
/// stores on one empty database, as two instances of an application would open it. For a
/// backend that several processes can share (redb cannot: one process holds a file).
pub async fn run_shared<S: Store>(mut fresh: impl FnMut() -> (S, S)) {
    let pair = fresh();
    counters_add_up_across_writers(&pair.0, &pair.1).await;
    let pair = fresh();
    each_writer_sees_the_other_s_changes(&pair.0, &pair.1).await;
    let pair = fresh();
    a_conditional_update_loses_to_another_writer(&pair.0, &pair.1).await;
    let pair = fresh();
    failure_counts_are_shared_by_writers(&pair.0, &pair.1).await;
    let pair = fresh();
    the_other_writer_s_changes_raise_the_signal(&pair.0, &pair.1).await;
    let pair = fresh();
    marks_add_up_across_writers(&pair.0, &pair.1).await;
}

/// A user record for the cases.
pub fn user(id: &str, name: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        name: name.into(),
        normalized: name.to_lowercase().into(),
        password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        roles: vec!["admin".into()],
        disabled: false,
        created_at: 1_000,
        updated_at: 1_000,
        generation: 0,
        rate_limit: Some(RateLimit { requests: 1_000, per_seconds: 3_600 }),
    }
}

/// A session (or token) record for the cases.
pub fn issued(kind: CredentialKind, id: &str, user_id: &str, expires_at: i64) -> IssuedRecord {
    IssuedRecord {
        kind,
        id: id.into(),
        hash: [7; 32],
        user_id: user_id.into(),
        user_generation: 0,
        created_at: 1_000,
        authenticated_at: 1_000,
        expires_at,
        idle_timeout: (kind == CredentialKind::Session).then_some(1_800),
        revoked: false,
        last_seen_at: None,
    }
}

/// A key record for the cases.
pub fn key(id: &str) -> KeyRecord {
    KeyRecord {
        id: id.into(),
        hash: [id.len() as u8; 32],
        name: format!("name of {id}").into(),
        owner: None,
        roles: vec!["admin".into()],
        created_at: 1_000,
        expires_at: Some(2_000),
        revoked: false,
        rate_limit: Some(RateLimit { requests: 100, per_seconds: 60 }),
    }
}
