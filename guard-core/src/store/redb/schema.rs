//! The tables of a guard redb file, and what opening one checks.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use super::log::Log;
use super::{db_err, migrate};
use crate::store::StoreError;

/// Bumped whenever the layout changes; opening an older file migrates it, a newer one is an
/// error. Version 1: JSON records and one usage record per request. Version 2: binary
/// records, a change log of keys, usage as counters, rollups and the last requests. Version
/// 3: sessions carry when they were last seen; login throttling is kept in the file. Version
/// 4: keys and users carry a rate limit.
pub(super) const SCHEMA_VERSION: u32 = 4;
pub(super) const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Named settings.
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("guard_meta");
/// API keys.
pub(super) const KEYS: Log =
    Log { ids: TableDefinition::new("guard_keys"), rows: TableDefinition::new("guard_key_log") };
/// Users.
pub(super) const USERS: Log =
    Log { ids: TableDefinition::new("guard_users"), rows: TableDefinition::new("guard_user_log") };
/// Normalized user name → user id: names are unique.
pub(super) const USER_NAMES: TableDefinition<&str, &str> = TableDefinition::new("guard_user_names");
/// Sessions and bearer tokens.
pub(super) const ISSUED: Log = Log {
    ids: TableDefinition::new("guard_issued"),
    rows: TableDefinition::new("guard_issued_log"),
};
/// (user id, credential id): what was issued to whom, so a user's end ends them all.
pub(super) const ISSUED_BY_USER: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("guard_issued_by_user");
/// (kind, id) → (uses, last used at; `i64::MIN` for never).
pub(super) const COUNTERS: TableDefinition<(u8, &str), (u64, i64)> =
    TableDefinition::new("guard_usage_counters");
/// One of the last requests: (n, at, method, outcome, route).
pub(super) type RecentRow<'a> = (u64, i64, u8, u8, &'a str);
/// (kind, id, slot) → one of the last requests, in a ring of slots.
pub(super) const RECENT: TableDefinition<(u8, &str, u32), RecentRow<'static>> =
    TableDefinition::new("guard_usage_recent");
/// (kind, id, minute, route, method, outcome) → count.
pub(super) const ROLLUPS: TableDefinition<(u8, &str, i64, &str, u8, u8), u64> =
    TableDefinition::new("guard_usage_rollups");
/// (minute, kind, id): which credentials have rollups in a minute, so retention prunes by
/// time without a full scan.
pub(super) const ROLLUP_MINUTES: TableDefinition<(i64, u8, &str), ()> =
    TableDefinition::new("guard_usage_minutes");
/// Marks every process moves, by name (what rate limits share).
pub(super) const MARKS: TableDefinition<&str, i64> = TableDefinition::new("guard_marks");
/// Login throttling: key → (failures, blocked until, last failure).
pub(super) const FAILURES: TableDefinition<&str, (u32, i64, i64)> =
    TableDefinition::new("guard_throttle_failures");
/// (user id, address) → when the user last logged in from it.
pub(super) const KNOWN_ADDRESSES: TableDefinition<(&str, &str), i64> =
    TableDefinition::new("guard_throttle_known");

/// Checks that the file is a guard database of exactly this build's version; changes
/// nothing.
pub(super) fn check(db: &Database, path: &Path) -> Result<(), StoreError> {
    let location = || path.display().to_string();
    let txn = db.begin_read().map_err(db_err)?;
    let tables: Vec<String> =
        txn.list_tables().map_err(db_err)?.map(|t| t.name().to_owned()).collect();
    if tables.is_empty() {
        return Err(StoreError::Missing { location: location() });
    }
    if !tables.iter().any(|t| t == META.name()) {
        return Err(StoreError::Foreign { location: location() });
    }
    let meta = txn.open_table(META).map_err(db_err)?;
    let found = match meta.get(SCHEMA_VERSION_KEY).map_err(db_err)? {
        Some(v) => decode_version(v.value())?,
        None => return Err(StoreError::Missing { location: location() }),
    };
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Less => {
            Err(StoreError::OlderSchema { location: location(), found, expected: SCHEMA_VERSION })
        }
        std::cmp::Ordering::Greater => Err(newer(path, found)),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn newer(path: &Path, found: u32) -> StoreError {
    StoreError::NewerSchema {
        location: path.display().to_string(),
        found,
        supported: SCHEMA_VERSION,
    }
}

/// Checks that the file is a guard database this build reads, migrates an older one, and
/// creates whatever tables are missing.
pub(super) fn prepare(db: &Database, path: &Path) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(db_err)?;
    let tables: Vec<String> =
        txn.list_tables().map_err(db_err)?.map(|t| t.name().to_owned()).collect();
    let fresh = tables.is_empty();
    if !fresh && !tables.iter().any(|t| t == META.name()) {
        return Err(StoreError::Foreign { location: path.display().to_string() });
    }
    let found = {
        let meta = txn.open_table(META).map_err(db_err)?;
        let version = meta.get(SCHEMA_VERSION_KEY).map_err(db_err)?;
        match version {
            Some(v) => Some(decode_version(v.value())?),
            None => None,
        }
    };
    match found {
        Some(found) if found > SCHEMA_VERSION => return Err(newer(path, found)),
        Some(1) => {
            // Version 1 had keys only, which `from_v1` writes in today's form.
            migrate::from_v1(&txn)?;
            migrate::from_v2(&txn)?;
        }
        Some(2) => {
            migrate::from_v2(&txn)?;
            migrate::from_v3(&txn)?;
        }
        Some(3) => migrate::from_v3(&txn)?,
        _ => {}
    }
    txn.open_table(META)
        .map_err(db_err)?
        .insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_le_bytes().as_slice())
        .map_err(db_err)?;
    for log in [KEYS, USERS, ISSUED] {
        txn.open_table(log.ids).map_err(db_err)?;
        txn.open_table(log.rows).map_err(db_err)?;
    }
    txn.open_table(USER_NAMES).map_err(db_err)?;
    txn.open_table(ISSUED_BY_USER).map_err(db_err)?;
    txn.open_table(COUNTERS).map_err(db_err)?;
    txn.open_table(RECENT).map_err(db_err)?;
    txn.open_table(ROLLUPS).map_err(db_err)?;
    txn.open_table(ROLLUP_MINUTES).map_err(db_err)?;
    txn.open_table(FAILURES).map_err(db_err)?;
    txn.open_table(KNOWN_ADDRESSES).map_err(db_err)?;
    txn.open_table(MARKS).map_err(db_err)?;
    txn.commit().map_err(db_err)
}

fn decode_version(bytes: &[u8]) -> Result<u32, StoreError> {
    let bytes: [u8; 4] = bytes
        .try_into()
        .map_err(|_| StoreError::Damaged("the schema version is not a 32-bit number".into()))?;
    Ok(u32::from_le_bytes(bytes))
}
