//! The command line on a redb file no server holds: every command, and what a server started
//! on the file afterwards does with what it changed.

use guard_tests::{client, login};
use serde_json::json;

use crate::common::{Target, demo_file, demo_on, serve, stop};
use crate::scenario::every_subcommand;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_on_a_redb_file() {
    let (_dir, path) = demo_file().await;
    every_subcommand(&Target::file(&path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_honours_what_the_command_line_changed() {
    let (_dir, path) = demo_file().await;
    let t = Target::file(&path);
    let client = client();

    // A user the command line creates logs in over HTTP; a key it creates works.
    t.run_with_input(
        &["user", "add", "ann", "--roles", "admin", "--password-stdin"],
        "pw of ann 1\n",
    )
    .ok();
    let key = t.json(&["key", "create", "--roles", "admin"]);
    let (key_id, secret) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    let (guard, server) = serve(demo_on(&path)).await;
    let (status, cookie, _) = login(&client, &server, "ann", "pw of ann 1").await.unwrap();
    assert_eq!(status, 200);
    let cookie = cookie.expect("a session cookie");
    let admin_page = |header: (&'static str, String)| {
        let request = client.get(server.url("/admin")).header(header.0, header.1);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(admin_page(("cookie", cookie.clone())).await, 200);
    assert_eq!(admin_page(("x-api-key", secret.to_owned())).await, 200);
    stop(guard, server).await;

    // Its session is listed; the key's use is counted.
    let sessions = t.json(&["sessions", "list", "ann"]);
    let session = sessions["sessions"][0]["id"].as_str().expect("one session").to_owned();
    assert_eq!(sessions["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(t.json(&["key", "show", key_id])["total_uses"], 1);

    // The command line revokes the key and ends the session; the restarted server refuses
    // both, and a new password replaces the old.
    assert_eq!(t.json(&["key", "revoke", key_id])["state"], "revoked");
    assert_eq!(t.json(&["sessions", "end", &session]), json!({"ended": 1}));
    t.run_with_input(&["user", "set-password", "ann", "--password-stdin"], "pw of ann 2\n").ok();
    let (guard, server) = serve(demo_on(&path)).await;
    let status = |header: (&'static str, String)| {
        let request = client.get(server.url("/admin")).header(header.0, header.1);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(("x-api-key", secret.to_owned())).await, 401, "a revoked key");
    assert_eq!(status(("cookie", cookie.clone())).await, 401, "an ended session");
    assert_eq!(login(&client, &server, "ann", "pw of ann 1").await.unwrap().0, 401);
    assert_eq!(login(&client, &server, "ann", "pw of ann 2").await.unwrap().0, 200);
    stop(guard, server).await;

    // `sessions end --user` ends every one of hers.
    assert_eq!(t.json(&["sessions", "end", "--user", "ann"]), json!({"ended": 1}));
    assert_eq!(t.json(&["sessions", "list", "ann"]), json!({"sessions": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_admin_secret_is_the_one_a_restarted_server_accepts() {
    let (_dir, path) = demo_file().await;
    let t = Target::file(&path);
    let rotated = t.json(&["admin-secret", "rotate"]);
    let secret = rotated["admin_secret"].as_str().expect("the new secret").to_owned();
    let printed = t.run(&["admin-secret", "rotate"]).ok().stdout;
    assert!(printed.contains("shown this once"), "{printed}");
    let newest = printed.lines().last().expect("the secret").trim().to_owned();
    assert_ne!(newest, secret);

    let (guard, server) = serve(demo_on(&path)).await;
    let client = client();
    let with = |secret: &str| {
        let request = client.get(server.url("/auth/users")).header("x-admin-secret", secret);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(with(&newest).await, 200);
    assert_eq!(with(&secret).await, 401, "the one it replaced");
    stop(guard, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_check_reports_role_assignments_the_policy_no_longer_declares() {
    let (_dir, path) = demo_file().await;
    let t = Target::file(&path);
    t.run_with_input(
        &["user", "add", "ann", "--roles", "admin", "--password-stdin"],
        "ann's password\n",
    )
    .ok();
    t.json(&["key", "create", "--name", "ops", "--roles", "editor"]);
    let check = t.json(&["db", "check"]);
    assert_eq!(check["backend"], "redb");
    assert!(check["schema_version"].as_u64().is_some(), "{check}");
    assert_eq!((check["users"].clone(), check["keys"].clone()), (json!(1), json!(1)));
    assert_eq!(check["undeclared_roles"], json!([]));
    let table = t.run(&["db", "check"]).ok().stdout;
    assert!(table.contains("no role assignment names a role"), "{table}");

    // The application is deployed with a policy that dropped `admin` and `editor`.
    let guard = guard_axum::Guard::builder(&smaller::POLICY).database(&path).build().unwrap();
    guard.shutdown();
    drop(guard);
    let check = t.json(&["db", "check"]);
    let undeclared = check["undeclared_roles"].as_array().expect("a list");
    assert_eq!(undeclared.len(), 2, "{check}");
    assert!(
        undeclared
            .iter()
            .any(|u| u["kind"] == "user" && u["name"] == "ann" && u["role"] == "admin")
    );
    assert!(
        undeclared
            .iter()
            .any(|u| u["kind"] == "key" && u["name"] == "ops" && u["role"] == "editor")
    );
    let table = t.run(&["db", "check"]).ok().stdout;
    assert!(table.contains("UNDECLARED ROLE") && table.contains("ops"), "{table}");
    // And the command line now checks roles against that policy.
    t.run(&["user", "roles", "ann", "--set", "admin"]).failed_saying("unknown role `admin`");
    assert_eq!(t.json(&["user", "roles", "ann", "--set", "reader"])["roles"], json!(["reader"]));
}

/// The demo's policy after a release that dropped its roles for one other.
mod smaller {
    guard_axum::policy! {
        roles {
            reader: [read],
        }
    }
}
