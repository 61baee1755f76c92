//! The command line beside a server that holds its redb file: it says so, and with
//! `--server` it does the same through that server's admin API.

use guard_tests::{TestServer, client, login};

use crate::common::{Target, demo_file, demo_on, serve, stop};
use crate::scenario::every_subcommand;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_file_held_every_command_works_through_the_server() {
    let (_dir, path) = demo_file().await;
    let file = Target::file(&path);
    let secret =
        file.json(&["admin-secret", "rotate"])["admin_secret"].as_str().unwrap().to_owned();
    let (guard, server) = serve(demo_on(&path)).await;

    // The file is the server's: one line says what to do instead.
    for args in [&["user", "list"][..], &["key", "revoke", "x"], &["admin-secret", "rotate"]] {
        let held = file.run(args);
        let line =
            held.failed_saying("the database is in use by a running server; use --server URL");
        assert_eq!(line, "guard: the database is in use by a running server; use --server URL");
        assert_eq!(held.stdout, "");
    }
    let check = file.run(&["db", "check"]);
    check.failed_saying("the database is in use by a running server: stop it first");
    let file_name = path.to_str().unwrap();
    let copy = file.run(&["db", "copy", "--from", file_name, "--to", "postgres://127.0.0.1:1/x"]);
    copy.failed_saying("the database is in use by a running server: stop it first");

    let base = server.url("/auth");
    let t = Target::server(&base, &secret);
    every_subcommand(&t);
    let through = t.run(&["db", "check"]);
    through.failed_saying("db commands work on the store itself, not through a server");

    // With the secret on standard input, a password is the second line.
    let both = ["--admin-secret-stdin", "user", "add", "di", "--password-stdin"];
    let no_env = Target::server(&base, "");
    no_env.run_with_input(&both, &format!("{secret}\ndi's password\n")).ok();
    assert_eq!(login(&client(), &server, "di", "di's password").await.unwrap().0, 200);

    // The secret from standard input instead; a wrong one; none.
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
    // Listed most recently used first, a key never used last.
    let unused = t.json(&["key", "create", "--name", "unused"]);
    let listed = crate::common::ids(&t.json(&["key", "list"]), "keys");
    assert_eq!(listed, [id, unused["id"].as_str().unwrap()]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_with_the_secret() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    // Where a redirect would send the secret: it must never be asked.
    let asked = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&asked);
    let elsewhere = TestServer::start(axum::Router::new().fallback(move || {
        seen.store(true, Ordering::SeqCst);
        async { "{}" }
    }))
    .await
    .unwrap();
    let target = elsewhere.url("/steal");
    let redirecting = TestServer::start(axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { axum::response::Redirect::temporary(&target) }
    }))
    .await
    .unwrap();
    let t = Target::server(&redirecting.url("/auth"), "the-admin-secret-0123456789");
    t.run(&["user", "list"]).failed_saying("a redirect, which is not followed");
    assert!(!asked.load(Ordering::SeqCst), "the redirect was followed");
    redirecting.stop().await.unwrap();
    elsewhere.stop().await.unwrap();

    // No user name or password in the URL; HTTP or HTTPS only; TLS is spoken (here to a
    // server that does not: a clear failure, not an unsupported scheme).
    let with_password = Target::server("http://ops:hunter22@127.0.0.1:1/auth", "a-secret-0123456");
    let line = with_password.run(&["user", "list"]).failed_saying("must not hold a user name");
    assert!(!line.contains("hunter22"), "{line}");
    Target::server("ftp://127.0.0.1/auth", "a-secret-0123456")
        .run(&["user", "list"])
        .failed_saying("--server must be an http:// or https:// URL");
    let plain = TestServer::start(axum::Router::new()).await.unwrap();
    let https = format!("https://{}/auth", plain.addr());
    let line = Target::server(&https, "a-secret-0123456")
        .run(&["user", "list"])
        .failed_saying("cannot reach the server at https://");
    assert!(!line.contains("scheme"), "{line}");
    plain.stop().await.unwrap();
}
