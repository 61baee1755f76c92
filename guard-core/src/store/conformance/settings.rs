//! Named settings and login throttling.

use std::future::Future;

use crate::store::{DynStore, FailureCount};

/// Settings round-trip and can be replaced.
pub async fn meta_round_trips(store: &dyn DynStore) {
    assert_eq!(store.meta("missing".into()).await.unwrap(), None);
    store.set_meta("x".into(), b"one".to_vec()).await.unwrap();
    store.set_meta("x".into(), b"two".to_vec()).await.unwrap();
    assert_eq!(store.meta("x".into()).await.unwrap(), Some(b"two".to_vec()));
}

/// A setting is replaced only from the value it has: of several replacements of one value at
/// once, exactly one succeeds.
pub async fn meta_is_replaced_only_from_its_value(store: &dyn DynStore) {
    let replace = |expected: &[u8], value: &[u8]| {
        store.replace_meta("r".into(), expected.to_vec(), value.to_vec())
    };
    assert!(!replace(b"one", b"two").await.unwrap(), "nothing to replace");
    assert_eq!(store.meta("r".into()).await.unwrap(), None);
    store.set_meta("r".into(), b"one".to_vec()).await.unwrap();
    assert!(!replace(b"other", b"two").await.unwrap());
    assert_eq!(store.meta("r".into()).await.unwrap(), Some(b"one".to_vec()));
    assert!(replace(b"one", b"two").await.unwrap());
    assert_eq!(store.meta("r".into()).await.unwrap(), Some(b"two".to_vec()));
    let racing = (0..8u8).map(|n| {
        let value = vec![b'v', n];
        async move { (replace(b"two", &value).await.unwrap(), value) }
    });
    let answers = join_all(racing).await;
    let winners: Vec<&Vec<u8>> = answers.iter().filter(|(won, _)| *won).map(|(_, v)| v).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert_eq!(store.meta("r".into()).await.unwrap().as_ref(), Some(winners[0]));
}

fn bump(counts: &mut [FailureCount]) {
    for count in counts {
        count.failures += 1;
        count.last = 1_000;
    }
}

/// Failure counts start at the default, change through the update as one step, and come
/// back as they were before it; a count left at the default is as if never counted.
pub async fn failure_counts_change_as_one_step(store: &dyn DynStore) {
    let keys = || vec!["p|n:ann|10.0.0.1".to_owned(), "i|10.0.0.1".to_owned()];
    let before = store.update_failures(keys(), Box::new(bump)).await.unwrap();
    assert_eq!(before, vec![FailureCount::default(); 2]);
    let before = store
        .update_failures(
            keys(),
            Box::new(|counts: &mut [FailureCount]| {
                counts[0].blocked_until = 2_000;
                counts[1] = FailureCount::default();
            }),
        )
        .await
        .unwrap();
    let one = FailureCount { failures: 1, blocked_until: 0, last: 1_000 };
    assert_eq!(before, vec![one; 2]);
    let now = store.update_failures(keys(), Box::new(|_: &mut [FailureCount]| {})).await.unwrap();
    assert_eq!(now, vec![FailureCount { blocked_until: 2_000, ..one }, FailureCount::default()]);

    // Many updates at once: none is lost.
    let updates = (0..20).map(|_| store.update_failures(vec!["a|u:x".into()], Box::new(bump)));
    for done in join_all(updates).await {
        done.unwrap();
    }
    let counted = store.update_failures(vec!["a|u:x".into()], Box::new(|_: &mut [_]| {}));
    assert_eq!(counted.await.unwrap()[0].failures, 20);
}

/// Runs futures at once, in order of their answers.
pub(crate) async fn join_all<T>(futures: impl Iterator<Item = impl Future<Output = T>>) -> Vec<T> {
    let mut pending: Vec<_> = futures.map(Box::pin).collect();
    let mut done = Vec::new();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|future| match future.as_mut().poll(cx) {
            std::task::Poll::Ready(value) => {
                done.push(Some(value));
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// A user's known addresses: the latest `keep`, another user's apart.
pub async fn known_addresses_keep_the_latest(store: &dyn DynStore) {
    for (n, address) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].into_iter().enumerate() {
        store.remember_address("u1".into(), address.into(), 100 + n as i64, 2).await.unwrap();
    }
    let known = async |user: &str, address: &str| {
        store.known_address(user.into(), address.into()).await.unwrap()
    };
    assert!(!known("u1", "10.0.0.1").await, "the oldest of three is forgotten");
    assert!(known("u1", "10.0.0.2").await && known("u1", "10.0.0.3").await);
    assert!(!known("u2", "10.0.0.3").await, "another user's");
    store.remember_address("u1".into(), "10.0.0.2".into(), 200, 2).await.unwrap();
    store.remember_address("u1".into(), "10.0.0.4".into(), 201, 2).await.unwrap();
    assert!(known("u1", "10.0.0.2").await, "used again, so among the latest");
    assert!(!known("u1", "10.0.0.3").await);
}

/// Pruning forgets the counts whose latest failure is old, and only those.
pub async fn prune_forgets_idle_failure_counts(store: &dyn DynStore) {
    let at = |last: i64| {
        Box::new(move |counts: &mut [FailureCount]| {
            counts[0] = FailureCount { failures: 3, blocked_until: 0, last }
        })
    };
    store.update_failures(vec!["old".into()], at(100)).await.unwrap();
    store.update_failures(vec!["new".into()], at(5_000)).await.unwrap();
    assert_eq!(store.prune_failures(1_000).await.unwrap(), 1);
    let read = |key: &str| store.update_failures(vec![key.into()], Box::new(|_: &mut [_]| {}));
    assert_eq!(read("old").await.unwrap()[0], FailureCount::default());
    assert_eq!(read("new").await.unwrap()[0].failures, 3);
    assert_eq!(store.prune_failures(1_000).await.unwrap(), 0);
}
