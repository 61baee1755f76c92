//! Login throttling in the redb file. Written without waiting for the disk
//! (`Durability::None`): a failed login must not cost an fsync, which would let a flood of
//! guesses hold up every durable write. The next durable commit (any write of the admin API,
//! any usage flush) makes the counts durable too, so a restart seldom forgets them.

use redb::{Durability, ReadableDatabase, ReadableTable};

use super::schema::{FAILURES, KNOWN_ADDRESSES};
use super::{RedbStore, db_err};
use crate::clock::Timestamp;
use crate::store::{FailureCount, FailureUpdate, StoreError, ThrottleStore};

impl ThrottleStore for RedbStore {
    async fn update_failures(
        &self,
        keys: Vec<String>,
        update: FailureUpdate,
    ) -> Result<Vec<FailureCount>, StoreError> {
        self.run(move |db| {
            let mut txn = db.begin_write().map_err(db_err)?;
            txn.set_durability(Durability::None).map_err(db_err)?;
            let before = {
                let mut table = txn.open_table(FAILURES).map_err(db_err)?;
                let mut counts = Vec::with_capacity(keys.len());
                for key in &keys {
                    let stored = table.get(key.as_str()).map_err(db_err)?.map(|v| v.value());
                    let (failures, blocked_until, last) = stored.unwrap_or_default();
                    counts.push(FailureCount { failures, blocked_until, last });
                }
                let before = counts.clone();
                update(&mut counts);
                for (key, count) in keys.iter().zip(&counts) {
                    if *count == FailureCount::default() {
                        table.remove(key.as_str()).map_err(db_err)?;
                    } else {
                        let value = (count.failures, count.blocked_until, count.last);
                        table.insert(key.as_str(), value).map_err(db_err)?;
                    }
                }
                before
            };
            txn.commit().map_err(db_err)?;
            Ok(before)
        })
        .await
    }

    async fn known_address(&self, user: String, address: String) -> Result<bool, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(KNOWN_ADDRESSES).map_err(db_err)?;
            Ok(table.get((user.as_str(), address.as_str())).map_err(db_err)?.is_some())
        })
        .await
    }

    async fn remember_address(
        &self,
        user: String,
        address: String,
        at: Timestamp,
        keep: u32,
    ) -> Result<(), StoreError> {
        self.run(move |db| {
            let mut txn = db.begin_write().map_err(db_err)?;
            txn.set_durability(Durability::None).map_err(db_err)?;
            {
                let mut table = txn.open_table(KNOWN_ADDRESSES).map_err(db_err)?;
                table.insert((user.as_str(), address.as_str()), at).map_err(db_err)?;
                let mut known = Vec::new();
                let range = (user.as_str(), "")..(user.as_str(), "\u{10FFFF}");
                for row in table.range(range).map_err(db_err)? {
                    let (key, value) = row.map_err(db_err)?;
                    known.push((value.value(), key.value().1.to_owned()));
                }
                known.sort_unstable_by(|a, b| b.cmp(a));
                for (_, old) in known.iter().skip(keep as usize) {
                    table.remove((user.as_str(), old.as_str())).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn prune_failures(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |db| {
            let mut txn = db.begin_write().map_err(db_err)?;
            txn.set_durability(Durability::None).map_err(db_err)?;
            let mut pruned = 0;
            {
                let mut table = txn.open_table(FAILURES).map_err(db_err)?;
                for row in table.extract_if(|_, (_, _, last)| last < before).map_err(db_err)? {
                    row.map_err(db_err)?;
                    pruned += 1;
                }
            }
            txn.commit().map_err(db_err)?;
            Ok(pruned)
        })
        .await
    }
}
