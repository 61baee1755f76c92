//! How a [`PostgresStore`](crate::PostgresStore) connects: in code, or from the environment.

use std::time::Duration;

use guard_core::config::ConfigError;

/// How to connect to PostgreSQL. Every setting has a default; `GUARD_DB_*` variables set
/// them from the environment ([`PostgresConfig::from_env`]), and code wins.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// The most connections this instance opens (default 10; `GUARD_DB_POOL_SIZE`). The
    /// request path never uses one: they serve admin writes, logins, usage flushes and
    /// following the other instances' changes. One more is held for notifications.
    pub pool_size: u32,
    /// The longest a statement may run, and the longest to wait for a free connection,
    /// before the write answers 503 (default 5 s; `GUARD_DB_STATEMENT_TIMEOUT_MS`).
    pub statement_timeout: Duration,
    /// How many times to try again when the database cannot be reached at start-up (default
    /// 0: fail at once; `GUARD_DB_CONNECT_RETRIES`). A wrong password or an unknown database
    /// is never retried.
    pub connect_retries: u32,
    /// The first wait between start-up attempts, doubled after each, up to 30 s (default
    /// 500 ms).
    pub retry_backoff: Duration,
    /// The schema guard's tables live in, created if missing (default `guard`;
    /// `GUARD_DB_SCHEMA`), so they share a database with the application's own without
    /// meeting them: lower-case letters, digits and `_`, starting with a letter.
    pub schema: String,
    /// How this instance's connections are named in `pg_stat_activity` (default `guard`),
    /// to tell instances apart there.
    pub application_name: String,
    /// Open only a schema guard's servers have prepared, at this build's version: never
    /// create or migrate one (default `false`). What a program that administers the
    /// database beside its servers opens it with, the command line: a wrong URL or schema is
    /// then [`StoreError::Missing`](guard_core::store::StoreError::Missing), not a new empty
    /// database, and a schema older than this build is left for the upgraded servers to
    /// migrate.
    pub existing_only: bool,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            pool_size: 10,
            statement_timeout: Duration::from_secs(5),
            connect_retries: 0,
            retry_backoff: Duration::from_millis(500),
            schema: "guard".to_owned(),
            application_name: "guard".to_owned(),
            existing_only: false,
        }
    }
}

impl PostgresConfig {
    /// Sets [`PostgresConfig::pool_size`] (at least 1).
    pub fn pool_size(mut self, connections: u32) -> Self {
        self.pool_size = connections.max(1);
        self
    }

    /// Sets [`PostgresConfig::statement_timeout`].
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Sets [`PostgresConfig::connect_retries`] and the first wait between them.
    pub fn connect_retries(mut self, retries: u32, first_wait: Duration) -> Self {
        self.connect_retries = retries;
        self.retry_backoff = first_wait;
        self
    }

    /// Sets [`PostgresConfig::schema`].
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Sets [`PostgresConfig::application_name`].
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Sets [`PostgresConfig::existing_only`].
    pub fn existing_only(mut self, existing_only: bool) -> Self {
        self.existing_only = existing_only;
        self
    }

    /// The defaults, with what the process environment sets.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The defaults, with what `lookup` sets, for tests and embedding.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = PostgresConfig::default();
        let set = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let number = |name: &'static str, value: String, expected: &'static str| {
            value.trim().parse::<u32>().map_err(|_| ConfigError::Invalid { name, value, expected })
        };
        if let Some(value) = set("GUARD_DB_POOL_SIZE") {
            let expected = "a number of connections from 1";
            let size = number("GUARD_DB_POOL_SIZE", value.clone(), expected)?;
            if size == 0 {
                return Err(ConfigError::Invalid { name: "GUARD_DB_POOL_SIZE", value, expected });
            }
            config.pool_size = size;
        }
        if let Some(value) = set("GUARD_DB_STATEMENT_TIMEOUT_MS") {
            let expected = "milliseconds, from 1";
            let ms = number("GUARD_DB_STATEMENT_TIMEOUT_MS", value.clone(), expected)?;
            if ms == 0 {
                let name = "GUARD_DB_STATEMENT_TIMEOUT_MS";
                return Err(ConfigError::Invalid { name, value, expected });
            }
            config.statement_timeout = Duration::from_millis(u64::from(ms));
        }
        if let Some(value) = set("GUARD_DB_CONNECT_RETRIES") {
            config.connect_retries =
                number("GUARD_DB_CONNECT_RETRIES", value, "a number of retries")?;
        }
        if let Some(value) = set("GUARD_DB_SCHEMA") {
            if !valid_schema(&value) {
                let expected = "lower-case letters, digits and _, starting with a letter";
                return Err(ConfigError::Invalid { name: "GUARD_DB_SCHEMA", value, expected });
            }
            config.schema = value;
        }
        Ok(config)
    }
}

/// Whether `name` can be a schema's name as guard writes it into SQL, unquoted.
pub(crate) fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `url` without its password, for messages: `postgres://guard:…@host/db` shows as
/// `postgres://guard@host/db`, and a `password=` parameter as `password=…`. Everything up to
/// the last `@` is taken for the user and password, so a password holding `/`, `?` or `@`
/// (unencoded, as people write them) is hidden too.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<an unreadable database URL>".to_owned();
    };
    let (user, rest) = match rest.rsplit_once('@') {
        Some((user_info, rest)) => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            // A user name does not hold these; if it seems to, show none of it.
            let user = if user.contains(['/', '?']) { "…" } else { user };
            (format!("{user}@"), rest)
        }
        None => (String::new(), rest),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = format!("{user}{authority}");
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=…"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redacted("postgres://guard:s3cret@db:5432/app"), "postgres://guard@db:5432/app");
        assert_eq!(
            redacted("postgresql://db/app?password=s3cret&x=1"),
            "postgresql://db/app?password=…&x=1"
        );
        assert_eq!(redacted("postgres://a:b:c@h"), "postgres://a@h");
        assert_eq!(redacted("postgres://u:ab/cd@h/db"), "postgres://u@h/db");
        assert_eq!(redacted("postgres://u:a?b@c@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redacted("postgres://u/x:pw@h/db"), "postgres://…@h/db");
        assert_eq!(redacted("postgres://h"), "postgres://h");
        assert!(!redacted("not a url s3cret").contains("s3cret"));
    }

    #[test]
    fn read_from_the_environment() {
        let env = |pairs: &'static [(&str, &str)]| {
            PostgresConfig::from_lookup(|name| {
                pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(env(&[]).unwrap(), PostgresConfig::default());
        let config = env(&[
            ("GUARD_DB_POOL_SIZE", "3"),
            ("GUARD_DB_STATEMENT_TIMEOUT_MS", "250"),
            ("GUARD_DB_CONNECT_RETRIES", "4"),
            ("GUARD_DB_SCHEMA", "auth_2"),
        ])
        .unwrap();
        assert_eq!(config.pool_size, 3);
        assert_eq!(config.statement_timeout, Duration::from_millis(250));
        assert_eq!((config.connect_retries, config.schema.as_str()), (4, "auth_2"));
        assert!(env(&[("GUARD_DB_POOL_SIZE", "0")]).is_err());
        assert!(env(&[("GUARD_DB_POOL_SIZE", "many")]).is_err());
        assert!(env(&[("GUARD_DB_SCHEMA", "Guard; drop table x")]).is_err());
        assert!(env(&[("GUARD_DB_STATEMENT_TIMEOUT_MS", "0")]).is_err());
    }
}
