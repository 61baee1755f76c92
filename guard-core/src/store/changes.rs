//! Following a store: every change to an aggregate gets a sequence number from the store, and
//! "the changes since N" is how an in-memory index loads and then keeps up.

use std::future::Future;
use std::sync::{PoisonError, RwLock};

use compact_str::CompactString;

use super::StoreError;

/// One change to a record, as a store's `*_changes` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<R> {
    /// The store's sequence number of this change: strictly increasing.
    pub seq: u64,
    /// The record it changed.
    pub id: CompactString,
    /// The record as it is now; `None` if it was deleted.
    pub record: Option<R>,
}

/// A page of changes, and the cursor to ask from next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes<T> {
    /// The changes after the cursor asked from, oldest first.
    pub changes: Vec<T>,
    /// The sequence number of the last change returned (the cursor asked from if none was).
    pub cursor: u64,
}

/// An in-memory index that follows a store: it knows the last change it applied.
pub(crate) trait Follows {
    /// The sequence number of the last change applied.
    fn cursor(&self) -> u64;
    /// Notes that the change numbered `seq` was applied.
    fn set_cursor(&mut self, seq: u64);
}

/// Brings `index` up to date: asks the store (`fetch`) for the changes after the index's
/// cursor, page by page, and applies each new one in order under the write lock, until none
/// are left. Another catch-up may have applied some meanwhile: each change applies once.
pub(crate) async fn catch_up<I, R, Fut>(
    index: &RwLock<I>,
    fetch: impl Fn(u64) -> Fut,
    mut apply: impl FnMut(&mut I, Change<R>),
) -> Result<(), StoreError>
where
    I: Follows,
    Fut: Future<Output = Result<Changes<Change<R>>, StoreError>>,
{
    loop {
        let cursor = index.read().unwrap_or_else(PoisonError::into_inner).cursor();
        let page = fetch(cursor).await?;
        if page.changes.is_empty() {
            return Ok(());
        }
        let mut index = index.write().unwrap_or_else(PoisonError::into_inner);
        for change in page.changes {
            if change.seq > index.cursor() {
                index.set_cursor(change.seq);
                apply(&mut index, change);
            }
        }
    }
}
