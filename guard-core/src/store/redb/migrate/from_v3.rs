//! Version 3 → 4: keys and users gain a rate limit (none, for those written before).

use compact_str::CompactString;
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::clock::Timestamp;
use crate::store::redb::db_err;
use crate::store::redb::log::{Entry, decode, encode};
use crate::store::redb::schema::{KEYS, USERS};
use crate::store::{KeyRecord, StoreError, UserRecord};

/// A key as version 3 wrote it (postcard: the fields in this order).
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct V3Key {
    id: CompactString,
    #[serde(with = "crate::store::keys::hash_bytes")]
    hash: [u8; 32],
    name: CompactString,
    owner: Option<CompactString>,
    roles: Vec<CompactString>,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    revoked: bool,
}

/// A user as version 3 wrote it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct V3User {
    id: CompactString,
    name: CompactString,
    normalized: CompactString,
    password: String,
    roles: Vec<CompactString>,
    disabled: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    generation: u32,
}

pub(in crate::store::redb) fn from_v3(txn: &WriteTransaction) -> Result<(), StoreError> {
    rewrite(txn, KEYS.rows, |old: V3Key| KeyRecord {
        id: old.id,
        hash: old.hash,
        name: old.name,
        owner: old.owner,
        roles: old.roles,
        created_at: old.created_at,
        expires_at: old.expires_at,
        revoked: old.revoked,
        rate_limit: None,
    })?;
    rewrite(txn, USERS.rows, |old: V3User| UserRecord {
        id: old.id,
        name: old.name,
        normalized: old.normalized,
        password: old.password,
        roles: old.roles,
        disabled: old.disabled,
        created_at: old.created_at,
        updated_at: old.updated_at,
        generation: old.generation,
        rate_limit: None,
    })?;
    tracing::info!(
        keys = "rate limit",
        users = "rate limit",
        "migrated the guard database from version 3 to 4"
    );
    Ok(())
}

/// Rewrites every row of a change log from the old record to the new.
fn rewrite<Old: DeserializeOwned, New: serde::Serialize>(
    txn: &WriteTransaction,
    table: TableDefinition<'static, u64, &'static [u8]>,
    convert: impl Fn(Old) -> New,
) -> Result<(), StoreError> {
    let mut rows = txn.open_table(table).map_err(db_err)?;
    let mut rewritten = Vec::new();
    for row in rows.iter().map_err(db_err)? {
        let (seq, bytes) = row.map_err(db_err)?;
        let entry = match decode::<Old>(bytes.value())? {
            Entry::Record(old) => Entry::Record(convert(old)),
            Entry::Deleted(id) => Entry::Deleted(id),
            Entry::DeletedAt(id, at) => Entry::DeletedAt(id, at),
        };
        rewritten.push((seq.value(), encode(&entry)?));
    }
    for (seq, bytes) in rewritten {
        rows.insert(seq, bytes.as_slice()).map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::store::redb::schema::{META, SCHEMA_VERSION_KEY};
    use crate::store::{KeyStore, RedbStore, UserStore};

    #[test]
    fn keys_and_users_gain_no_rate_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        drop(RedbStore::open(&path).unwrap());
        {
            // What version 3 left: a key, a deleted key, a user.
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let mut meta = txn.open_table(META).unwrap();
            meta.insert(SCHEMA_VERSION_KEY, 3u32.to_le_bytes().as_slice()).unwrap();
            drop(meta);
            let key = V3Key {
                id: "k1".into(),
                hash: [7; 32],
                name: "ci".into(),
                owner: Some("u1".into()),
                roles: vec!["reader".into()],
                created_at: 100,
                expires_at: Some(9_000),
                revoked: true,
            };
            let mut ids = txn.open_table(KEYS.ids).unwrap();
            let mut rows = txn.open_table(KEYS.rows).unwrap();
            ids.insert("k1", 1).unwrap();
            rows.insert(1, encode(&Entry::Record(key)).unwrap().as_slice()).unwrap();
            let gone: Entry<V3Key> = Entry::Deleted("k0".into());
            rows.insert(2, encode(&gone).unwrap().as_slice()).unwrap();
            drop((ids, rows));
            let user = V3User {
                id: "u1".into(),
                name: "Ada".into(),
                normalized: "ada".into(),
                password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                roles: vec!["reader".into()],
                disabled: false,
                created_at: 50,
                updated_at: 60,
                generation: 3,
            };
            let mut ids = txn.open_table(USERS.ids).unwrap();
            let mut rows = txn.open_table(USERS.rows).unwrap();
            ids.insert("u1", 3).unwrap();
            rows.insert(3, encode(&Entry::Record(user)).unwrap().as_slice()).unwrap();
            drop((ids, rows));
            txn.commit().unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        let key = pollster::block_on(store.get_key("k1".into())).unwrap().unwrap();
        assert_eq!((key.name.as_str(), key.revoked, key.expires_at), ("ci", true, Some(9_000)));
        assert_eq!((key.owner.as_deref(), key.rate_limit), (Some("u1"), None));
        let changes = pollster::block_on(store.key_changes(0, 10)).unwrap();
        let ids: Vec<(&str, bool)> =
            changes.changes.iter().map(|c| (c.id.as_str(), c.record.is_some())).collect();
        assert_eq!(ids, [("k1", true), ("k0", false)]);
        let user = pollster::block_on(store.get_user("u1".into())).unwrap().unwrap();
        assert_eq!((user.name.as_str(), user.generation, user.rate_limit), ("Ada", 3, None));
        drop(store);
        let db = Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let version = txn.open_table(META).unwrap().get(SCHEMA_VERSION_KEY).unwrap().unwrap();
        assert_eq!(version.value(), 4u32.to_le_bytes().as_slice());
    }
}
