//! `guard db copy` and `guard db check`: the store itself, through the store traits.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use guard_axum::guard_core::assembly::{KEY_PREFIX_META_KEY, POLICY_META_KEY, recorded_policy};
use guard_axum::guard_core::credentials::admin_secret::HASH_META_KEY;
use guard_axum::guard_core::credentials::user::name::normalize;
use guard_axum::guard_core::store::{
    Change, Changes, IssuedRecord, KeyRecord, RedbStore, SharedStore, StoreError, UserRecord,
};
use guard_axum::guard_core::usage::{CredentialKind, Subject, SubjectUsage, UsageBatch};
use guard_axum::{Policy, PostgresConfig, PostgresStore};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::output::{Out, Table, cells, render, rows};

/// What the db commands, which read all of a store, say when a server holds its file.
const STOP_THE_SERVER: &str =
    "the database is in use by a running server: stop it first, so that this sees all of it";

/// How many records one read or write takes.
const PAGE: usize = 1_000;

/// The kinds of credential whose usage is kept.
const USAGE_KINDS: [CredentialKind; 3] =
    [CredentialKind::ApiKey, CredentialKind::Session, CredentialKind::Token];

/// Every key, user and issued credential a store holds (their latest state).
struct Records {
    keys: Vec<KeyRecord>,
    users: Vec<UserRecord>,
    issued: Vec<IssuedRecord>,
}

async fn records(store: &SharedStore) -> Result<Records, StoreError> {
    Ok(Records {
        keys: latest(|cursor| store.key_changes(cursor, PAGE)).await?,
        users: latest(|cursor| store.user_changes(cursor, PAGE)).await?,
        issued: latest(|cursor| store.issued_changes(cursor, PAGE)).await?,
    })
}

/// Every record a change log holds, in its latest state, read a page at a time.
async fn latest<R, F>(mut page: impl FnMut(u64) -> F) -> Result<Vec<R>, StoreError>
where
    F: Future<Output = Result<Changes<Change<R>>, StoreError>>,
{
    let (mut records, mut cursor) = (Vec::new(), 0);
    loop {
        let changes = page(cursor).await?;
        if changes.changes.is_empty() {
            return Ok(records);
        }
        cursor = changes.cursor;
        records.extend(changes.changes.into_iter().filter_map(|c| c.record));
    }
}

/// Everything usage keeps of every credential: counters, rollups, the last requests.
async fn usage(store: &SharedStore) -> Result<Vec<SubjectUsage>, StoreError> {
    let mut all = Vec::new();
    for kind in USAGE_KINDS {
        let mut after = None;
        loop {
            let page = store.counters(kind, after.take(), PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (id, counters) in page {
                let subject = Subject::new(kind, id);
                let rollups = store.rollups(subject.clone(), i64::MIN, i64::MAX).await?;
                let recent = store.recent_uses(subject.clone(), usize::MAX).await?;
                all.push(SubjectUsage { subject, counters, rollups, recent });
            }
        }
    }
    Ok(all)
}

/// A digest of lines: blake3 of them sorted, one per line; and how many.
fn digest(mut lines: Vec<String>) -> (u64, String) {
    lines.sort_unstable();
    let mut hasher = blake3::Hasher::new();
    for line in &lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    (lines.len() as u64, hasher.finalize().to_hex()[..16].to_owned())
}

fn json_lines<T: serde::Serialize>(records: &[T]) -> Vec<String> {
    records.iter().map(|r| serde_json::to_string(r).unwrap_or_default()).collect()
}

/// What a store holds: its records and the usage of its credentials.
struct Contents {
    records: Records,
    usage: Vec<SubjectUsage>,
}

async fn contents(store: &SharedStore) -> Result<Contents, StoreError> {
    Ok(Contents { records: records(store).await?, usage: usage(store).await? })
}

impl Contents {
    /// Only what has the id of something `other` holds: of a target copied into with
    /// `--force`, what the copy wrote.
    fn restricted_to(self, other: &Contents) -> Contents {
        let users: HashSet<&str> = other.records.users.iter().map(|u| u.id.as_str()).collect();
        let keys: HashSet<&str> = other.records.keys.iter().map(|k| k.id.as_str()).collect();
        let issued: HashSet<&str> = other.records.issued.iter().map(|i| i.id.as_str()).collect();
        let subjects: HashSet<&Subject> = other.usage.iter().map(|u| &u.subject).collect();
        let Contents { mut records, mut usage } = self;
        records.users.retain(|u| users.contains(u.id.as_str()));
        records.keys.retain(|k| keys.contains(k.id.as_str()));
        records.issued.retain(|i| issued.contains(i.id.as_str()));
        usage.retain(|u| subjects.contains(&u.subject));
        Contents { records, usage }
    }

    /// Each aggregate's name, count and digest, in a fixed order.
    fn tallies(&self) -> Vec<(&'static str, u64, String)> {
        let Contents { records, usage } = self;
        let counters = usage
            .iter()
            .map(|u| {
                let (kind, id, counters) = (u.subject.kind, &u.subject.id, &u.counters);
                format!("{kind:?} {id} {} {:?}", counters.uses, counters.last_used_at)
            })
            .collect();
        let rollups = usage
            .iter()
            .flat_map(|u| {
                u.rollups.iter().map(move |r| {
                    let (method, outcome) = (r.method.as_str(), r.outcome.code());
                    let (kind, id) = (u.subject.kind, &u.subject.id);
                    format!("{kind:?} {id} {} {} {method} {outcome} {}", r.minute, r.route, r.count)
                })
            })
            .collect();
        let recent = usage
            .iter()
            .flat_map(|u| {
                u.recent.iter().map(move |r| {
                    let (method, outcome) = (r.method.as_str(), r.outcome.code());
                    let (kind, id) = (u.subject.kind, &u.subject.id);
                    format!("{kind:?} {id} {} {} {method} {outcome} {}", r.n, r.at, r.route)
                })
            })
            .collect();
        [
            ("users", json_lines(&records.users)),
            ("keys", json_lines(&records.keys)),
            ("sessions and tokens", json_lines(&records.issued)),
            ("usage counters", counters),
            ("usage rollups", rollups),
            ("last requests", recent),
        ]
        .into_iter()
        .map(|(name, lines)| {
            let (count, digest) = digest(lines);
            (name, count, digest)
        })
        .collect()
    }
}

/// `guard db copy`.
pub(crate) async fn copy(
    out: Out,
    from: &std::path::Path,
    to: &str,
    force: bool,
) -> Result<(), Failure> {
    if from.is_dir() || !from.exists() {
        return Err(Failure::new(format!("{} is not a guard database file", from.display())));
    }
    if !["postgres://", "postgresql://"].iter().any(|s| to.starts_with(s)) {
        return Err(Failure::new("--to must be a postgres:// URL"));
    }
    let source: SharedStore = match RedbStore::open_existing(from) {
        Ok(store) => Arc::new(store),
        Err(StoreError::InUse { .. }) => return Err(Failure::new(STOP_THE_SERVER)),
        Err(error) => return Err(error.into()),
    };
    let config = PostgresConfig::from_env().map_err(|e| Failure::new(e.to_string()))?;
    let target: SharedStore = Arc::new(PostgresStore::connect(to, config).await?);
    let held =
        target.count_keys().await? + target.count_users().await? + target.count_issued().await?;
    if held > 0 && !force {
        return Err(Failure::new(format!(
            "the target already holds {held} keys, users, sessions and tokens: copy only into an empty database, or pass --force"
        )));
    }

    let original = contents(&source).await?;
    if held > 0 {
        refuse_name_clashes(&original, &records(&target).await?)?;
    }
    write(&source, &target, &original).await?;

    // Read the copy back, and compare it with the original.
    let copied = contents(&target).await?.restricted_to(&original);
    let (original, copied) = (original.tallies(), copied.tallies());
    let verified = copied == original;
    let summary: Vec<Value> = original
        .iter()
        .zip(&copied)
        .map(|(o, c)| {
            json!({"aggregate": o.0, "count": o.1, "copied": c.1, "digest": o.2, "verified": o == c})
        })
        .collect();
    let to = guard_postgres::redacted(to);
    let answer = json!({"from": from.display().to_string(), "to": to, "verified": verified, "aggregates": summary});
    out.show(&answer, |a| Table {
        headers: &["AGGREGATE", "COUNT", "COPIED", "DIGEST", "VERIFIED"],
        rows: rows(&a["aggregates"], &["aggregate", "count", "copied", "digest", "verified"]),
    });
    if !verified {
        return Err(Failure::new("the copy differs from the original: see the rows not verified"));
    }
    out.note("copied and verified: every count and digest matches");
    Ok(())
}

/// Refuses a copy in which a user would take a name another user of the target holds.
fn refuse_name_clashes(copied: &Contents, target: &Records) -> Result<(), Failure> {
    let held: HashMap<_, &str> = target
        .users
        .iter()
        .filter_map(|u| Some((normalize(&u.name).ok()?, u.id.as_str())))
        .collect();
    for user in &copied.records.users {
        let clash = normalize(&user.name).ok().and_then(|name| held.get(&name).copied());
        if clash.is_some_and(|id| id != user.id.as_str()) {
            return Err(Failure::new(format!(
                "the target has another user named `{}`: nothing was copied",
                user.name
            )));
        }
    }
    Ok(())
}

/// Writes `contents` of `source` into `target`: what has an id the target holds replaces it
/// (with `--force`); the usage of each copied credential replaces the target's.
async fn write(
    source: &SharedStore,
    target: &SharedStore,
    contents: &Contents,
) -> Result<(), Failure> {
    // The settings the servers recorded, unless the target has its own (copied into with
    // --force: its servers' policy, key prefix and admin secret stay).
    for name in [POLICY_META_KEY, KEY_PREFIX_META_KEY, HASH_META_KEY] {
        if let Some(value) = source.meta(name.into()).await?
            && target.meta(name.into()).await?.is_none()
        {
            target.set_meta(name.into(), value).await?;
        }
    }
    for user in &contents.records.users {
        match target.get_user(user.id.to_string()).await? {
            Some(held) => {
                target.update_user(held, user.clone()).await?;
            }
            None => target.insert_user(user.clone()).await?,
        }
    }
    let mut new_keys = Vec::new();
    for key in &contents.records.keys {
        match target.get_key(key.id.to_string()).await? {
            Some(held) => {
                target.update_key(held, key.clone()).await?;
            }
            None => new_keys.push(key.clone()),
        }
    }
    for keys in new_keys.chunks(PAGE) {
        target.insert_keys(keys.to_vec()).await?;
    }
    for issued in &contents.records.issued {
        match target.get_issued(issued.id.to_string()).await? {
            Some(held) if held == *issued => {}
            Some(_) => {
                target.delete_issued(issued.id.to_string(), now()).await?;
                target.insert_issued(issued.clone()).await?;
            }
            None => target.insert_issued(issued.clone()).await?,
        }
    }
    for subjects in contents.usage.chunks(PAGE) {
        for subject in subjects {
            target.delete_usage(subject.subject.clone()).await?;
        }
        let capacity = subjects.iter().map(|s| s.recent.len()).max().unwrap_or(1);
        let batch = UsageBatch {
            recent_capacity: u32::try_from(capacity.max(1)).unwrap_or(u32::MAX),
            subjects: subjects.to_vec(),
        };
        target.apply_usage(batch).await?;
    }
    Ok(())
}

/// The time now, in seconds since the Unix epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `guard db check`.
pub(crate) async fn check(out: Out, db: &str) -> Result<(), Failure> {
    let store = crate::open::store(db, STOP_THE_SERVER).await?;
    let schema = store.schema();
    let records = records(&store).await?;
    let sessions = records.issued.iter().filter(|r| r.kind == CredentialKind::Session).count();
    let policy = recorded_policy(&store)
        .await?
        .map(Policy::new)
        .transpose()
        .map_err(|e| Failure::new(e.to_string()))?;
    let mut undeclared = Vec::new();
    if let Some(policy) = &policy {
        for user in &records.users {
            for role in user.roles.iter().filter(|r| !policy.has_role(r)) {
                undeclared.push(json!({"kind": "user", "id": user.id.as_str(), "name": user.name.as_str(), "role": role.as_str()}));
            }
        }
        for key in &records.keys {
            for role in key.roles.iter().filter(|r| !policy.has_role(r)) {
                undeclared.push(json!({"kind": "key", "id": key.id.as_str(), "name": key.name.as_str(), "role": role.as_str()}));
            }
        }
    }
    let answer = json!({
        "backend": schema.backend,
        "schema_version": schema.version,
        "policy_recorded": policy.is_some(),
        "users": records.users.len(),
        "keys": records.keys.len(),
        "sessions": sessions,
        "tokens": records.issued.len() - sessions,
        "undeclared_roles": undeclared,
    });
    out.show_text(&answer, |answer| {
        let facts = Table {
            headers: &["BACKEND", "SCHEMA", "POLICY", "USERS", "KEYS", "SESSIONS", "TOKENS"],
            rows: vec![cells(
                answer,
                &[
                    "backend",
                    "schema_version",
                    "policy_recorded",
                    "users",
                    "keys",
                    "sessions",
                    "tokens",
                ],
            )],
        };
        let mut text = render(&facts);
        if undeclared.is_empty() {
            text.push_str(
                "\nno role assignment names a role the recorded policy does not declare\n",
            );
        } else {
            let table = Table {
                headers: &["KIND", "ID", "NAME", "UNDECLARED ROLE"],
                rows: rows(&answer["undeclared_roles"], &["kind", "id", "name", "role"]),
            };
            text.push_str(
                "\nrole assignments the recorded policy does not declare (they grant nothing):\n",
            );
            text.push_str(&render(&table));
        }
        text
    });
    Ok(())
}
