//! API keys.

use super::key;
use crate::store::{DynStore, StoreError};

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
    assert!(store.update_key(key("a"), revoked.clone()).await.unwrap());
    assert_eq!(store.get_key("a".into()).await.unwrap(), Some(revoked));
    assert!(!store.update_key(key("ghost"), key("ghost")).await.unwrap());
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
    store.update_key(key("a"), renamed.clone()).await.unwrap();
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

/// A key is replaced only if it is still what the writer read: a change read before a
/// revocation cannot undo it.
pub async fn key_updates_are_conditional(store: &dyn DynStore) {
    store.insert_keys(vec![key("a")]).await.unwrap();
    let mut revoked = key("a");
    revoked.revoked = true;
    assert!(store.update_key(key("a"), revoked.clone()).await.unwrap());
    let mut renamed = key("a");
    renamed.name = "read before the revocation".into();
    let err = store.update_key(key("a"), renamed).await.unwrap_err();
    assert!(matches!(err, StoreError::Changed), "{err}");
    assert_eq!(store.get_key("a".into()).await.unwrap(), Some(revoked), "still revoked");
}
