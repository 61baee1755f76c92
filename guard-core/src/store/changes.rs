//! Following a store: every change to an aggregate gets a sequence number from the store, and
//! "the changes since N" is how an in-memory index loads and then keeps up.

use compact_str::CompactString;

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
