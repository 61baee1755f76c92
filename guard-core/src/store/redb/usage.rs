//! Usage in the redb file: counters, a ring of the last requests, per-minute rollups.

use redb::{ReadableDatabase, ReadableTable, Table, WriteTransaction};

use super::log;
use super::schema::{COUNTERS, ISSUED, KEYS, MARKS, RECENT, ROLLUP_MINUTES, ROLLUPS, RecentRow};
use super::{RedbStore, db_err};
use crate::clock::Timestamp;
use crate::store::{IssuedRecord, MarkAdvance, StoreError, UsageStore};
use crate::usage::{
    Counters, CredentialKind, RecentUse, RequestMethod, Rollup, Subject, SubjectUsage, UsageBatch,
    UsageOutcome,
};

const NEVER: i64 = i64::MIN;

fn damaged(what: &str) -> StoreError {
    StoreError::Damaged(format!("a stored {what} code is unknown"))
}

/// Whether the credential still exists: usage of a deleted one is dropped.
fn exists(txn: &WriteTransaction, subject: &Subject) -> Result<bool, StoreError> {
    match subject.kind {
        CredentialKind::ApiKey => KEYS.exists(txn, &subject.id),
        // Every other kind is issued to a user.
        _ => ISSUED.exists(txn, &subject.id),
    }
}

/// Moves a session's `last_seen_at` forward to its latest use, as a change to follow.
fn touch_session(txn: &WriteTransaction, id: &str, at: Timestamp) -> Result<(), StoreError> {
    let ids = txn.open_table(ISSUED.ids).map_err(db_err)?;
    let rows = txn.open_table(ISSUED.rows).map_err(db_err)?;
    let Some(mut record) = log::get::<IssuedRecord>(&ids, &rows, id)? else {
        return Ok(());
    };
    drop((ids, rows));
    if record.idle_timeout.is_none() || record.last_seen_at.is_some_and(|seen| seen >= at) {
        return Ok(());
    }
    record.last_seen_at = Some(at);
    ISSUED.update(txn, record).map(|_| ())
}

fn add_counters(
    table: &mut Table<'_, (u8, &str), (u64, i64)>,
    kind: u8,
    id: &str,
    delta: Counters,
) -> Result<(), StoreError> {
    let (uses, last) = table.get((kind, id)).map_err(db_err)?.map_or((0, NEVER), |v| v.value());
    let last = last.max(delta.last_used_at.unwrap_or(NEVER));
    table.insert((kind, id), (uses.saturating_add(delta.uses), last)).map_err(db_err)?;
    Ok(())
}

fn apply_subject(
    txn: &WriteTransaction,
    capacity: u32,
    usage: &SubjectUsage,
) -> Result<(), StoreError> {
    let kind = usage.subject.kind.code();
    let id = usage.subject.id.as_str();
    add_counters(&mut txn.open_table(COUNTERS).map_err(db_err)?, kind, id, usage.counters)?;
    let mut rollups = txn.open_table(ROLLUPS).map_err(db_err)?;
    let mut minutes = txn.open_table(ROLLUP_MINUTES).map_err(db_err)?;
    for r in &usage.rollups {
        let key = (kind, id, r.minute, r.route.as_str(), r.method.code(), r.outcome.code());
        let count = rollups.get(key).map_err(db_err)?.map_or(0, |v| v.value());
        rollups.insert(key, count.saturating_add(r.count)).map_err(db_err)?;
        minutes.insert((r.minute, kind, id), ()).map_err(db_err)?;
    }
    let mut recent = txn.open_table(RECENT).map_err(db_err)?;
    for r in &usage.recent {
        let slot = u32::try_from(r.n % u64::from(capacity.max(1))).unwrap_or(0);
        let newer =
            recent.get((kind, id, slot)).map_err(db_err)?.is_some_and(|v| v.value().0 > r.n);
        if !newer {
            let value = (r.n, r.at, r.method.code(), r.outcome.code(), r.route.as_str());
            recent.insert((kind, id, slot), value).map_err(db_err)?;
        }
    }
    Ok(())
}

fn decode_recent(value: RecentRow<'_>) -> Result<RecentUse, StoreError> {
    let (n, at, method, outcome, route) = value;
    Ok(RecentUse {
        n,
        at,
        method: RequestMethod::from_code(method).ok_or_else(|| damaged("method"))?,
        outcome: UsageOutcome::from_code(outcome).ok_or_else(|| damaged("outcome"))?,
        route: route.to_owned(),
    })
}

/// Removes the rollups of one credential in `from..until`; returns the minutes they were in.
fn remove_rollups(
    rollups: &mut Table<'_, (u8, &str, i64, &str, u8, u8), u64>,
    kind: u8,
    id: &str,
    from: Timestamp,
    until: Timestamp,
) -> Result<(u64, Vec<i64>), StoreError> {
    let mut minutes = Vec::new();
    let mut removed = 0;
    let range = (kind, id, from, "", 0u8, 0u8)..(kind, id, until, "", 0u8, 0u8);
    let mut doomed = rollups.extract_from_if(range, |_, _| true).map_err(db_err)?;
    for row in doomed.by_ref() {
        let (key, _) = row.map_err(db_err)?;
        let minute = key.value().2;
        if minutes.last() != Some(&minute) {
            minutes.push(minute);
        }
        removed += 1;
    }
    Ok((removed, minutes))
}

/// Removes all usage of one credential, in the caller's transaction.
pub(super) fn forget(txn: &WriteTransaction, subject: &Subject) -> Result<(), StoreError> {
    let (kind, id) = (subject.kind.code(), subject.id.as_str());
    txn.open_table(COUNTERS).map_err(db_err)?.remove((kind, id)).map_err(db_err)?;
    txn.open_table(RECENT)
        .map_err(db_err)?
        .retain_in((kind, id, 0u32)..=(kind, id, u32::MAX), |_, _| false)
        .map_err(db_err)?;
    let mut rollups = txn.open_table(ROLLUPS).map_err(db_err)?;
    let (_, minutes) = remove_rollups(&mut rollups, kind, id, i64::MIN, i64::MAX)?;
    let mut index = txn.open_table(ROLLUP_MINUTES).map_err(db_err)?;
    for minute in minutes {
        index.remove((minute, kind, id)).map_err(db_err)?;
    }
    Ok(())
}

impl UsageStore for RedbStore {
    async fn apply_usage(&self, batch: UsageBatch) -> Result<(), StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            for usage in &batch.subjects {
                if exists(&txn, &usage.subject)? {
                    apply_subject(&txn, batch.recent_capacity, usage)?;
                    if let (CredentialKind::Session, Some(at)) =
                        (usage.subject.kind, usage.counters.last_used_at)
                    {
                        touch_session(&txn, &usage.subject.id, at)?;
                    }
                }
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(COUNTERS).map_err(db_err)?;
            let code = kind.code();
            let start = after.as_deref().unwrap_or("");
            let mut out = Vec::new();
            for row in table.range((code, start)..(code + 1, "")).map_err(db_err)? {
                let (key, value) = row.map_err(db_err)?;
                let (_, id) = key.value();
                if after.is_some() && id == start {
                    continue;
                }
                if out.len() == limit {
                    break;
                }
                let (uses, last) = value.value();
                out.push((
                    id.to_owned(),
                    Counters { uses, last_used_at: (last != NEVER).then_some(last) },
                ));
            }
            Ok(out)
        })
        .await
    }

    async fn counters_of(
        &self,
        kind: CredentialKind,
        ids: Vec<String>,
    ) -> Result<Vec<(String, Counters)>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(COUNTERS).map_err(db_err)?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(value) = table.get((kind.code(), id.as_str())).map_err(db_err)? {
                    let (uses, last) = value.value();
                    let last_used_at = (last != NEVER).then_some(last);
                    out.push((id, Counters { uses, last_used_at }));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> Result<Vec<RecentUse>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(RECENT).map_err(db_err)?;
            let (kind, id) = (subject.kind.code(), subject.id.as_str());
            let mut uses = Vec::new();
            for row in table.range((kind, id, 0u32)..=(kind, id, u32::MAX)).map_err(db_err)? {
                uses.push(decode_recent(row.map_err(db_err)?.1.value())?);
            }
            uses.sort_by_key(|u| std::cmp::Reverse(u.n));
            uses.truncate(limit);
            Ok(uses)
        })
        .await
    }

    async fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        self.run(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(ROLLUPS).map_err(db_err)?;
            let (kind, id) = (subject.kind.code(), subject.id.as_str());
            let mut out = Vec::new();
            if from >= until {
                return Ok(out);
            }
            let range = (kind, id, from, "", 0u8, 0u8)..(kind, id, until, "", 0u8, 0u8);
            for row in table.range(range).map_err(db_err)? {
                let (key, count) = row.map_err(db_err)?;
                let (_, _, minute, route, method, outcome) = key.value();
                out.push(Rollup {
                    minute,
                    route: route.to_owned(),
                    method: RequestMethod::from_code(method).ok_or_else(|| damaged("method"))?,
                    outcome: UsageOutcome::from_code(outcome).ok_or_else(|| damaged("outcome"))?,
                    count: count.value(),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn delete_usage(&self, subject: Subject) -> Result<(), StoreError> {
        self.write(move |txn| forget(txn, &subject)).await
    }

    async fn advance_marks(&self, advances: Vec<MarkAdvance>) -> Result<Vec<i64>, StoreError> {
        self.write(move |txn| {
            let mut marks = txn.open_table(MARKS).map_err(db_err)?;
            let mut after = Vec::with_capacity(advances.len());
            for advance in advances {
                let name = advance.name.as_str();
                let mark = advance.apply(marks.get(name).map_err(db_err)?.map(|v| v.value()));
                marks.insert(name, mark).map_err(db_err)?;
                after.push(mark);
            }
            Ok(after)
        })
        .await
    }

    async fn prune_usage(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let mut pruned = 0;
            {
                let mut index = txn.open_table(ROLLUP_MINUTES).map_err(db_err)?;
                let mut rollups = txn.open_table(ROLLUPS).map_err(db_err)?;
                let mut doomed = Vec::new();
                for row in
                    index.extract_from_if(..(before, 0u8, ""), |_, _| true).map_err(db_err)?
                {
                    let (key, _) = row.map_err(db_err)?;
                    let (minute, kind, id) = key.value();
                    doomed.push((minute, kind, id.to_owned()));
                }
                for (minute, kind, id) in doomed {
                    pruned += remove_rollups(&mut rollups, kind, &id, minute, minute + 1)?.0;
                }
            }
            txn.commit().map_err(db_err)?;
            Ok(pruned)
        })
        .await
    }
}
