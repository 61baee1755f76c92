//! Every command on users, keys, roles and sessions, with what each prints, its exit code and
//! what a refused one leaves unchanged: the same on a redb file, on PostgreSQL and through a
//! running server.

use serde_json::{Value, json};

use crate::common::{Target, ids};

const FIRST: &str = "correct horse battery\n";
const SECOND: &str = "a second good password\n";

/// Runs every command of the scenario against `t`, which must be a fresh store the demo
/// recorded its policy in (roles viewer < editor < admin).
pub(crate) fn every_subcommand(t: &Target) {
    users(t);
    keys(t);
    roles_and_sessions(t);
}

fn user_names(t: &Target) -> Vec<String> {
    let list = t.json(&["user", "list"]);
    let users = list["users"].as_array().expect("a list of users");
    users.iter().map(|u| u["name"].as_str().expect("a name").to_owned()).collect()
}

fn users(t: &Target) {
    // Created, with the admin API's JSON.
    let args = ["user", "add", "ann", "--roles", "editor", "--password-stdin", "--format", "json"];
    let ann = t.run_with_input(&args, FIRST).ok().json();
    assert_eq!(ann["name"], "ann");
    assert_eq!(ann["roles"], json!(["editor"]));
    assert_eq!(ann["disabled"], false);
    let id = ann["id"].as_str().expect("an id").to_owned();
    assert!(ann["created_at"].as_str().is_some_and(|at| at.ends_with('Z')), "RFC 3339: {ann}");

    // A table for people: headers, then one aligned row per user.
    let table = t.run(&["user", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("NAME"), "{table}");
    assert!(lines[1].starts_with(&id) && lines[1].contains("ann") && lines[1].contains("editor"));
    assert_eq!(lines[0].find("NAME"), lines[1].find("ann"), "aligned:\n{table}");

    // Named by id, or by name as logins compare names.
    assert_eq!(t.json(&["user", "show", &id])["name"], "ann");
    assert_eq!(t.json(&["user", "show", "ANN"])["id"], id);
    t.run(&["user", "show", "nobody"]).failed_saying("no user `nobody`");

    // A duplicate, and an unknown role: refused, nothing changed.
    let duplicate = t.run_with_input(&["user", "add", "Ann", "--password-stdin"], SECOND);
    duplicate.failed_saying("taken");
    let typo = ["user", "add", "bob", "--roles", "admn", "--password-stdin"];
    t.run_with_input(&typo, FIRST).failed_saying("unknown role `admn`; did you mean `admin`?");
    assert_eq!(user_names(t), ["ann"]);

    // Roles: added, removed, set; an unknown one refused with help.
    let roles =
        |args: &[&str]| t.json(&[&["user", "roles", "ann"], args].concat())["roles"].clone();
    assert_eq!(roles(&["--add", "admin,editor"]), json!(["editor", "admin"]));
    assert_eq!(roles(&["--remove", "editor"]), json!(["admin"]));
    assert_eq!(roles(&["--set", "viewer"]), json!(["viewer"]));
    t.run(&["user", "roles", "ann", "--add", "veiwer"]).failed_saying("did you mean `viewer`?");
    assert_eq!(t.json(&["user", "show", "ann"])["roles"], json!(["viewer"]));

    // A rate limit, set and removed.
    let limited = t.json(&["user", "rate-limit", "ann", "600/60"]);
    assert_eq!(limited["rate_limit"], json!({"requests": 600, "per_seconds": 60}));
    assert!(t.run(&["user", "show", "ann"]).ok().stdout.contains("600/60s"));
    assert_eq!(t.json(&["user", "rate-limit", &id, "none"])["rate_limit"], json!(null));

    // Disabled and enabled.
    assert_eq!(t.json(&["user", "disable", "ann"])["disabled"], true);
    assert_eq!(t.json(&["user", "enable", &id])["disabled"], false);

    // A new password: the old one no longer is hers (exit 1), the new one is (exit 0).
    let set = ["user", "set-password", "ann", "--password-stdin", "--format", "json"];
    t.run_with_input(&set, SECOND).ok();
    let verify = ["user", "verify-password", "ann", "--password-stdin", "--format", "json"];
    let old = t.run_with_input(&verify, FIRST);
    assert_eq!(old.code, 1, "{old:?}");
    assert_eq!(old.json(), json!({"matches": false}));
    let new = t.run_with_input(&verify, SECOND).ok();
    assert_eq!(new.json(), json!({"matches": true}));
    let table = t.run_with_input(&verify[..4], SECOND).ok().stdout;
    assert_eq!(table, "MATCHES\ntrue\n");
}

fn keys(t: &Target) {
    let create = ["key", "create", "--name", "ci", "--roles", "viewer", "--ttl-days", "30"];
    let ci = t.json(&create);
    let ci_id = ci["id"].as_str().expect("an id").to_owned();
    let secret = ci["key"].as_str().expect("the key, shown once");
    assert!(secret.contains(&ci_id), "{ci}");
    assert_eq!((ci["name"].clone(), ci["state"].clone()), (json!("ci"), json!("active")));
    assert!(ci["expires_at"].is_string());

    // In a table, the key first, said to be shown once.
    let args = ["key", "create", "--owner", "ann", "--roles", "viewer", "--never-expires"];
    let printed = t.run(&args).ok().stdout;
    assert!(printed.starts_with("key: "), "{printed}");
    assert!(printed.contains("shown this once"), "{printed}");
    let owned = printed.lines().next().and_then(|l| l.strip_prefix("key: ")).expect("the key");
    let ann = t.json(&["user", "show", "ann"]);
    let owned_id = t.json(&["key", "list"])["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| owned.contains(k["id"].as_str().unwrap_or("?")))
        .map(|k| k["id"].as_str().unwrap_or_default().to_owned())
        .expect("the owned key is listed");
    let shown = t.json(&["key", "show", &owned_id]);
    assert_eq!(
        (shown["owner"].clone(), shown["never_expires"].clone()),
        (ann["id"].clone(), json!(true))
    );
    assert!(shown.get("key").is_none(), "a key is shown only when created: {shown}");

    // Refused: an unknown role, an unknown owner, two expiries (clap's usage error).
    t.run(&["key", "create", "--roles", "admn"]).failed_saying("did you mean `admin`?");
    t.run(&["key", "create", "--owner", "nobody"]).failed_saying("no user `nobody`");
    let both = t.run(&["key", "create", "--ttl-days", "3", "--never-expires"]);
    assert_eq!(both.code, 2, "{both:?}");
    assert_eq!(t.json(&["key", "list"])["keys"].as_array().map(Vec::len), Some(2));

    // Listed, limited, in a table.
    let mut listed = ids(&t.json(&["key", "list"]), "keys");
    listed.sort();
    let mut expected = vec![ci_id.clone(), owned_id.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(ids(&t.json(&["key", "list", "--limit", "1"]), "keys").len(), 1);
    let table = t.run(&["key", "list"]).ok().stdout;
    assert!(table.starts_with("ID") && table.contains("LAST USED"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    // Revoked, renewed, its usage.
    assert_eq!(t.json(&["key", "revoke", &ci_id])["state"], "revoked");
    let renewed = t.json(&["key", "renew", &ci_id, "--ttl-days", "90"]);
    assert_eq!(renewed["state"], "active");

    // Rate limits: set on renewal and on their own, shown in the table, removed; bad ones
    // refused by clap (2) or by the API (1), changing nothing.
    let limited = t.json(&["key", "renew", &ci_id, "--rate-limit", "100/60"]);
    assert_eq!(limited["rate_limit"], json!({"requests": 100, "per_seconds": 60}));
    let limited = t.json(&["key", "rate-limit", &ci_id, "5/1s"]);
    assert_eq!(limited["rate_limit"], json!({"requests": 5, "per_seconds": 1}));
    let table = t.run(&["key", "show", &ci_id]).ok().stdout;
    assert!(table.contains("LIMIT") && table.contains("5/1s"), "{table}");
    assert_eq!(t.run(&["key", "rate-limit", &ci_id, "fast"]).code, 2);
    t.run(&["key", "rate-limit", &ci_id, "0/60"]).failed_saying("`requests` from 1");
    assert_eq!(t.json(&["key", "show", &ci_id])["rate_limit"]["requests"], 5);
    assert_eq!(t.json(&["key", "rate-limit", &ci_id, "none"])["rate_limit"], json!(null));
    let created = t.json(&["key", "create", "--rate-limit", "10/3600"]);
    assert_eq!(created["rate_limit"], json!({"requests": 10, "per_seconds": 3600}));
    t.json(&["key", "delete", created["id"].as_str().unwrap_or_default(), "--yes"]);
    let usage = t.json(&["key", "usage", &ci_id, "--granularity", "day"]);
    assert_eq!(usage["granularity"], "day");
    assert!(usage["recent"].is_array() && usage["rollups"].is_array(), "{usage}");
    let (since, until) = ("2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z");
    let window =
        ["key", "usage", &ci_id, "--since", since, "--until", until, "--granularity", "day"];
    let usage = t.json(&window);
    assert_eq!((usage["since"].as_str(), usage["until"].as_str()), (Some(since), Some(until)));
    assert_eq!(usage["rollups"], json!([]), "nothing in January: {usage}");
    t.run(&["key", "usage", &ci_id, "--since", "yesterday"]).failed_saying("since");
    let text = t.run(&["key", "usage", &ci_id]).ok().stdout;
    assert!(text.contains("Last requests") && text.contains("OUTCOME"), "{text}");
    let bad = t.run(&["key", "usage", &ci_id, "--granularity", "fortnight"]);
    bad.failed_saying("granularity");

    // Unknown keys, named.
    const NONE: &str = "nokey0000000";
    for args in [
        &["key", "show", NONE][..],
        &["key", "revoke", NONE],
        &["key", "renew", NONE],
        &["key", "usage", NONE],
        &["key", "delete", NONE, "--yes"],
    ] {
        t.run(args).failed_saying("no key `nokey0000000`");
    }

    // Deleted only when asked with --yes (without a terminal there is no asking).
    t.run(&["key", "delete", &ci_id]).failed_saying("pass --yes");
    assert_eq!(t.json(&["key", "show", &ci_id])["id"], ci_id.as_str());
    assert_eq!(t.json(&["key", "delete", &ci_id, "--yes"]), json!({"deleted": ci_id}));
    t.run(&["key", "show", &ci_id]).failed_saying("no key");
}

fn roles_and_sessions(t: &Target) {
    // The recorded policy, with what each role grants after inheritance.
    let policy = t.json(&["roles"]);
    let admin = policy["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "admin")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(admin["inherits"], json!(["editor"]), "{policy}");
    assert_eq!(admin["permissions"], json!(["view_reports", "edit_reports", "manage_keys"]));
    let table = t.run(&["roles"]).ok().stdout;
    assert!(table.starts_with("ROLE") && table.contains("viewer"), "{table}");

    // Sessions: none yet; ending a user's ends none; an unknown one is named.
    assert_eq!(t.json(&["sessions", "list", "ann"]), json!({"sessions": []}));
    assert_eq!(t.json(&["sessions", "end", "--user", "ann"]), json!({"ended": 0}));
    t.run(&["sessions", "end", "nosuchsession"]).failed_saying("no session `nosuchsession`");
    let neither = t.run(&["sessions", "end"]);
    assert_eq!(neither.code, 2, "{neither:?}");

    // A user deleted (asked first), with her keys.
    let owned = ids(&t.json(&["key", "list"]), "keys");
    t.run(&["user", "delete", "ann"]).failed_saying("pass --yes");
    assert_eq!(user_names(t), ["ann"]);
    let deleted = t.json(&["user", "delete", "ann", "--yes"]);
    assert!(deleted["deleted"].is_string(), "{deleted}");
    t.run(&["user", "show", "ann"]).failed_saying("no user `ann`");
    for key in owned {
        t.run(&["key", "show", &key]).failed_saying("no key");
    }
    t.run(&["user", "delete", "ann", "--yes"]).failed_saying("no user `ann`");
}
