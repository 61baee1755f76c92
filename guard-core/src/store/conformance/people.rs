//! Users, and the sessions and tokens issued to them.

use super::{issued, user};
use crate::store::{DynStore, StoreError};
use crate::usage::{Counters, CredentialKind, Subject, SubjectUsage, UsageBatch};

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
    let s1 = issued(CredentialKind::Session, "s1", "u1", 5_000);
    store.insert_issued(s1.clone()).await.unwrap();
    store.insert_issued(issued(CredentialKind::Token, "t1", "u1", 2_000)).await.unwrap();
    store.insert_issued(issued(CredentialKind::Session, "s2", "u2", 5_000)).await.unwrap();
    let err = store.insert_issued(issued(CredentialKind::Token, "s1", "u2", 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateId(_)), "{err}");
    assert_eq!(store.get_issued("s1".into()).await.unwrap(), Some(s1.clone()));
    assert_eq!(store.count_issued().await.unwrap(), 3);

    let before = store.issued_changes(0, 100).await.unwrap().cursor;
    assert_eq!(store.delete_issued_to("u1".into(), 1_500).await.unwrap(), 2);
    assert_eq!(store.get_issued("t1".into()).await.unwrap(), None);
    let ended = store.issued_changes(before, 100).await.unwrap();
    let mut ids: Vec<&str> = ended.changes.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["s1", "t1"]);
    assert!(ended.changes.iter().all(|c| c.record.is_none()));
    assert!(!store.delete_issued("s1".into(), 1_500).await.unwrap());

    store.insert_issued(issued(CredentialKind::Token, "t2", "u2", 3_000)).await.unwrap();
    assert_eq!(store.prune_issued(4_000).await.unwrap(), 1, "t2 expired, s2 not yet");
    assert_eq!(store.get_issued("t2".into()).await.unwrap(), None);
    assert!(store.get_issued("s2".into()).await.unwrap().is_some());
    assert!(store.delete_issued("s2".into(), 4_000).await.unwrap());
    assert_eq!(store.count_issued().await.unwrap(), 0);
}

/// Usage of a session or token is kept while it exists, and dropped once it is gone.
pub async fn usage_of_issued_credentials_is_kept_while_they_exist(store: &dyn DynStore) {
    store.insert_issued(issued(CredentialKind::Session, "s1", "u1", 5_000)).await.unwrap();
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

/// A session's use moves its `last_seen_at` forward, as a change every follower sees; an
/// older use never moves it back, and a token's use leaves its record alone.
pub async fn a_session_s_use_moves_its_last_seen(store: &dyn DynStore) {
    store.insert_issued(issued(CredentialKind::Session, "s1", "u1", 9_000)).await.unwrap();
    store.insert_issued(issued(CredentialKind::Token, "t1", "u1", 9_000)).await.unwrap();
    let cursor = store.issued_changes(0, 100).await.unwrap().cursor;
    let seen = |id: &str, kind, at| SubjectUsage {
        subject: Subject::new(kind, id),
        counters: Counters { uses: 1, last_used_at: Some(at) },
        rollups: vec![],
        recent: vec![],
    };
    let batch = |subjects| UsageBatch { recent_capacity: 10, subjects };
    store
        .apply_usage(batch(vec![
            seen("s1", CredentialKind::Session, 1_300),
            seen("t1", CredentialKind::Token, 1_300),
        ]))
        .await
        .unwrap();
    let session = store.get_issued("s1".into()).await.unwrap().unwrap();
    assert_eq!(session.last_seen_at, Some(1_300));
    assert_eq!(store.get_issued("t1".into()).await.unwrap().unwrap().last_seen_at, None);
    let changes = store.issued_changes(cursor, 100).await.unwrap();
    let changed: Vec<&str> = changes.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(changed, ["s1"], "the session's move is a change; the token's use is not");
    assert_eq!(changes.changes[0].record.as_ref().unwrap().last_seen_at, Some(1_300));

    store.apply_usage(batch(vec![seen("s1", CredentialKind::Session, 1_200)])).await.unwrap();
    let session = store.get_issued("s1".into()).await.unwrap().unwrap();
    assert_eq!(session.last_seen_at, Some(1_300), "never moved back");
    assert_eq!(store.issued_changes(changes.cursor, 100).await.unwrap().changes, vec![]);
}
