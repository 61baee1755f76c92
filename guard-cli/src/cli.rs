//! The command line's grammar (clap): every command, its arguments, its help and an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Administer guard's users, keys, roles and admin secret, on the store the servers use.
///
/// The store is the one `--db` or `GUARD_DB` names: a redb file, or a `postgres://` URL
/// every instance shares. A redb file is held by its running server: then pass `--server`,
/// and the same is done through that server's admin API.
#[derive(Debug, Parser)]
#[command(name = "guard", version, propagate_version = true, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// The store: a redb file or a postgres:// URL, as the servers are given it [default:
    /// guard.redb].
    #[arg(long, global = true, env = "GUARD_DB", hide_env_values = true)]
    pub(crate) db: Option<String>,

    /// Work through a running server's admin API instead, at the URL it is mounted at
    /// (e.g. http://127.0.0.1:8080/auth), with the admin secret from GUARD_ADMIN_SECRET or
    /// --admin-secret-stdin.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) server: Option<String>,

    /// With --server: read the admin secret from the first line of standard input (a
    /// password given with --password-stdin is then the second line).
    #[arg(long, global = true, requires = "server")]
    pub(crate) admin_secret_stdin: bool,

    /// How to print what a command answers.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,

    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// The store `--db` or `GUARD_DB` names, else `guard.redb` (what the servers default to).
    pub(crate) fn db(&self) -> &str {
        self.db.as_deref().unwrap_or(guard_axum::DEFAULT_DB_PATH)
    }
}

const EXAMPLES: &str = "Examples:
  guard user add ann --roles admin
  guard key create --name ci --roles viewer --ttl-days 30 --rate-limit 100/60
  guard key revoke 3kYw0q6Tn2Jd
  GUARD_DB=postgres://guard@db/app guard key list --limit 20
  guard --server http://127.0.0.1:8080/auth user list";

/// How a command's answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns, dates in RFC 3339.
    Table,
    /// The admin API's JSON, for scripts.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Users: people who log in with a name and a password.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The policy the servers recorded: each role, what it inherits, its permissions.
    #[command(after_help = "Example:\n  guard roles --format json")]
    Roles,
    /// The admin secret the servers accept when none is configured.
    #[command(subcommand, name = "admin-secret")]
    AdminSecret(AdminSecretCommand),
    /// Login sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The store itself: copy it to PostgreSQL, check it.
    #[command(subcommand)]
    Db(DbCommand),
    /// Prints a shell's completion script.
    #[command(after_help = "Example:\n  guard completions bash > /etc/bash_completion.d/guard")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// How a new password is given: never as an argument, where other users and the shell's
/// history would see it.
#[derive(Debug, Args)]
pub(crate) struct PasswordInput {
    /// Read the password from the first line of standard input, instead of asking for it
    /// twice without echo.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Creates a user.
    #[command(after_help = "Example:\n  guard user add ann --roles admin,editor")]
    Add {
        /// The name (unique, compared case-insensitively).
        name: String,
        /// Roles, comma-separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// A rate limit its sessions, tokens and password share: REQUESTS/SECONDS.
        #[arg(long, value_name = "REQUESTS/SECONDS", value_parser = rate_limit)]
        rate_limit: Option<serde_json::Value>,
        #[command(flatten)]
        password: PasswordInput,
    },
    /// Lists the users, by name.
    #[command(after_help = "Example:\n  guard user list --format json")]
    List,
    /// Shows a user.
    #[command(after_help = "Example:\n  guard user show ann")]
    Show {
        /// A name or an id.
        user: String,
    },
    /// Deletes a user, with its sessions, tokens and keys.
    #[command(after_help = "Example:\n  guard user delete ann --yes")]
    Delete {
        /// A name or an id.
        user: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Sets a user's password; its sessions, tokens and JWTs end.
    #[command(name = "set-password", after_help = "Example:\n  guard user set-password ann")]
    SetPassword {
        /// A name or an id.
        user: String,
        #[command(flatten)]
        password: PasswordInput,
    },
    /// Says whether a password is the user's (exit code 0 if it is, 1 if not); a wrong one
    /// counts as a failed login.
    #[command(
        name = "verify-password",
        after_help = "Example:\n  printf '%s\\n' \"$PASSWORD\" | guard user verify-password ann --password-stdin"
    )]
    VerifyPassword {
        /// A name or an id.
        user: String,
        #[command(flatten)]
        password: PasswordInput,
    },
    /// Disables a user: it cannot log in, and its sessions, tokens and keys end.
    #[command(after_help = "Example:\n  guard user disable ann")]
    Disable {
        /// A name or an id.
        user: String,
    },
    /// Enables a disabled user (what was ended stays ended).
    #[command(after_help = "Example:\n  guard user enable ann")]
    Enable {
        /// A name or an id.
        user: String,
    },
    /// Sets or removes a user's rate limit (shared by its sessions, tokens and password).
    #[command(
        name = "rate-limit",
        after_help = "Examples:\n  guard user rate-limit ann 600/60\n  guard user rate-limit ann none"
    )]
    RateLimit {
        /// A name or an id.
        user: String,
        /// REQUESTS/SECONDS, or none.
        #[arg(value_name = "REQUESTS/SECONDS|none", value_parser = rate_limit)]
        limit: serde_json::Value,
    },
    /// Sets, adds or removes a user's roles.
    #[command(
        after_help = "Examples:\n  guard user roles ann --add editor\n  guard user roles ann --set viewer",
        group = clap::ArgGroup::new("change").args(["set", "add", "remove"]).required(true).multiple(true)
    )]
    Roles {
        /// A name or an id.
        user: String,
        /// The roles it holds from now on, comma-separated.
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["add", "remove"])]
        set: Option<Vec<String>>,
        /// Roles to add, comma-separated.
        #[arg(long, value_delimiter = ',')]
        add: Vec<String>,
        /// Roles to remove, comma-separated.
        #[arg(long, value_delimiter = ',')]
        remove: Vec<String>,
    },
}

/// A rate limit as given on the command line: `REQUESTS/SECONDS` (`100/60`: a hundred a
/// minute), or `none`; as the admin API's JSON (`null` for none).
pub(crate) fn rate_limit(text: &str) -> Result<serde_json::Value, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(serde_json::Value::Null);
    }
    let parsed = text.split_once('/').and_then(|(requests, seconds)| {
        let seconds = seconds.strip_suffix('s').unwrap_or(seconds);
        Some((requests.trim().parse::<u32>().ok()?, seconds.trim().parse::<u32>().ok()?))
    });
    match parsed {
        Some((requests, per_seconds)) => {
            Ok(serde_json::json!({"requests": requests, "per_seconds": per_seconds}))
        }
        None => Err("expected REQUESTS/SECONDS, like 100/60, or none".to_owned()),
    }
}

/// When a key expires.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub(crate) struct ExpiryArgs {
    /// Expires this many days from now (default: GUARD_KEY_TTL_DAYS, else 15).
    #[arg(long)]
    pub(crate) ttl_days: Option<i64>,
    /// Expires at this time (RFC 3339, in the future).
    #[arg(long, value_name = "TIME")]
    pub(crate) expires_at: Option<String>,
    /// Never expires.
    #[arg(long)]
    pub(crate) never_expires: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Creates a key and prints it, the only time it is shown.
    #[command(after_help = "Example:\n  guard key create --name ci --roles viewer --ttl-days 30")]
    Create {
        /// A label.
        #[arg(long)]
        name: Option<String>,
        /// Roles, comma-separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// The user the key acts for (a name or an id): it holds no role the user does not.
        #[arg(long)]
        owner: Option<String>,
        /// At most this many requests in this many seconds: REQUESTS/SECONDS.
        #[arg(long, value_name = "REQUESTS/SECONDS", value_parser = rate_limit)]
        rate_limit: Option<serde_json::Value>,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// Lists keys, most recently used first.
    #[command(after_help = "Example:\n  guard key list --limit 20")]
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
    },
    /// Shows a key, with its usage counters.
    #[command(after_help = "Example:\n  guard key show 3kYw0q6Tn2Jd")]
    Show {
        /// The key's id.
        id: String,
    },
    /// Revokes a key: the next request with it is refused.
    #[command(after_help = "Example:\n  guard key revoke 3kYw0q6Tn2Jd")]
    Revoke {
        /// The key's id.
        id: String,
    },
    /// Gives a key a new expiry, and makes it work again if it was revoked or expired.
    #[command(after_help = "Example:\n  guard key renew 3kYw0q6Tn2Jd --ttl-days 90")]
    Renew {
        /// The key's id.
        id: String,
        /// A new rate limit, REQUESTS/SECONDS or none (default: unchanged).
        #[arg(long, value_name = "REQUESTS/SECONDS|none", value_parser = rate_limit)]
        rate_limit: Option<serde_json::Value>,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// Sets or removes a key's rate limit.
    #[command(
        name = "rate-limit",
        after_help = "Examples:\n  guard key rate-limit 3kYw0q6Tn2Jd 100/60\n  guard key rate-limit 3kYw0q6Tn2Jd none"
    )]
    RateLimit {
        /// The key's id.
        id: String,
        /// REQUESTS/SECONDS, or none.
        #[arg(value_name = "REQUESTS/SECONDS|none", value_parser = rate_limit)]
        limit: serde_json::Value,
    },
    /// Deletes a key, with its usage.
    #[command(after_help = "Example:\n  guard key delete 3kYw0q6Tn2Jd --yes")]
    Delete {
        /// The key's id.
        id: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// A key's last requests, and its requests counted by period.
    #[command(
        after_help = "Example:\n  guard key usage 3kYw0q6Tn2Jd --granularity day --since 2026-11-01T00:00:00Z"
    )]
    Usage {
        /// The key's id.
        id: String,
        /// From this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Until this time, exclusive (RFC 3339).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// minute, hour or day.
        #[arg(long)]
        granularity: Option<String>,
        /// How many of the last requests.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminSecretCommand {
    /// Replaces the admin secret kept in the store, and prints the new one, once. Servers
    /// configured with GUARD_ADMIN_SECRET keep theirs.
    #[command(after_help = "Example:\n  guard admin-secret rotate")]
    Rotate,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// Lists a user's sessions.
    #[command(after_help = "Example:\n  guard sessions list ann")]
    List {
        /// A name or an id.
        user: String,
    },
    /// Ends a session by its id, or every session of a user.
    #[command(
        after_help = "Examples:\n  guard sessions end Qm4T0d8cY2aB\n  guard sessions end --user ann"
    )]
    End {
        /// The session's id.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        id: Option<String>,
        /// Every session of this user (a name or an id).
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Copies a redb file into an empty PostgreSQL database, verifies the copy, and prints a
    /// summary: every user, key (hashes, never keys), session, token, counter and rollup.
    #[command(
        after_help = "Example:\n  guard db copy --from guard.redb --to postgres://guard@db/app"
    )]
    Copy {
        /// The redb file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL.
        #[arg(long)]
        to: String,
        /// Copy into a database that already holds guard's data: what has an id the file
        /// holds is replaced, the rest (and its settings) stays.
        #[arg(long)]
        force: bool,
    },
    /// The store's backend and schema version, how many of everything it holds, and the
    /// role assignments the recorded policy no longer declares.
    #[command(after_help = "Example:\n  GUARD_DB=postgres://guard@db/app guard db check")]
    Check,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command people run, by its words after `guard`.
    fn leaves(command: &clap::Command, path: &str, found: &mut Vec<(String, clap::Command)>) {
        for sub in command.get_subcommands() {
            let path = format!("{path} {}", sub.get_name()).trim().to_owned();
            if sub.has_subcommands() {
                leaves(sub, &path, found);
            } else {
                found.push((path, sub.clone()));
            }
        }
    }

    #[test]
    fn the_grammar_is_sound_and_every_command_has_an_example() {
        Cli::command().debug_assert();
        let mut found = Vec::new();
        leaves(&Cli::command(), "", &mut found);
        assert!(found.len() >= 20, "{}", found.len());
        for (path, command) in found {
            let help = command.get_after_help().map(ToString::to_string).unwrap_or_default();
            assert!(help.contains(&format!("guard {path}")), "`guard {path}` has no example");
        }
    }
}
