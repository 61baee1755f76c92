//! Sessions and bearer tokens in the redb file: their change log, and who they were issued to.

use redb::{ReadableDatabase, ReadableTable};

use super::log::{self, Entry, Logged};
use super::schema::{ISSUED, ISSUED_BY_USER};
use super::{RedbStore, db_err, usage};
use crate::clock::Timestamp;
use crate::store::{Changes, IssuedChange, IssuedRecord, IssuedStore, StoreError};
use crate::usage::Subject;

/// The deletion of a session or token stays in the log until a day after the credential
/// would have expired anyway: a follower that missed it by then has dropped the credential by
/// itself.
const DELETIONS_KEPT: i64 = crate::clock::DAY;

impl Logged for IssuedRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl IssuedStore for RedbStore {
    async fn insert_issued(&self, record: IssuedRecord) -> Result<(), StoreError> {
        self.write(move |txn| {
            let (user, id) = (record.user_id.clone(), record.id.clone());
            ISSUED.insert(txn, vec![record])?;
            let mut by_user = txn.open_table(ISSUED_BY_USER).map_err(db_err)?;
            by_user.insert((user.as_str(), id.as_str()), ()).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_issued(&self, id: String, at: Timestamp) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let ids = txn.open_table(ISSUED.ids).map_err(db_err)?;
            let rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
            let Some(old) = log::get::<IssuedRecord>(&ids, &rows, &id)? else {
                return Ok(false);
            };
            drop((ids, rows));
            let mut by_user = txn.open_table(ISSUED_BY_USER).map_err(db_err)?;
            by_user.remove((old.user_id.as_str(), id.as_str())).map_err(db_err)?;
            drop(by_user);
            ISSUED.delete(txn, &id, Some(at.max(old.expires_at)))
        })
        .await
    }

    async fn delete_issued_to(&self, user_id: String, at: Timestamp) -> Result<u64, StoreError> {
        self.write(move |txn| {
            let mut doomed = Vec::new();
            {
                let mut by_user = txn.open_table(ISSUED_BY_USER).map_err(db_err)?;
                let range = (user_id.as_str(), "")..(user_id.as_str(), "\u{10FFFF}");
                for row in by_user.extract_from_if(range, |_, _| true).map_err(db_err)? {
                    let (key, _) = row.map_err(db_err)?;
                    doomed.push(key.value().1.to_owned());
                }
            }
            let mut deleted = 0;
            for id in doomed {
                let ids = txn.open_table(ISSUED.ids).map_err(db_err)?;
                let rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
                let expires_at = log::get::<IssuedRecord>(&ids, &rows, &id)?.map(|r| r.expires_at);
                drop((ids, rows));
                let kept_until = at.max(expires_at.unwrap_or(at));
                deleted += u64::from(ISSUED.delete(txn, &id, Some(kept_until))?);
            }
            Ok(deleted)
        })
        .await
    }

    async fn get_issued(&self, id: String) -> Result<Option<IssuedRecord>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let ids = txn.open_table(ISSUED.ids).map_err(db_err)?;
            let rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
            log::get(&ids, &rows, &id)
        })
        .await
    }

    async fn count_issued(&self) -> Result<u64, StoreError> {
        self.run(|db| {
            log::count(&db.begin_read().map_err(db_err)?.open_table(ISSUED.ids).map_err(db_err)?)
        })
        .await
    }

    async fn issued_changes(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Changes<IssuedChange>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            log::changes(&txn.open_table(ISSUED.rows).map_err(db_err)?, cursor, limit)
        })
        .await
    }

    async fn prune_issued(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.write(move |txn| {
            let mut expired = Vec::new();
            let mut old_deletions = Vec::new();
            {
                let rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
                for row in rows.iter().map_err(db_err)? {
                    let (seq, bytes) = row.map_err(db_err)?;
                    match log::decode::<IssuedRecord>(bytes.value())? {
                        Entry::Record(record) if record.expires_at < before => {
                            expired.push((record.user_id, record.id, record.kind));
                        }
                        Entry::DeletedAt(_, at) if at < before - DELETIONS_KEPT => {
                            old_deletions.push(seq.value());
                        }
                        _ => {}
                    }
                }
            }
            let mut by_user = txn.open_table(ISSUED_BY_USER).map_err(db_err)?;
            for (user, id, _) in &expired {
                by_user.remove((user.as_str(), id.as_str())).map_err(db_err)?;
            }
            drop(by_user);
            let pruned = expired.len() as u64;
            for (_, id, kind) in expired {
                ISSUED.forget(txn, &id)?;
                // Its usage goes with it.
                usage::forget(txn, &Subject::new(kind, id.as_str()))?;
            }
            let mut rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
            for seq in old_deletions {
                rows.remove(seq).map_err(db_err)?;
            }
            Ok(pruned)
        })
        .await
    }
}
