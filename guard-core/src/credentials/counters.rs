//! Loading the stored counters of keys, sessions and tokens into their entries.

use crate::store::{SharedStore, StoreError};
use crate::usage::{Counters, CredentialKind};

/// How many counters one load reads per store call.
const PAGE: usize = 10_000;

/// Reads the stored counters of every credential of `kind`, page by page, handing each to
/// `apply` (which sets them on the credential's entry in an index).
pub(crate) async fn load_counters(
    store: &SharedStore,
    kind: CredentialKind,
    mut apply: impl FnMut(&str, Counters),
) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let page = store.counters(kind, after.take(), PAGE).await?;
        let Some((last, _)) = page.last() else { return Ok(()) };
        after = Some(last.clone());
        for (id, counters) in &page {
            apply(id, *counters);
        }
    }
}
