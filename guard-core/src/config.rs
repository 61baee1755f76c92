//! Settings read from the environment (contract: see the README).
//!
//! Everything here can also be set in code through the guard's builder; code wins.

use std::path::PathBuf;

/// The database file used when neither code nor `GUARD_DB` names one.
pub const DEFAULT_DB_PATH: &str = "guard.redb";

/// The longest lifetime an API key can be given, in days (100 years).
pub const MAX_TTL_DAYS: u32 = 36_500;

/// The shortest admin secret accepted, in code or in `GUARD_ADMIN_SECRET`.
pub const MIN_ADMIN_SECRET_LEN: usize = 16;

/// The fewest different characters an admin secret may have: `aaaaaaaaaaaaaaaa` is 16
/// characters long and guessed at once.
pub const MIN_ADMIN_SECRET_DISTINCT: usize = 8;

/// Why a configured admin secret cannot be used, if it cannot: too short, too repetitive, or
/// holding what an `X-Admin-Secret` header cannot carry as written (spaces at either end,
/// which HTTP strips, or anything but visible ASCII), so that it could never be presented.
pub fn admin_secret_weakness(secret: &str) -> Option<&'static str> {
    let distinct = secret.chars().collect::<std::collections::HashSet<_>>().len();
    if secret.trim() != secret {
        Some(
            "has spaces at either end, which HTTP strips from a header: it could never be presented",
        )
    } else if !secret.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Some("holds characters a header cannot carry as written: use visible ASCII")
    } else if secret.len() < MIN_ADMIN_SECRET_LEN {
        Some("is shorter than 16 characters")
    } else if distinct < MIN_ADMIN_SECRET_DISTINCT {
        Some("repeats too few characters (fewer than 8 different ones) to resist guessing")
    } else {
        None
    }
}

/// Default lifetime of a new API key, in days.
pub const DEFAULT_KEY_TTL_DAYS: u32 = 15;

/// Where the data lives, as `GUARD_DB` names it: a redb file, or a database URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A redb file.
    File(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Url(String),
}

impl DbLocation {
    /// `value` read as a location: a PostgreSQL URL, or else a file path.
    pub fn parse(value: &str) -> Self {
        if ["postgres://", "postgresql://"].iter().any(|s| value.starts_with(s)) {
            DbLocation::Url(value.to_owned())
        } else {
            DbLocation::File(PathBuf::from(value))
        }
    }
}

/// Without the URL, which may carry a password.
impl std::fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::File(path) => f.debug_tuple("File").field(path).finish(),
            DbLocation::Url(_) => f.write_str("Url(..)"),
        }
    }
}

/// The guard's settings from the environment. Unset variables are `None`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvConfig {
    /// `GUARD_DB`: the redb file, or a `postgres://` URL.
    pub db: Option<DbLocation>,
    /// `GUARD_ADMIN_SECRET`: the admin secret.
    pub admin_secret: Option<String>,
    /// `GUARD_KEY_TTL_DAYS`: default API key lifetime in days.
    pub key_ttl_days: Option<u32>,
}

/// Without the admin secret.
impl std::fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvConfig")
            .field("db", &self.db)
            .field("admin_secret", &self.admin_secret.as_ref().map(|_| "<redacted>"))
            .field("key_ttl_days", &self.key_ttl_days)
            .finish()
    }
}

/// A variable is set to a value it cannot hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid for the variable.
    #[error("{name}={value:?} is invalid: {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value (never shown for secrets).
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

impl EnvConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Reads settings through `lookup`, for tests and embedding.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let key_ttl_days = match non_empty("GUARD_KEY_TTL_DAYS") {
            None => None,
            Some(v) => Some(
                v.trim().parse::<u32>().ok().filter(|d| (1..=MAX_TTL_DAYS).contains(d)).ok_or(
                    ConfigError::Invalid {
                        name: "GUARD_KEY_TTL_DAYS",
                        value: v,
                        expected: "a whole number of days from 1 to 36500",
                    },
                )?,
            ),
        };
        let admin_secret = non_empty("GUARD_ADMIN_SECRET");
        if admin_secret.as_deref().and_then(admin_secret_weakness).is_some() {
            return Err(ConfigError::Invalid {
                name: "GUARD_ADMIN_SECRET",
                value: "<redacted>".into(),
                expected: "16 visible ASCII characters or more, 8 of them different, no spaces at either end",
            });
        }
        Ok(EnvConfig {
            db: non_empty("GUARD_DB").map(|v| DbLocation::parse(&v)),
            admin_secret,
            key_ttl_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<EnvConfig, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        EnvConfig::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn reads_and_validates() {
        assert_eq!(env(&[]).unwrap(), EnvConfig::default());
        let c = env(&[("GUARD_DB", "x.redb"), ("GUARD_KEY_TTL_DAYS", "30")]).unwrap();
        assert_eq!(c.db, Some(DbLocation::File(PathBuf::from("x.redb"))));
        assert_eq!(c.key_ttl_days, Some(30));
        let url = "postgres://guard:pw@127.0.0.1/guard";
        let c = env(&[("GUARD_DB", url), ("GUARD_ADMIN_SECRET", "a-long-enough-secret")]).unwrap();
        assert_eq!(c.db, Some(DbLocation::Url(url.into())));
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw") && !shown.contains("a-long"), "no secret in {shown}");
        assert!(env(&[("GUARD_KEY_TTL_DAYS", "-1")]).is_err());
        assert!(env(&[("GUARD_KEY_TTL_DAYS", "0")]).is_err());
        let err = env(&[("GUARD_ADMIN_SECRET", "short")]).unwrap_err();
        assert!(!err.to_string().contains("short"), "the secret is never echoed");
        for weak in ["aaaaaaaaaaaaaaaaaaaa", " a-long-enough-secret", "a-long-enough-secret\u{e9}"]
        {
            let err = env(&[("GUARD_ADMIN_SECRET", weak)]).unwrap_err().to_string();
            assert!(err.contains("8 of them different"), "{weak:?}: {err}");
        }
    }
}
