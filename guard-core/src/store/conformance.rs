//! The behaviour every store backend must have, as one `pub async fn` per behaviour (the
//! `object_store` pattern). A backend's own tests run them all with [`run_all`]:
//!
//! ```ignore
//! pollster::block_on(guard_core::store::conformance::run_all(|| MyStore::fresh()));
//! ```
//!
//! Test-only: enabled by the `testing` feature. Each case panics with a message on failure.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::{DynStore, IssuedRecord, KeyRecord, Store, StoreError, UserRecord};
use crate::credentials::issued::IssuedKind;
use crate::usage::{
    Counters, CredentialKind, RecentUse, RequestMethod, Rollup, Subject, SubjectUsage, UsageBatch,
    UsageOutcome,
};

/// Runs every case, each on a fresh, empty store from `fresh`.
pub async fn run_all<S: Store>(mut fresh: impl FnMut() -> S) {
    keys_insert_get_update_delete(&fresh()).await;
    key_changes_follow_every_write(&fresh()).await;
    counters_are_added_as_deltas(&fresh()).await;
    rollups_add_up_per_minute_route_method_and_outcome(&fresh()).await;
    recent_uses_keep_the_last_n(&fresh()).await;
    usage_of_unknown_credentials_is_dropped(&fresh()).await;
    delete_usage_forgets_one_credential(&fresh()).await;
    prune_removes_old_rollups_only(&fresh()).await;
    meta_round_trips(&fresh()).await;
    users_have_unique_names(&fresh()).await;
    user_updates_are_conditional(&fresh()).await;
    user_changes_follow_every_write(&fresh()).await;
    issued_credentials_end_with_their_user_and_expire(&fresh()).await;
    usage_of_issued_credentials_is_kept_while_they_exist(&fresh()).await;
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
    }
}

/// A session (or token) record for the cases.
pub fn issued(kind: IssuedKind, id: &str, user_id: &str, expires_at: i64) -> IssuedRecord {
    IssuedRecord {
        kind,
        id: id.into(),
        hash: [7; 32],
        user_id: user_id.into(),
        user_generation: 0,
        created_at: 1_000,
        authenticated_at: 1_000,
        expires_at,
        idle_timeout: (kind == IssuedKind::Session).then_some(1_800),
        revoked: false,
    }
}

/// Names are unique by their normalized form, on insert and on rename; a failed write
/// writes nothing, and a deleted user's name is free again.
pub async fn users_have_unique_names(store: &dyn DynStore) {
    store.insert_user(user("u1", "Ann")).await.unwrap();
    assert_eq!(store.get_user("u1".into()).await.unwrap(), Some(user("u1", "Ann")));
    let err = store.insert_user(user("u2", "ANN")).await.unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "{err}");
    assert_eq!(store.get_user("u2".into()).await.unwrap(), None);
    let err = store.insert_user(user("u1", "Bob")).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateId(_)), "{err}");
    assert_eq!(store.count_users().await.unwrap(), 1);

    store.insert_user(user("u2", "Bob")).await.unwrap();
    let err = store.update_user(user("u2", "Bob"), user("u2", "ann")).await.unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "renaming onto a taken name: {err}");
    assert_eq!(store.get_user("u2".into()).await.unwrap(), Some(user("u2", "Bob")));
    assert!(store.update_user(user("u2", "Bob"), user("u2", "Carol")).await.unwrap());
    store.insert_user(user("u3", "bob")).await.unwrap();
    assert!(!store.update_user(user("ghost", "Ghost"), user("ghost", "Ghost")).await.unwrap());

    assert!(store.delete_user("u1".into()).await.unwrap());
    assert!(!store.delete_user("u1".into()).await.unwrap());
    store.insert_user(user("u4", "ann")).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 3);
}

/// A user is replaced only if it is still what the writer read: of two writers that read
/// the same record, the second fails and writes nothing, so neither undoes the other.
pub async fn user_updates_are_conditional(store: &dyn DynStore) {
    let read = user("u1", "Ann");
    store.insert_user(read.clone()).await.unwrap();
    let mut disabled = read.clone();
    disabled.disabled = true;
    disabled.generation = 1;
    assert!(store.update_user(read.clone(), disabled.clone()).await.unwrap());
    let mut rehashed = read.clone();
    rehashed.password = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into();
    let err = store.update_user(read, rehashed).await.unwrap_err();
    assert!(matches!(err, StoreError::Changed), "{err}");
    assert_eq!(store.get_user("u1".into()).await.unwrap(), Some(disabled));
}

/// As for keys: every write to a user is a change to follow.
pub async fn user_changes_follow_every_write(store: &dyn DynStore) {
    store.insert_user(user("u1", "Ann")).await.unwrap();
    store.insert_user(user("u2", "Bob")).await.unwrap();
    let first = store.user_changes(0, 100).await.unwrap();
    assert_eq!(first.changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["u1", "u2"]);
    let mut disabled = user("u1", "Ann");
    disabled.disabled = true;
    store.update_user(user("u1", "Ann"), disabled.clone()).await.unwrap();
    store.delete_user("u2".into()).await.unwrap();
    let next = store.user_changes(first.cursor, 100).await.unwrap();
    let seen: Vec<(&str, Option<bool>)> = next
        .changes
        .iter()
        .map(|c| (c.id.as_str(), c.record.as_ref().map(|r| r.disabled)))
        .collect();
    assert_eq!(seen, [("u1", Some(true)), ("u2", None)]);
}

/// Sessions and tokens: inserted, revoked by an update, deleted one by one or all of a
/// user's at once, and pruned once expired, without a trace.
pub async fn issued_credentials_end_with_their_user_and_expire(store: &dyn DynStore) {
    let s1 = issued(IssuedKind::Session, "s1", "u1", 5_000);
    store.insert_issued(s1.clone()).await.unwrap();
    store.insert_issued(issued(IssuedKind::Token, "t1", "u1", 2_000)).await.unwrap();
    store.insert_issued(issued(IssuedKind::Session, "s2", "u2", 5_000)).await.unwrap();
    let err = store.insert_issued(issued(IssuedKind::Token, "s1", "u2", 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateId(_)), "{err}");
    assert_eq!(store.get_issued("s1".into()).await.unwrap(), Some(s1.clone()));
    assert_eq!(store.count_issued().await.unwrap(), 3);

    let mut revoked = s1.clone();
    revoked.revoked = true;
    assert!(store.update_issued(revoked.clone()).await.unwrap());
    assert_eq!(store.get_issued("s1".into()).await.unwrap(), Some(revoked));

    let before = store.issued_changes(0, 100).await.unwrap().cursor;
    assert_eq!(store.delete_issued_to("u1".into(), 1_500).await.unwrap(), 2);
    assert_eq!(store.get_issued("t1".into()).await.unwrap(), None);
    let ended = store.issued_changes(before, 100).await.unwrap();
    let mut ids: Vec<&str> = ended.changes.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["s1", "t1"]);
    assert!(ended.changes.iter().all(|c| c.record.is_none()));
    assert!(!store.delete_issued("s1".into(), 1_500).await.unwrap());

    store.insert_issued(issued(IssuedKind::Token, "t2", "u2", 3_000)).await.unwrap();
    assert_eq!(store.prune_issued(4_000).await.unwrap(), 1, "t2 expired, s2 not yet");
    assert_eq!(store.get_issued("t2".into()).await.unwrap(), None);
    assert!(store.get_issued("s2".into()).await.unwrap().is_some());
    assert!(store.delete_issued("s2".into(), 4_000).await.unwrap());
    assert_eq!(store.count_issued().await.unwrap(), 0);
}

/// Usage of a session or token is kept while it exists, and dropped once it is gone.
pub async fn usage_of_issued_credentials_is_kept_while_they_exist(store: &dyn DynStore) {
    store.insert_issued(issued(IssuedKind::Session, "s1", "u1", 5_000)).await.unwrap();
    let seen = |id: &str, kind| SubjectUsage {
        subject: Subject::new(kind, id),
        counters: Counters { uses: 1, last_used_at: Some(1_200) },
        rollups: vec![],
        recent: vec![],
    };
    let batch = UsageBatch {
        recent_capacity: 10,
        subjects: vec![seen("s1", CredentialKind::Session), seen("gone", CredentialKind::Token)],
    };
    store.apply_usage(batch).await.unwrap();
    assert_eq!(
        store.counters(CredentialKind::Session, None, 10).await.unwrap(),
        vec![("s1".to_owned(), Counters { uses: 1, last_used_at: Some(1_200) })]
    );
    assert_eq!(store.counters(CredentialKind::Token, None, 10).await.unwrap(), vec![]);
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
    }
}

fn subject(id: &str) -> Subject {
    Subject::new(CredentialKind::ApiKey, id)
}

fn rollup(minute: i64, route: &str, outcome: UsageOutcome, count: u64) -> Rollup {
    Rollup { minute, route: route.into(), method: RequestMethod::Get, outcome, count }
}

fn recent(n: u64) -> RecentUse {
    RecentUse {
        n,
        at: 100 + n as i64,
        method: RequestMethod::Post,
        outcome: UsageOutcome::Ok,
        route: format!("/r/{n}"),
    }
}

fn usage(
    id: &str,
    uses: u64,
    last: i64,
    rollups: Vec<Rollup>,
    recent: Vec<RecentUse>,
) -> SubjectUsage {
    SubjectUsage {
        subject: subject(id),
        counters: Counters { uses, last_used_at: Some(last) },
        rollups,
        recent,
    }
}

fn batch(capacity: u32, subjects: Vec<SubjectUsage>) -> UsageBatch {
    UsageBatch { recent_capacity: capacity, subjects }
}

/// Inserts are all or nothing; updates and deletes say whether the key existed.
pub async fn keys_insert_get_update_delete(store: &dyn DynStore) {
    store.insert_keys(vec![key("a"), key("b")]).await.unwrap();
    assert_eq!(store.get_key("a".into()).await.unwrap(), Some(key("a")));
    assert_eq!(store.count_keys().await.unwrap(), 2);
    let err = store.insert_keys(vec![key("c"), key("a")]).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateId(ref id) if id == "a"), "{err}");
    let err = store.insert_keys(vec![key("d"), key("d")]).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateId(_)), "a repeated id in one batch: {err}");
    assert_eq!(store.get_key("c".into()).await.unwrap(), None, "a failed batch writes nothing");
    assert_eq!(store.count_keys().await.unwrap(), 2);

    let mut revoked = key("a");
    revoked.revoked = true;
    assert!(store.update_key(revoked.clone()).await.unwrap());
    assert_eq!(store.get_key("a".into()).await.unwrap(), Some(revoked));
    assert!(!store.update_key(key("ghost")).await.unwrap());
    assert_eq!(store.get_key("ghost".into()).await.unwrap(), None);

    assert!(store.delete_key("b".into()).await.unwrap());
    assert!(!store.delete_key("b".into()).await.unwrap());
    assert_eq!(store.get_key("b".into()).await.unwrap(), None);
    assert_eq!(store.count_keys().await.unwrap(), 1);
}

/// Every write gets a higher sequence number; from any cursor, the changes since are each
/// changed key's latest state (or its deletion), oldest first, in pages of `limit`.
pub async fn key_changes_follow_every_write(store: &dyn DynStore) {
    let empty = store.key_changes(0, 100).await.unwrap();
    assert_eq!((empty.changes.len(), empty.cursor), (0, 0));

    store.insert_keys(vec![key("a"), key("b")]).await.unwrap();
    let first = store.key_changes(0, 100).await.unwrap();
    let ids: Vec<&str> = first.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(first.changes[0].seq < first.changes[1].seq);
    assert_eq!(first.cursor, first.changes[1].seq);
    assert_eq!(store.key_changes(first.cursor, 100).await.unwrap().changes, vec![]);

    let mut renamed = key("a");
    renamed.name = "renamed".into();
    store.update_key(renamed.clone()).await.unwrap();
    let update = store.key_changes(first.cursor, 100).await.unwrap();
    assert_eq!(update.changes.len(), 1);
    assert!(update.changes[0].seq > first.cursor);
    assert_eq!(update.changes[0].record, Some(renamed.clone()));

    store.delete_key("b".into()).await.unwrap();
    let deletion = store.key_changes(update.cursor, 100).await.unwrap();
    assert_eq!(deletion.changes.len(), 1);
    assert_eq!((deletion.changes[0].id.as_str(), &deletion.changes[0].record), ("b", &None));

    // From the start: each key once, in its latest state, in the order of those changes.
    let all = store.key_changes(0, 100).await.unwrap();
    let latest: Vec<(&str, bool)> =
        all.changes.iter().map(|c| (c.id.as_str(), c.record.is_some())).collect();
    assert_eq!(latest, [("a", true), ("b", false)]);
    assert_eq!(all.cursor, deletion.cursor);

    // Paging.
    let mut cursor = 0;
    let mut paged = Vec::new();
    loop {
        let page = store.key_changes(cursor, 1).await.unwrap();
        if page.changes.is_empty() {
            break;
        }
        assert_eq!(page.changes.len(), 1);
        cursor = page.cursor;
        paged.extend(page.changes);
    }
    assert_eq!(paged, all.changes);
}

/// Counters are deltas: each batch adds its uses; the latest use wins.
pub async fn counters_are_added_as_deltas(store: &dyn DynStore) {
    store.insert_keys(vec![key("a"), key("b"), key("c")]).await.unwrap();
    store.apply_usage(batch(10, vec![usage("a", 2, 50, vec![], vec![])])).await.unwrap();
    store
        .apply_usage(batch(
            10,
            vec![usage("a", 3, 40, vec![], vec![]), usage("c", 1, 7, vec![], vec![])],
        ))
        .await
        .unwrap();
    let all = store.counters(CredentialKind::ApiKey, None, 100).await.unwrap();
    assert_eq!(
        all,
        vec![
            ("a".to_owned(), Counters { uses: 5, last_used_at: Some(50) }),
            ("c".to_owned(), Counters { uses: 1, last_used_at: Some(7) }),
        ]
    );
    let page = store.counters(CredentialKind::ApiKey, Some("a".into()), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].0, "c");
    assert_eq!(store.counters(CredentialKind::Session, None, 100).await.unwrap(), vec![]);
}

/// Rollups add up per (minute, route, method, outcome) and are read by minute range.
pub async fn rollups_add_up_per_minute_route_method_and_outcome(store: &dyn DynStore) {
    store.insert_keys(vec![key("a")]).await.unwrap();
    let first =
        vec![rollup(60, "/x", UsageOutcome::Ok, 2), rollup(60, "/x", UsageOutcome::Forbidden, 1)];
    let second =
        vec![rollup(60, "/x", UsageOutcome::Ok, 3), rollup(120, "/y", UsageOutcome::Ok, 4)];
    store.apply_usage(batch(10, vec![usage("a", 3, 60, first, vec![])])).await.unwrap();
    store.apply_usage(batch(10, vec![usage("a", 7, 120, second, vec![])])).await.unwrap();
    let mut all = store.rollups(subject("a"), 0, 1_000).await.unwrap();
    all.sort_by(|x, y| {
        (x.minute, &x.route, x.outcome.code()).cmp(&(y.minute, &y.route, y.outcome.code()))
    });
    assert_eq!(
        all,
        vec![
            rollup(60, "/x", UsageOutcome::Ok, 5),
            rollup(60, "/x", UsageOutcome::Forbidden, 1),
            rollup(120, "/y", UsageOutcome::Ok, 4),
        ]
    );
    let later = store.rollups(subject("a"), 61, 1_000).await.unwrap();
    assert_eq!(later, vec![rollup(120, "/y", UsageOutcome::Ok, 4)]);
    assert_eq!(store.rollups(subject("a"), 0, 60).await.unwrap(), vec![], "until is exclusive");
}

/// Of the recent uses, the newest `capacity` are kept; an older use never replaces a newer.
pub async fn recent_uses_keep_the_last_n(store: &dyn DynStore) {
    store.insert_keys(vec![key("a")]).await.unwrap();
    let uses: Vec<RecentUse> = (1..=5).map(recent).collect();
    store.apply_usage(batch(3, vec![usage("a", 5, 105, vec![], uses)])).await.unwrap();
    let kept = store.recent_uses(subject("a"), 10).await.unwrap();
    assert_eq!(kept, vec![recent(5), recent(4), recent(3)]);
    assert_eq!(store.recent_uses(subject("a"), 2).await.unwrap(), vec![recent(5), recent(4)]);
    store.apply_usage(batch(3, vec![usage("a", 0, 0, vec![], vec![recent(2)])])).await.unwrap();
    assert_eq!(store.recent_uses(subject("a"), 10).await.unwrap(), kept, "older never wins");
}

/// Usage of a key that does not exist is not kept.
pub async fn usage_of_unknown_credentials_is_dropped(store: &dyn DynStore) {
    let ghost = usage("ghost", 1, 5, vec![rollup(0, "/", UsageOutcome::Ok, 1)], vec![recent(1)]);
    store.apply_usage(batch(10, vec![ghost])).await.unwrap();
    assert_eq!(store.counters(CredentialKind::ApiKey, None, 10).await.unwrap(), vec![]);
    assert_eq!(store.recent_uses(subject("ghost"), 10).await.unwrap(), vec![]);
    assert_eq!(store.rollups(subject("ghost"), i64::MIN, i64::MAX).await.unwrap(), vec![]);
}

/// Deleting one credential's usage leaves the others'.
pub async fn delete_usage_forgets_one_credential(store: &dyn DynStore) {
    store.insert_keys(vec![key("a"), key("b")]).await.unwrap();
    let some = |id: &str| {
        usage(id, 2, 60, vec![rollup(60, "/", UsageOutcome::Ok, 2)], vec![recent(1), recent(2)])
    };
    store.apply_usage(batch(10, vec![some("a"), some("b")])).await.unwrap();
    store.delete_usage(subject("a")).await.unwrap();
    assert_eq!(store.recent_uses(subject("a"), 10).await.unwrap(), vec![]);
    assert_eq!(store.rollups(subject("a"), i64::MIN, i64::MAX).await.unwrap(), vec![]);
    let counters = store.counters(CredentialKind::ApiKey, None, 10).await.unwrap();
    assert_eq!(counters.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(store.recent_uses(subject("b"), 10).await.unwrap().len(), 2);
    assert_eq!(store.rollups(subject("b"), i64::MIN, i64::MAX).await.unwrap().len(), 1);
    assert_eq!(store.prune_usage(i64::MAX).await.unwrap(), 1, "a's rollups left no index rows");
}

/// Retention removes the rollups of minutes before a time, and only those.
pub async fn prune_removes_old_rollups_only(store: &dyn DynStore) {
    store.insert_keys(vec![key("a"), key("b")]).await.unwrap();
    let a = usage(
        "a",
        3,
        180,
        vec![rollup(60, "/", UsageOutcome::Ok, 1), rollup(180, "/", UsageOutcome::Ok, 2)],
        vec![],
    );
    let b = usage("b", 1, 60, vec![rollup(60, "/z", UsageOutcome::Expired, 1)], vec![]);
    store.apply_usage(batch(10, vec![a, b])).await.unwrap();
    assert_eq!(store.prune_usage(120).await.unwrap(), 2);
    assert_eq!(
        store.rollups(subject("a"), i64::MIN, i64::MAX).await.unwrap(),
        vec![rollup(180, "/", UsageOutcome::Ok, 2)]
    );
    assert_eq!(store.rollups(subject("b"), i64::MIN, i64::MAX).await.unwrap(), vec![]);
    assert_eq!(store.prune_usage(120).await.unwrap(), 0);
}

/// Settings round-trip and can be replaced.
pub async fn meta_round_trips(store: &dyn DynStore) {
    assert_eq!(store.meta("missing".into()).await.unwrap(), None);
    store.set_meta("x".into(), b"one".to_vec()).await.unwrap();
    store.set_meta("x".into(), b"two".to_vec()).await.unwrap();
    assert_eq!(store.meta("x".into()).await.unwrap(), Some(b"two".to_vec()));
}
