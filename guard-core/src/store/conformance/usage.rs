//! Usage: counters, rollups, the last requests.

use super::key;
use crate::store::{DynStore, MarkAdvance};
use crate::usage::{
    Counters, CredentialKind, RecentUse, RequestMethod, Rollup, Subject, SubjectUsage, UsageBatch,
    UsageOutcome,
};

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
    let some = store.counters_of(CredentialKind::ApiKey, vec!["c".into(), "b".into()]).await;
    let some = some.unwrap();
    assert_eq!(some, vec![("c".to_owned(), Counters { uses: 1, last_used_at: Some(7) })]);
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

fn advance(name: &str, at: i64, add: i64, cap: i64) -> MarkAdvance {
    MarkAdvance { name: name.into(), at, add, cap }
}

/// Marks start at the time given, move by what is added, stop at the cap, never go back,
/// and answer in the order asked.
pub async fn marks_advance_and_never_go_back(store: &dyn DynStore) {
    let after = store
        .advance_marks(vec![advance("k:a", 1_000, 30, 500), advance("u:b", 1_000, 0, 500)])
        .await
        .unwrap();
    assert_eq!(after, [1_030, 1_000]);
    let after = store
        .advance_marks(vec![
            advance("u:b", 2_000, 10, 500),
            advance("k:a", 1_010, 30, 500),
            advance("k:c", 5, 1_000, 100),
        ])
        .await
        .unwrap();
    assert_eq!(after, [2_010, 1_060, 105], "from the later of mark and now; capped");
    let after = store.advance_marks(vec![advance("k:a", 0, 0, 0)]).await.unwrap();
    assert_eq!(after, [1_060], "never back, whatever the caller's clock");
    assert_eq!(store.advance_marks(vec![]).await.unwrap(), Vec::<i64>::new());
}
