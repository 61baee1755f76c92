//! What the command line says about what it cannot use: one line and exit code 1 for a bad
//! store, exit code 2 for bad usage; and its help and completions.

use std::io::Write;

use crate::common::{Target, demo_file, guard};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_it_cannot_use_is_one_line_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("missing.redb");
    Target::file(&missing).run(&["user", "list"]).failed_saying("there is no guard database at");
    assert!(!missing.exists(), "a missing file is never created");
    Target::file(dir.path())
        .run(&["key", "list"])
        .failed_saying("is a directory, not a guard database");

    let corrupt = dir.path().join("corrupt.redb");
    std::fs::File::create(&corrupt).unwrap().write_all(&[0x5a; 8192]).unwrap();
    Target::file(&corrupt).run(&["user", "list"]).failed_saying(&corrupt.display().to_string());
    assert_eq!(std::fs::read(&corrupt).unwrap(), vec![0x5a; 8192], "left as it was");

    // A guard database no application has run on: no policy to check role names against.
    let fresh = dir.path().join("fresh.redb");
    drop(guard_axum::guard_core::store::RedbStore::open(&fresh).unwrap());
    Target::file(&fresh)
        .run(&["user", "list"])
        .failed_saying("no policy is recorded in this database");

    // A file a newer guard wrote.
    let (_demo_dir, newer) = demo_file().await;
    {
        let db = redb::Database::open(&newer).unwrap();
        let txn = db.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("guard_meta");
        txn.open_table(meta)
            .unwrap()
            .insert("schema_version", 99u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    Target::file(&newer)
        .run(&["user", "list"])
        .failed_saying("uses guard schema version 99; this build reads up to");

    // A file it may not read, and one in a directory it may not enter (root may read
    // anything: there is nothing to show then).
    let (locked_dir, locked) = demo_file().await;
    let mode = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    };
    mode(&locked, 0o000);
    if std::fs::File::open(&locked).is_ok() {
        eprintln!("the unreadable-file cases are skipped: this user reads any file");
    } else {
        Target::file(&locked).run(&["user", "list"]).failed_saying("ermission denied");
        mode(&locked, 0o600);
        mode(locked_dir.path(), 0o000);
        let line = Target::file(&locked).run(&["user", "list"]).failed_saying("cannot read");
        assert!(line.contains("ermission denied"), "{line}");
        mode(locked_dir.path(), 0o700);
    }

    // An unreachable database, and a malformed URL.
    let unreachable =
        Target::db("postgres://guard@127.0.0.1:1/guard").with_env("GUARD_DB_CONNECT_RETRIES", "0");
    let line = unreachable.run(&["user", "list"]).failed_saying("127.0.0.1:1").to_owned();
    assert!(line.contains("connect") || line.contains("refused"), "{line}");
    Target::db("postgres://[").run(&["key", "list"]).failed_saying("not a PostgreSQL URL");
    let check = Target::db("postgres://guard:s3cret-pw@127.0.0.1:1/guard")
        .with_env("GUARD_DB_CONNECT_RETRIES", "0")
        .run(&["db", "check"]);
    assert!(!check.failed_saying("127.0.0.1").contains("s3cret-pw"), "a password in a message");

    // `db copy`: from what is not a file, to what is not PostgreSQL or cannot be reached.
    let (_copy_dir, file) = demo_file().await;
    let file = file.to_str().unwrap();
    let copy = |from: &str, to: &str| {
        Target::db("unused.redb")
            .with_env("GUARD_DB_CONNECT_RETRIES", "0")
            .run(&["db", "copy", "--from", from, "--to", to])
    };
    let missing = missing.to_str().unwrap();
    copy(missing, "postgres://127.0.0.1:1/x").failed_saying("is not a guard database file");
    copy(file, "mysql://127.0.0.1/x").failed_saying("--to must be a postgres:// URL");
    let unreachable = copy(file, "postgres://guard:s3cret-pw@127.0.0.1:1/guard");
    assert!(!unreachable.failed_saying("127.0.0.1:1").contains("s3cret-pw"));
}

#[test]
fn bad_usage_is_clap_s_message_and_exit_code_2() {
    for args in [
        &["frobnicate"][..],
        &["user", "add"],
        &["user", "add", "ann", "--password", "hunter2"],
        &["key", "create", "--ttl-days", "soon"],
        &["--format", "xml", "user", "list"],
        &["user", "roles", "ann", "--set", "a", "--add", "b"],
        &["user", "roles", "ann"],
        &["key", "list", "--limit", "0"],
        &["completions", "powershell-ish"],
    ] {
        let run = guard(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn help_shows_examples() {
    // Every command's example is checked where the grammar is (src/cli.rs); here, that the
    // binary prints them.
    let top = guard(&["--help"]).ok().stdout;
    assert!(top.contains("Examples:") && top.contains("guard user add ann"), "{top}");
    let add = guard(&["user", "add", "--help"]).ok().stdout;
    assert!(add.contains("Example:\n  guard user add ann --roles admin,editor"), "{add}");
    let version = guard(&["--version"]).ok().stdout;
    assert!(version.starts_with("guard "), "{version}");
}

#[test]
fn completions_are_scripts_each_shell_loads() {
    let bash = guard(&["completions", "bash"]).ok().stdout;
    assert!(bash.contains("verify-password"), "{bash}");
    let zsh = guard(&["completions", "zsh"]).ok().stdout;
    assert!(zsh.starts_with("#compdef guard") && zsh.contains("verify-password"));
    let fish = guard(&["completions", "fish"]).ok().stdout;
    assert!(fish.contains("complete -c guard") && fish.contains("verify-password"));

    // bash itself loads it, and registers it for `guard`.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bash).unwrap();
    let script = format!("source {} && complete -p guard", file.path().display());
    let loaded =
        std::process::Command::new("bash").args(["--norc", "-c", &script]).output().unwrap();
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("guard"));
}
