//! Paging of the admin API's lists: `?limit=1..1000&offset=`, answered with the window's
//! place in the whole.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// Page size when none is asked for, and the largest allowed.
pub(super) const DEFAULT_PAGE: usize = 100;
pub(super) const MAX_PAGE: usize = 1000;

/// A `limit` as asked for, or the default: 1 to [`MAX_PAGE`].
pub(super) fn limit(asked: Option<usize>) -> Result<usize, ApiError> {
    let limit = asked.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!("`limit` must be between 1 and {MAX_PAGE}")));
    }
    Ok(limit)
}

/// A list's query. Unknown parameters are refused, but for the API key itself, which may
/// travel in the query of any route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
    #[serde(rename = "api-key")]
    _api_key: Option<IgnoredAny>,
}

/// Where a page stands in the whole list; flattened into the list's body.
#[derive(Debug, Serialize)]
pub(crate) struct Window {
    total: usize,
    offset: usize,
    limit: usize,
    next_offset: Option<usize>,
}

/// The page of `all` that `query` asks for, each item shown as `U`.
pub(super) fn page<T, U: From<T>>(
    query: Result<Query<Page>, QueryRejection>,
    all: Vec<T>,
) -> Result<(Vec<U>, Window), ApiError> {
    let Query(page) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = limit(page.limit)?;
    let offset = page.offset.unwrap_or(0);
    let total = all.len();
    let items: Vec<U> = all.into_iter().skip(offset).take(limit).map(U::from).collect();
    let next_offset = (offset.saturating_add(items.len()) < total).then(|| offset + items.len());
    Ok((items, Window { total, offset, limit, next_offset }))
}
