//! The `rate_limit` field of keys and users: `{"requests": N, "per_seconds": S}`, or `null`
//! for none. On a change, an absent field leaves the limit as it is.

use guard_core::usage::RateLimit;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;

/// For `#[serde(default, deserialize_with = "present")]`: tells an absent field (`None`,
/// by the default) from `null` (`Some(None)`).
pub(crate) fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<RateLimit>>, D::Error> {
    Option::<RateLimit>::deserialize(deserializer).map(Some)
}

/// The limit, if it is in range.
pub(crate) fn checked(limit: Option<RateLimit>) -> Result<Option<RateLimit>, ApiError> {
    limit.map(RateLimit::checked).transpose().map_err(|e| ApiError::invalid(e.to_string()))
}

/// A change of the limit, if it is in range.
pub(crate) fn checked_change(
    change: Option<Option<RateLimit>>,
) -> Result<Option<Option<RateLimit>>, ApiError> {
    change.map(checked).transpose()
}
