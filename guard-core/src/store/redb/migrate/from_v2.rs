//! Version 2 → 3: sessions and tokens gain `last_seen_at` (a session's from its usage
//! counters, which were its idle clock until now).

use compact_str::CompactString;
use redb::{ReadableTable, WriteTransaction};
use serde::Deserialize;

use crate::clock::Timestamp;
use crate::store::IssuedRecord;
use crate::store::StoreError;
use crate::store::redb::db_err;
use crate::store::redb::log::{Entry, decode, encode};
use crate::store::redb::schema::{COUNTERS, ISSUED};
use crate::usage::CredentialKind;

/// The kind of an issued credential as version 2 wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
enum V2Kind {
    Session,
    Token,
}

/// An issued credential as version 2 wrote it (postcard: the fields in this order).
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct V2Issued {
    kind: V2Kind,
    id: CompactString,
    #[serde(with = "crate::store::keys::hash_bytes")]
    hash: [u8; 32],
    user_id: CompactString,
    user_generation: u32,
    created_at: Timestamp,
    authenticated_at: Timestamp,
    expires_at: Timestamp,
    idle_timeout: Option<i64>,
    revoked: bool,
}

pub(in crate::store::redb) fn from_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
    let counters = txn.open_table(COUNTERS).map_err(db_err)?;
    let mut rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
    let mut rewritten = Vec::new();
    for row in rows.iter().map_err(db_err)? {
        let (seq, bytes) = row.map_err(db_err)?;
        let entry = match decode::<V2Issued>(bytes.value())? {
            Entry::Record(old) => {
                let last_seen_at = match old.kind {
                    V2Kind::Session => counters
                        .get((CredentialKind::Session.code(), old.id.as_str()))
                        .map_err(db_err)?
                        .map(|v| v.value().1)
                        .filter(|&last| last != i64::MIN),
                    V2Kind::Token => None,
                };
                let kind = match old.kind {
                    V2Kind::Session => CredentialKind::Session,
                    V2Kind::Token => CredentialKind::Token,
                };
                Entry::Record(IssuedRecord {
                    kind,
                    id: old.id,
                    hash: old.hash,
                    user_id: old.user_id,
                    user_generation: old.user_generation,
                    created_at: old.created_at,
                    authenticated_at: old.authenticated_at,
                    expires_at: old.expires_at,
                    idle_timeout: old.idle_timeout,
                    revoked: old.revoked,
                    last_seen_at,
                })
            }
            Entry::Deleted(id) => Entry::Deleted(id),
            Entry::DeletedAt(id, at) => Entry::DeletedAt(id, at),
        };
        rewritten.push((seq.value(), encode(&entry)?));
    }
    for (seq, bytes) in rewritten {
        rows.insert(seq, bytes.as_slice()).map_err(db_err)?;
    }
    tracing::info!(sessions = "last seen", "migrated the guard database from version 2 to 3");
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::store::redb::schema::{META, SCHEMA_VERSION, SCHEMA_VERSION_KEY};
    use crate::store::{IssuedStore, RedbStore};

    fn v2(kind: V2Kind, id: &str) -> V2Issued {
        V2Issued {
            kind,
            id: id.into(),
            hash: [3; 32],
            user_id: "u1".into(),
            user_generation: 2,
            created_at: 100,
            authenticated_at: 100,
            expires_at: 9_000,
            idle_timeout: (kind == V2Kind::Session).then_some(1_800),
            revoked: false,
        }
    }

    #[test]
    fn sessions_gain_when_they_were_last_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        drop(RedbStore::open(&path).unwrap());
        {
            // What version 2 left: a session used at 700, a token, a deleted session.
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let mut meta = txn.open_table(META).unwrap();
            meta.insert(SCHEMA_VERSION_KEY, 2u32.to_le_bytes().as_slice()).unwrap();
            drop(meta);
            let mut ids = txn.open_table(ISSUED.ids).unwrap();
            let mut rows = txn.open_table(ISSUED.rows).unwrap();
            let entries = [
                Entry::Record(v2(V2Kind::Session, "s1")),
                Entry::Record(v2(V2Kind::Token, "t1")),
                Entry::Deleted("s0".into()),
            ];
            for (seq, entry) in (1u64..).zip(entries) {
                if let Entry::Record(record) = &entry {
                    ids.insert(record.id.as_str(), seq).unwrap();
                }
                rows.insert(seq, encode(&entry).unwrap().as_slice()).unwrap();
            }
            drop((ids, rows));
            let mut counters = txn.open_table(COUNTERS).unwrap();
            counters.insert((CredentialKind::Session.code(), "s1"), (4u64, 700i64)).unwrap();
            drop(counters);
            txn.commit().unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        let session = pollster::block_on(store.get_issued("s1".into())).unwrap().unwrap();
        assert_eq!((session.last_seen_at, session.user_generation), (Some(700), 2));
        let token = pollster::block_on(store.get_issued("t1".into())).unwrap().unwrap();
        assert_eq!(token.last_seen_at, None);
        let changes = pollster::block_on(store.issued_changes(0, 10)).unwrap();
        let ids: Vec<(&str, bool)> =
            changes.changes.iter().map(|c| (c.id.as_str(), c.record.is_some())).collect();
        assert_eq!(ids, [("s1", true), ("t1", true), ("s0", false)]);
        drop(store);
        let db = Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let version = txn.open_table(META).unwrap().get(SCHEMA_VERSION_KEY).unwrap().unwrap();
        assert_eq!(version.value(), SCHEMA_VERSION.to_le_bytes().as_slice());
    }
}
