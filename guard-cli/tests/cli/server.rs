//! The command line beside a server that holds its redb file: it says so, and with
//! `--server` it does the same through that server's admin API.

use guard_tests::{client, login};

use crate::common::{Target, demo_file, demo_on, serve, stop};
use crate::scenario::every_subcommand;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_file_held_every_command_works_through_the_server() {
    let (_dir, path) = demo_file().await;
    let file = Target::file(&path);
    let secret =
        file.json(&["admin-secret", "rotate"])["admin_secret"].as_str().unwrap().to_owned();
    let (guard, server) = serve(demo_on(&path)).await;

    // The file is the server's: one line says what to do instead, for every command.
    for args in [&["user", "list"][..], &["key", "revoke", "x"], &["db", "check"]] {
        let held = file.run(args);
        let line =
            held.failed_saying("the database is in use by a running server; use --server URL");
        assert_eq!(line, "guard: the database is in use by a running server; use --server URL");
        assert_eq!(held.stdout, "");
    }

    let base = server.url("/auth");
    let t = Target::server(&base, &secret);
    every_subcommand(&t);

    // The secret from standard input instead; a wrong one; none.
    let no_env = Target::server(&base, "");
    let by_stdin =
        no_env.run_with_input(&["--admin-secret-stdin", "user", "list"], &format!("{secret}\n"));
    assert!(by_stdin.ok().stdout.starts_with("ID"));
    let wrong = Target::server(&base, "not-the-secret-0123456789");
    wrong.run(&["user", "list"]).failed_saying("the server does not accept this admin secret");
    no_env.run(&["user", "list"]).failed_saying("the admin secret is empty");
    let without = crate::common::guard(&["--server", &base, "user", "list"]);
    without.failed_saying(
        "--server needs the admin secret: GUARD_ADMIN_SECRET or --admin-secret-stdin",
    );

    // What it changes, the running server does at once.
    let client = client();
    t.run_with_input(
        &["user", "add", "bo", "--roles", "admin", "--password-stdin"],
        "bo's password\n",
    )
    .ok();
    let (status, cookie, _) = login(&client, &server, "bo", "bo's password").await.unwrap();
    assert_eq!(status, 200);
    let cookie = cookie.expect("a session cookie");
    let key = t.json(&["key", "create", "--roles", "viewer"]);
    let (id, secret_key) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    let get = |path: &str, header: (&'static str, String)| {
        let request = client.get(server.url(path)).header(header.0, header.1);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("/secure", ("x-api-key", secret_key.to_owned())).await, 200);
    assert_eq!(get("/admin", ("cookie", cookie.clone())).await, 200);
    t.json(&["key", "revoke", id]);
    assert_eq!(get("/secure", ("x-api-key", secret_key.to_owned())).await, 401, "revoked");
    let sessions = t.json(&["sessions", "list", "bo"]);
    let session = sessions["sessions"][0]["id"].as_str().expect("bo's session").to_owned();
    t.json(&["sessions", "end", &session]);
    assert_eq!(get("/admin", ("cookie", cookie)).await, 401, "ended");

    // Rotated through the server: the old secret stops working, the new one works.
    let rotated = t.json(&["admin-secret", "rotate"])["admin_secret"].as_str().unwrap().to_owned();
    assert_ne!(rotated, secret);
    t.run(&["user", "list"]).failed_saying("does not accept");
    Target::server(&base, &rotated).run(&["user", "list"]).ok();
    stop(guard, server).await;

    // No server there: one line.
    let gone = Target::server(&base, &rotated).run(&["user", "list"]);
    let line = gone.failed_saying("cannot reach the server at");
    assert!(!line.contains(&rotated), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_configured_secret_keeps_it() {
    let (_dir, path) = demo_file().await;
    let configured = "a-configured-admin-secret-0123456789";
    let (guard, server) = serve(demo_on(&path).admin_secret(configured)).await;
    let t = Target::server(&server.url("/auth"), configured);
    let refused = t.run(&["admin-secret", "rotate"]);
    refused.failed_saying(
        "the admin secret is configured (GUARD_ADMIN_SECRET or code); change it there",
    );
    t.run(&["user", "list"]).ok();
    stop(guard, server).await;
}
