//! Version 1 → 2: JSON records become binary ones in a change log, and the per-request usage
//! records become counters, per-minute rollups and the last requests of each key.

use std::collections::BTreeMap;

use compact_str::CompactString;
use redb::{ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use serde::Deserialize;

use crate::clock::{MINUTE, Timestamp, period_start};
use crate::store::redb::db_err;
use crate::store::redb::schema::{COUNTERS, KEYS, META, RECENT, ROLLUP_MINUTES, ROLLUPS};
use crate::store::{KeyRecord, StoreError};
use crate::usage::{CredentialKind, RequestMethod, UsageOutcome};

const V1_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_api_keys");
const V1_COUNTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_key_counters");
const V1_USAGE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("guard_usage");
const V1_USAGE_BY_TIME: TableDefinition<(i64, u64), &str> =
    TableDefinition::new("guard_usage_by_time");

/// How many of a key's last requests version 1 records become (the default of version 2).
const RECENT_KEPT: usize = 100;

#[derive(Deserialize)]
struct V1Key {
    id: CompactString,
    hash: String,
    name: CompactString,
    #[serde(default)]
    owner: Option<CompactString>,
    #[serde(default)]
    roles: Vec<CompactString>,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    #[serde(default)]
    revoked: bool,
}

#[derive(Deserialize)]
struct V1Counters {
    total_uses: u64,
    last_used_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct V1Usage {
    at: Timestamp,
    outcome: UsageOutcome,
    method: String,
    route: String,
}

fn json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Damaged(format!("version 1 record: {e}")))
}

fn method(name: &str) -> RequestMethod {
    http::Method::from_bytes(name.as_bytes()).map_or(RequestMethod::Other, |m| (&m).into())
}

pub(in crate::store::redb) fn from_v1(txn: &WriteTransaction) -> Result<(), StoreError> {
    let kind = CredentialKind::ApiKey.code();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    {
        let old_keys = txn.open_table(V1_KEYS).map_err(db_err)?;
        let mut records = Vec::new();
        for row in old_keys.iter().map_err(db_err)? {
            let (_, value) = row.map_err(db_err)?;
            let old: V1Key = json(value.value())?;
            let Ok(hash) = blake3::Hash::from_hex(&old.hash) else {
                tracing::error!(id = %old.id, "a version 1 key has a damaged hash; not migrated");
                continue;
            };
            let record = KeyRecord {
                id: old.id,
                hash: *hash.as_bytes(),
                name: old.name,
                owner: old.owner,
                roles: old.roles,
                created_at: old.created_at,
                expires_at: old.expires_at,
                revoked: old.revoked,
                rate_limit: None,
            };
            records.push(record);
        }
        drop(old_keys);
        KEYS.insert(txn, records)?;
    }
    {
        let old = txn.open_table(V1_COUNTERS).map_err(db_err)?;
        let mut counters = txn.open_table(COUNTERS).map_err(db_err)?;
        for row in old.iter().map_err(db_err)? {
            let (id, value) = row.map_err(db_err)?;
            let c: V1Counters = json(value.value())?;
            let last = c.last_used_at.unwrap_or(i64::MIN);
            counters.insert((kind, id.value()), (c.total_uses, last)).map_err(db_err)?;
            totals.insert(id.value().to_owned(), c.total_uses);
        }
    }
    {
        let old = txn.open_table(V1_USAGE).map_err(db_err)?;
        let mut rollups = txn.open_table(ROLLUPS).map_err(db_err)?;
        let mut minutes = txn.open_table(ROLLUP_MINUTES).map_err(db_err)?;
        let mut recent = txn.open_table(RECENT).map_err(db_err)?;
        // Records are in (key, seq) order: each key's, oldest first.
        let mut current: Option<(String, Vec<V1Usage>)> = None;
        let mut flush = |id: &str, records: Vec<V1Usage>| -> Result<(), StoreError> {
            let total = totals.get(id).copied().unwrap_or(0).max(records.len() as u64);
            let newest_first = records.iter().rev().take(RECENT_KEPT);
            for (i, r) in newest_first.enumerate() {
                let n = total - i as u64;
                let slot = u32::try_from(n % RECENT_KEPT as u64).unwrap_or(0);
                let value = (n, r.at, method(&r.method).code(), r.outcome.code(), r.route.as_str());
                recent.insert((kind, id, slot), value).map_err(db_err)?;
            }
            for r in &records {
                let minute = period_start(r.at, MINUTE);
                let key = (
                    kind,
                    id,
                    minute,
                    r.route.as_str(),
                    method(&r.method).code(),
                    r.outcome.code(),
                );
                let count = rollups.get(key).map_err(db_err)?.map_or(0, |v| v.value());
                rollups.insert(key, count + 1).map_err(db_err)?;
                minutes.insert((minute, kind, id), ()).map_err(db_err)?;
            }
            Ok(())
        };
        for row in old.iter().map_err(db_err)? {
            let (key, value) = row.map_err(db_err)?;
            let id = key.value().0.to_owned();
            let record: V1Usage = json(value.value())?;
            match &mut current {
                Some((current_id, records)) if *current_id == id => records.push(record),
                _ => {
                    if let Some((done, records)) = current.take() {
                        flush(&done, records)?;
                    }
                    current = Some((id, vec![record]));
                }
            }
        }
        if let Some((done, records)) = current.take() {
            flush(&done, records)?;
        }
    }
    for table in [V1_KEYS, V1_COUNTERS] {
        txn.delete_table(table).map_err(db_err)?;
    }
    txn.delete_table(V1_USAGE).map_err(db_err)?;
    txn.delete_table(V1_USAGE_BY_TIME).map_err(db_err)?;
    txn.open_table(META).map_err(db_err)?.remove("usage_seq").map_err(db_err)?;
    tracing::info!(tables = V1_KEYS.name(), "migrated the guard database from version 1 to 2");
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::Database;

    use super::*;
    use crate::store::redb::schema::SCHEMA_VERSION_KEY;
    use crate::store::{KeyStore, RedbStore, UsageStore};
    use crate::usage::{Counters, Subject};

    /// A version 1 file as the previous release wrote it: two keys, counters, three usage
    /// records of one key in two minutes.
    fn write_v1(path: &std::path::Path, hash_hex: &str) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(META).unwrap();
            meta.insert(SCHEMA_VERSION_KEY, 1u32.to_le_bytes().as_slice()).unwrap();
            meta.insert("usage_seq", 3u64.to_le_bytes().as_slice()).unwrap();
            let mut keys = txn.open_table(V1_KEYS).unwrap();
            for id in ["AAAAAAAAAAAA", "BBBBBBBBBBBB"] {
                let record = serde_json::json!({
                    "id": id, "hash": hash_hex, "name": format!("key {id}"), "owner": null,
                    "roles": ["admin"], "created_at": 100, "expires_at": null, "revoked": id == "BBBBBBBBBBBB",
                });
                keys.insert(id, serde_json::to_vec(&record).unwrap().as_slice()).unwrap();
            }
            let mut counters = txn.open_table(V1_COUNTERS).unwrap();
            let c = serde_json::json!({"total_uses": 7, "last_used_at": 130});
            counters.insert("AAAAAAAAAAAA", serde_json::to_vec(&c).unwrap().as_slice()).unwrap();
            let mut usage = txn.open_table(V1_USAGE).unwrap();
            let mut by_time = txn.open_table(V1_USAGE_BY_TIME).unwrap();
            for (seq, at, outcome, route) in
                [(1u64, 61i64, "ok", "/a"), (2, 62, "ok", "/a"), (3, 130, "forbidden", "/b")]
            {
                let r = serde_json::json!({
                    "seq": seq, "key_id": "AAAAAAAAAAAA", "at": at, "outcome": outcome,
                    "method": "GET", "route": route,
                });
                usage
                    .insert(("AAAAAAAAAAAA", seq), serde_json::to_vec(&r).unwrap().as_slice())
                    .unwrap();
                by_time.insert((at, seq), "AAAAAAAAAAAA").unwrap();
            }
        }
        txn.commit().unwrap();
    }

    #[test]
    fn a_version_1_file_is_migrated_with_its_keys_counts_and_usage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.redb");
        let hash = blake3::hash(b"AAAAAAAAAAAA_secret");
        write_v1(&path, &hash.to_hex());

        let store = RedbStore::open(&path).unwrap();
        let a = pollster::block_on(store.get_key("AAAAAAAAAAAA".into())).unwrap().unwrap();
        assert_eq!(
            (a.name.as_str(), a.hash, a.roles.as_slice()),
            ("key AAAAAAAAAAAA", *hash.as_bytes(), &["admin".into()][..])
        );
        let b = pollster::block_on(store.get_key("BBBBBBBBBBBB".into())).unwrap().unwrap();
        assert!(b.revoked);
        let counters =
            pollster::block_on(store.counters(CredentialKind::ApiKey, None, 10)).unwrap();
        assert_eq!(
            counters,
            vec![("AAAAAAAAAAAA".to_owned(), Counters { uses: 7, last_used_at: Some(130) })]
        );
        let subject = Subject::new(CredentialKind::ApiKey, "AAAAAAAAAAAA");
        let recent = pollster::block_on(store.recent_uses(subject.clone(), 10)).unwrap();
        let seen: Vec<(u64, &str, UsageOutcome)> =
            recent.iter().map(|r| (r.n, r.route.as_str(), r.outcome)).collect();
        assert_eq!(
            seen,
            [
                (7, "/b", UsageOutcome::Forbidden),
                (6, "/a", UsageOutcome::Ok),
                (5, "/a", UsageOutcome::Ok)
            ]
        );
        let rollups = pollster::block_on(store.rollups(subject, 0, 1000)).unwrap();
        let counts: Vec<(i64, &str, u64)> =
            rollups.iter().map(|r| (r.minute, r.route.as_str(), r.count)).collect();
        assert_eq!(counts, [(60, "/a", 2), (120, "/b", 1)]);
        drop(store);

        // The old tables are gone, and opening again changes nothing.
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(pollster::block_on(store.count_keys()).unwrap(), 2);
        let db = store.db.clone();
        let txn = redb::ReadableDatabase::begin_read(&*db).unwrap();
        let names: Vec<String> = txn.list_tables().unwrap().map(|t| t.name().to_owned()).collect();
        assert!(!names.iter().any(|n| n == "guard_api_keys" || n == "guard_usage"), "{names:?}");
    }
}
