//! Running the built `guard` binary as a child process, and the demo it administers.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use guard_axum::{Guard, GuardBuilder};
use guard_tests::TestServer;
use serde_json::Value;

/// The binary under test.
pub(crate) const GUARD: &str = env!("CARGO_BIN_EXE_guard");

/// What to point the binary at: its arguments before the command, and its environment.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// How one run of the binary ended.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code.
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Standard output as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}; stderr {:?}", self.stdout, self.stderr)
        })
    }

    /// Asserts it succeeded, and returns it.
    pub(crate) fn ok(self) -> Run {
        assert_eq!(self.code, 0, "failed: stdout {:?}, stderr {:?}", self.stdout, self.stderr);
        self
    }

    /// Asserts it failed with exit code 1, one line on standard error that holds `says`, and
    /// nothing else printed; returns the line.
    pub(crate) fn failed_saying(&self, says: &str) -> String {
        assert_eq!(self.code, 1, "exit code; stdout {:?}, stderr {:?}", self.stdout, self.stderr);
        one_line(&self.stderr, says).to_owned()
    }
}

/// Asserts `stderr` is one line, `guard: …`, holding `says`, with no panic or backtrace.
fn one_line<'a>(stderr: &'a str, says: &str) -> &'a str {
    let line = stderr.strip_suffix('\n').unwrap_or(stderr);
    assert!(!line.contains('\n'), "more than one line: {stderr:?}");
    assert!(line.starts_with("guard: "), "{stderr:?}");
    assert!(line.contains(says), "{stderr:?} does not say {says:?}");
    for leak in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!line.contains(leak), "{stderr:?}");
    }
    line
}

impl Target {
    /// A store, by `--db`.
    pub(crate) fn db(db: &str) -> Target {
        Target { args: vec!["--db".into(), db.into()], env: Vec::new() }
    }

    /// A redb file.
    pub(crate) fn file(path: &Path) -> Target {
        Target::db(path.to_str().expect("a UTF-8 temporary path"))
    }

    /// A schema of a PostgreSQL database, as the servers name it (`GUARD_DB_SCHEMA`).
    pub(crate) fn postgres(url: &str, schema: &str) -> Target {
        Target::db(url).with_env("GUARD_DB_SCHEMA", schema)
    }

    /// A running server's admin API at `url`, with `secret` in `GUARD_ADMIN_SECRET`.
    pub(crate) fn server(url: &str, secret: &str) -> Target {
        Target { args: vec!["--server".into(), url.into()], env: Vec::new() }
            .with_env("GUARD_ADMIN_SECRET", secret)
    }

    /// The same, with `name=value` in the environment too.
    pub(crate) fn with_env(mut self, name: &str, value: &str) -> Target {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs `guard <target> args`, with nothing on standard input.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, "")
    }

    /// Runs `guard <target> args --format json`, asserts it succeeded, and returns its JSON.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        self.run(&args).ok().json()
    }

    /// Runs `guard <target> args` with `input` on standard input.
    pub(crate) fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the guard binary runs");
        let mut stdin = child.stdin.take().expect("a pipe");
        // A command that reads nothing may have exited already.
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        let output = child.wait_with_output().expect("the guard binary ends");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 on stderr"),
        }
    }

    /// The command `guard <target> args`, in an environment without the caller's `GUARD_*`.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(GUARD);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GUARD_") {
                command.env_remove(name);
            }
        }
        command.args(&self.args).args(args).envs(self.env.iter().map(|(n, v)| (n, v)));
        command
    }
}

/// `guard args` without a store or server.
pub(crate) fn guard(args: &[&str]) -> Run {
    Target { args: Vec::new(), env: Vec::new() }.run(args)
}

/// The demo's guard on the redb file `path`, with the real clock; no admin secret configured.
pub(crate) fn demo_on(path: &Path) -> GuardBuilder {
    demo::configure(Guard::builder(&demo::POLICY).database(path))
}

/// The demo, served on 127.0.0.1 with `builder`.
pub(crate) async fn serve(builder: GuardBuilder) -> (Guard, TestServer) {
    let guard = builder.build().expect("the demo's guard");
    let server = TestServer::start(demo::app(&guard)).await.expect("a server on 127.0.0.1");
    (guard, server)
}

/// Stops a server and its guard, so that its redb file is free again.
pub(crate) async fn stop(guard: Guard, server: TestServer) {
    server.stop().await.expect("the server stops");
    guard.shutdown();
    drop(guard);
}

/// Makes a redb file the demo has run on once (what records its policy), and returns its
/// directory and path.
pub(crate) async fn demo_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("guard.redb");
    let (guard, server) = serve(demo_on(&path)).await;
    stop(guard, server).await;
    (dir, path)
}

/// The ids in a list answer (`{"users": [...]}`, `{"keys": [...]}`).
pub(crate) fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` in {list}"))
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}
