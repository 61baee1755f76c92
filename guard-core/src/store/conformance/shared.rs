//! What only several writers show: two stores on one database, as two instances open it.

use std::time::{Duration, Instant};

use super::join_all;
use super::{issued, key, user};
use crate::store::{DynStore, FailureCount, MarkAdvance, StoreError};
use crate::usage::{Counters, CredentialKind, Subject, SubjectUsage, UsageBatch};

fn uses(id: &str, n: u64, last: i64) -> UsageBatch {
    let subject = Subject::new(CredentialKind::ApiKey, id);
    let counters = Counters { uses: n, last_used_at: Some(last) };
    UsageBatch {
        recent_capacity: 10,
        subjects: vec![SubjectUsage { subject, counters, rollups: vec![], recent: vec![] }],
    }
}

/// Counters written by two writers add up, whichever writes last; the latest use wins.
pub async fn counters_add_up_across_writers(a: &dyn DynStore, b: &dyn DynStore) {
    a.insert_keys(vec![key("k")]).await.unwrap();
    let writes = (0..10).map(|n| {
        let (store, last) = if n % 2 == 0 { (a, 500 - n) } else { (b, 100 + n) };
        store.apply_usage(uses("k", 3, last))
    });
    for done in join_all(writes).await {
        done.unwrap();
    }
    let counters = b.counters(CredentialKind::ApiKey, None, 10).await.unwrap();
    assert_eq!(counters, vec![("k".to_owned(), Counters { uses: 30, last_used_at: Some(500) })]);
}

/// Each writer's change cursors see the other's writes, of keys, users and issued
/// credentials, deletions included.
pub async fn each_writer_sees_the_other_s_changes(a: &dyn DynStore, b: &dyn DynStore) {
    let keys = b.key_changes(0, 100).await.unwrap().cursor;
    let users = b.user_changes(0, 100).await.unwrap().cursor;
    let issued_cursor = b.issued_changes(0, 100).await.unwrap().cursor;
    a.insert_keys(vec![key("k")]).await.unwrap();
    a.insert_user(user("u1", "Ann")).await.unwrap();
    a.insert_issued(issued(CredentialKind::Session, "s1", "u1", 9_000)).await.unwrap();
    let mut revoked = key("k");
    revoked.revoked = true;
    b.update_key(key("k"), revoked.clone()).await.unwrap();
    a.delete_issued("s1".into(), 2_000).await.unwrap();

    let seen = b.key_changes(keys, 100).await.unwrap();
    assert_eq!(seen.changes.len(), 1);
    assert_eq!(seen.changes[0].record, Some(revoked), "the latest state, once");
    let seen = b.user_changes(users, 100).await.unwrap();
    assert_eq!(seen.changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["u1"]);
    let seen = b.issued_changes(issued_cursor, 100).await.unwrap();
    let ended: Vec<(&str, bool)> =
        seen.changes.iter().map(|c| (c.id.as_str(), c.record.is_some())).collect();
    assert_eq!(ended, [("s1", false)]);
    let own = a.key_changes(keys, 100).await.unwrap();
    assert_eq!(own.changes.len(), 1, "and a writer sees the other's change too");
}

/// Two writers read the same record and change it: one wins, the other is refused
/// ([`StoreError::Changed`]) and writes nothing, for users and for keys.
pub async fn a_conditional_update_loses_to_another_writer(a: &dyn DynStore, b: &dyn DynStore) {
    a.insert_user(user("u1", "Ann")).await.unwrap();
    let read = b.get_user("u1".into()).await.unwrap().unwrap();
    let mut disabled = read.clone();
    disabled.disabled = true;
    let mut renamed = read.clone();
    renamed.name = "Anna".into();
    renamed.normalized = "anna".into();
    assert!(a.update_user(read.clone(), disabled.clone()).await.unwrap());
    let err = b.update_user(read, renamed).await.unwrap_err();
    assert!(matches!(err, StoreError::Changed), "{err}");
    assert_eq!(b.get_user("u1".into()).await.unwrap(), Some(disabled));

    a.insert_keys(vec![key("k")]).await.unwrap();
    let read = b.get_key("k".into()).await.unwrap().unwrap();
    let mut revoked = read.clone();
    revoked.revoked = true;
    let mut renewed = read.clone();
    renewed.expires_at = Some(9_999);
    // At once: exactly one of the two wins.
    let (first, second) = futures_lite::future::zip(
        a.update_key(read.clone(), revoked.clone()),
        b.update_key(read, renewed.clone()),
    )
    .await;
    let won: Vec<bool> = [first, second]
        .into_iter()
        .map(|result| match result {
            Ok(found) => found,
            Err(StoreError::Changed) => false,
            Err(other) => panic!("{other}"),
        })
        .collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let stored = a.get_key("k".into()).await.unwrap().unwrap();
    assert!(stored == revoked || stored == renewed);
}

/// Failure counts are one count for both writers: updates made at once through both are
/// all counted.
pub async fn failure_counts_are_shared_by_writers(a: &dyn DynStore, b: &dyn DynStore) {
    let bump = || {
        Box::new(|counts: &mut [FailureCount]| {
            for count in counts {
                count.failures += 1;
            }
        })
    };
    let keys = || vec!["i|10.0.0.1".to_owned(), "a|u:x".to_owned()];
    let updates = (0..30).map(|n| {
        let store = if n % 2 == 0 { a } else { b };
        store.update_failures(keys(), bump())
    });
    for done in join_all(updates).await {
        done.unwrap();
    }
    let counts = b.update_failures(keys(), Box::new(|_: &mut [_]| {})).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.failures).collect::<Vec<_>>(), [30, 30]);
    a.remember_address("u1".into(), "10.0.0.9".into(), 100, 8).await.unwrap();
    assert!(b.known_address("u1".into(), "10.0.0.9".into()).await.unwrap());
}

/// A store that other processes write to has a signal, and a write through the other store
/// raises it promptly.
pub async fn the_other_writer_s_changes_raise_the_signal(a: &dyn DynStore, b: &dyn DynStore) {
    let signal = b.watch().expect("a store several processes write to has a change signal");
    for (n, write) in ["key", "user", "session"].into_iter().enumerate() {
        let seen = signal.raised();
        match write {
            "key" => a.insert_keys(vec![key("k")]).await.unwrap(),
            "user" => a.insert_user(user("u1", "Ann")).await.unwrap(),
            _ => a.insert_issued(issued(CredentialKind::Session, "s1", "u1", 9_000)).await.unwrap(),
        }
        let waited = Instant::now();
        let raised = blocking::unblock({
            let signal = std::sync::Arc::clone(&signal);
            move || signal.wait(seen, Duration::from_secs(10))
        })
        .await;
        assert!(raised > seen, "write {n} ({write}) raised nothing in {:?}", waited.elapsed());
    }
}

/// Marks moved by two writers at once add up: no step is lost.
pub async fn marks_add_up_across_writers(a: &dyn DynStore, b: &dyn DynStore) {
    let step = |name: &str| MarkAdvance { name: name.into(), at: 1_000, add: 5, cap: 1_000_000 };
    let writes = (0..20).map(|n| {
        let store = if n % 2 == 0 { a } else { b };
        store.advance_marks(vec![step("k:x"), step("u:y")])
    });
    for done in join_all(writes).await {
        done.unwrap();
    }
    let read = |name: &str| MarkAdvance { name: name.into(), at: 0, add: 0, cap: 0 };
    assert_eq!(a.advance_marks(vec![read("k:x"), read("u:y")]).await.unwrap(), [1_100, 1_100]);
}
