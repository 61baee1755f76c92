//! `GET /keys/{id}/usage`: a key's counters, its last requests, and its rollups over a period
//! at a chosen granularity.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use guard_core::clock::{DAY, HOUR, MINUTE, Timestamp, parse_rfc3339, period_start, to_rfc3339};
use guard_core::usage::{RecentUse, RequestMethod, UsageOutcome};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::admin::Admin;
use super::error::ApiError;
use super::keys::{counted_everywhere, key_id};
use super::paging;
use crate::Guard;

/// The most buckets one answer may span (a week of minutes): beyond it, ask for a shorter
/// period or a coarser granularity.
const MAX_BUCKETS: i64 = 7 * 24 * 60;

/// How rollups are grouped in the answer.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Granularity {
    Minute,
    #[default]
    Hour,
    Day,
}

impl Granularity {
    fn seconds(self) -> i64 {
        match self {
            Granularity::Minute => MINUTE,
            Granularity::Hour => HOUR,
            Granularity::Day => DAY,
        }
    }

    /// The period shown when none is asked for: an hour of minutes, a day of hours, thirty
    /// days (the default retention) of days.
    fn default_span(self) -> i64 {
        match self {
            Granularity::Minute => HOUR,
            Granularity::Hour => DAY,
            Granularity::Day => 30 * DAY,
        }
    }
}

/// `GET /keys/{id}/usage` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageQuery {
    /// How many of the last requests (default 100, at most the number kept).
    limit: Option<usize>,
    /// Start of the period (RFC 3339; default: `until` minus an hour, a day or thirty days,
    /// by granularity).
    since: Option<String>,
    /// End of the period, exclusive (RFC 3339; default: the end of the current bucket, so
    /// that this minute, hour or day is included).
    until: Option<String>,
    granularity: Option<Granularity>,
    #[serde(rename = "api-key")]
    _api_key: Option<IgnoredAny>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UsageBody {
    id: String,
    total_uses: u64,
    last_used_at: Option<String>,
    /// The last requests, newest first.
    recent: Vec<RecentBody>,
    since: String,
    until: String,
    granularity: Granularity,
    /// Requests per period, route, method and outcome, oldest period first.
    rollups: Vec<RollupBody>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RecentBody {
    at: String,
    outcome: UsageOutcome,
    method: RequestMethod,
    route: String,
}

impl From<RecentUse> for RecentBody {
    fn from(used: RecentUse) -> Self {
        RecentBody {
            at: to_rfc3339(used.at),
            outcome: used.outcome,
            method: used.method,
            route: used.route,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct RollupBody {
    start: String,
    route: String,
    method: RequestMethod,
    outcome: UsageOutcome,
    count: u64,
}

fn time(value: Option<String>, name: &str, default: Timestamp) -> Result<Timestamp, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => parse_rfc3339(&text).ok_or_else(|| {
            ApiError::invalid(format!(
                "`{name}` must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z"
            ))
        }),
    }
}

pub(crate) async fn usage(
    _: Admin,
    State(guard): State<Guard>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Json<UsageBody>, ApiError> {
    let id = key_id(id)?;
    let mut info = [guard.keys().get(&id)?];
    counted_everywhere(&guard, &mut info).await;
    let [info] = info;
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = paging::limit(query.limit)?;
    let granularity = query.granularity.unwrap_or_default();
    let step = granularity.seconds();
    let end_of_bucket = period_start(guard.core().clock().now(), step).saturating_add(step);
    let until = time(query.until, "until", end_of_bucket)?;
    let default_since = until.saturating_sub(granularity.default_span());
    let since = period_start(time(query.since, "since", default_since)?, step);
    if since >= until {
        return Err(ApiError::invalid("`since` must be before `until`"));
    }
    if (until - since) / step > MAX_BUCKETS {
        return Err(ApiError::invalid(format!(
            "the period spans more than {MAX_BUCKETS} {granularity:?} buckets: shorten it or use a coarser granularity"
        )));
    }
    let subject = guard.keys().subject(&id)?;
    let usage = guard.usage();
    let recent = usage.recent(subject.clone(), limit).await.map_err(|e| ApiError::store(&e))?;
    let minutes = usage.rollups(subject, since, until).await.map_err(|e| ApiError::store(&e))?;
    let mut buckets: BTreeMap<(Timestamp, String, RequestMethod, u8), (UsageOutcome, u64)> =
        BTreeMap::new();
    for r in minutes {
        let key = (period_start(r.minute, step), r.route, r.method, r.outcome.code());
        buckets.entry(key).or_insert((r.outcome, 0)).1 += r.count;
    }
    let rollups = buckets
        .into_iter()
        .map(|((start, route, method, _), (outcome, count))| RollupBody {
            start: to_rfc3339(start),
            route,
            method,
            outcome,
            count,
        })
        .collect();
    Ok(Json(UsageBody {
        id: info.id,
        total_uses: info.total_uses,
        last_used_at: info.last_used_at.map(to_rfc3339),
        recent: recent.into_iter().map(RecentBody::from).collect(),
        since: to_rfc3339(since),
        until: to_rfc3339(until),
        granularity,
        rollups,
    }))
}
