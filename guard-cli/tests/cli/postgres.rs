//! The command line on PostgreSQL, beside running instances, and `db copy` from a redb file.
//! Skipped, with a message, without a PostgreSQL (`GUARD_TEST_POSTGRES`); CI runs them.

use guard_tests::instances::{self, eventually, get_with, get_with_key};
use guard_tests::{client, create_key, create_user, login, token};
use serde_json::json;

use crate::common::{Target, demo_on, serve, stop};
use crate::scenario::every_subcommand;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_on_postgres_while_instances_run() {
    let Some(db) = instances::database("every_command_works_on_postgres_while_instances_run")
    else {
        return;
    };
    let schema = db.fresh_schema();
    let a = instances::start(&db, &schema, "guard-a", |b| b).await;
    let t = Target::postgres(db.url(), &schema);
    every_subcommand(&t);

    // What the command line changes, the running instance honours within its bound.
    let client = client();
    t.run_with_input(&["user", "add", "cy", "--roles", "admin", "--password-stdin"], "cy's pass\n")
        .ok();
    eventually("the instance lets the new user log in", async || {
        login(&client, &a.server, "cy", "cy's pass").await.unwrap().0 == 200
    })
    .await;
    let key = t.json(&["key", "create", "--roles", "viewer"]);
    let (id, secret) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    eventually("the instance accepts the new key", async || {
        get_with_key(&client, &a, "/secure", secret).await == 200
    })
    .await;
    t.json(&["key", "revoke", id]);
    eventually("the instance refuses the revoked key", async || {
        get_with_key(&client, &a, "/secure", secret).await == 401
    })
    .await;

    let check = t.json(&["db", "check"]);
    assert_eq!(check["backend"], "PostgreSQL");
    assert!(check["schema_version"].as_u64().is_some_and(|v| v >= 1), "{check}");
    assert_eq!(check["users"], 1);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redb_file_copied_to_postgres_keeps_every_key_session_and_password() {
    let test = "a_redb_file_copied_to_postgres_keeps_every_key_session_and_password";
    let Some(db) = instances::database(test) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.redb");
    let client = client();

    // A year on one machine, in a minute: a user with a password, a key used three times, a
    // session, a bearer token.
    let (guard, server) = serve(demo_on(&path).admin_secret(guard_tests::ADMIN_SECRET)).await;
    let (status, _) =
        create_user(&client, &server, "ann", "ann's password", &["admin"]).await.unwrap();
    assert_eq!(status, 201);
    let (status, key) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
    assert_eq!(status, 201);
    let (key, key_id) =
        (key["key"].as_str().unwrap().to_owned(), key["id"].as_str().unwrap().to_owned());
    for _ in 0..3 {
        let response = client.get(server.url("/secure")).header("x-api-key", &key).send().await;
        assert_eq!(response.unwrap().status(), 200);
    }
    let (status, cookie, _) = login(&client, &server, "ann", "ann's password").await.unwrap();
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    let (status, issued) = token(&client, &server, "ann", "ann's password").await.unwrap();
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
    stop(guard, server).await;

    // Copied, verified, summarised.
    let schema = db.fresh_schema();
    let copy = Target::postgres(db.url(), &schema);
    let file = path.to_str().unwrap();
    let summary = copy.json(&["db", "copy", "--from", file, "--to", db.url()]);
    assert_eq!(summary["verified"], true, "{summary}");
    let count = |aggregate: &str| {
        let row =
            summary["aggregates"].as_array().unwrap().iter().find(|a| a["aggregate"] == aggregate);
        let row = row.unwrap_or_else(|| panic!("no {aggregate} in {summary}"));
        assert_eq!(row["count"], row["copied"], "{row}");
        row["count"].as_u64().unwrap()
    };
    assert_eq!((count("users"), count("keys")), (1, 1));
    assert!(count("sessions and tokens") >= 2, "{summary}");
    assert!(count("usage counters") >= 1 && count("usage rollups") >= 1, "{summary}");
    assert!(count("last requests") >= 3, "{summary}");
    assert!(!summary.to_string().contains(&key), "the copy never sees a key");
    let table = copy.run(&["db", "copy", "--from", file, "--to", db.url(), "--force"]).ok().stdout;
    assert!(table.contains("copied and verified"), "{table}");

    // A second copy into the now non-empty database is refused, and changes nothing.
    let again = copy.run(&["db", "copy", "--from", file, "--to", db.url()]);
    again.failed_saying("copy only into an empty database, or pass --force");

    // Its usage came along, once (the copy with --force replaced it, adding nothing).
    let shown = copy.json(&["key", "show", &key_id]);
    assert_eq!(shown["total_uses"], 3, "the counters came along: {shown}");
    let usage = copy.json(&["key", "usage", &key_id]);
    assert_eq!(usage["recent"].as_array().map(Vec::len), Some(3), "{usage}");

    // A demo on PostgreSQL accepts the same key, session, token and password.
    let pg = instances::serve(instances::unsecured_builder(&db, &schema, "guard-copied")).await;
    assert_eq!(get_with_key(&client, &pg, "/secure", &key).await, 200);
    assert_eq!(get_with(&client, &pg, "/admin", ("cookie", &cookie)).await, 200);
    assert_eq!(get_with(&client, &pg, "/admin", ("authorization", &bearer)).await, 200);
    assert_eq!(login(&client, &pg.server, "ann", "ann's password").await.unwrap().0, 200);

    // An admin secret the command line rotates, the running instance takes in.
    let rotated =
        copy.json(&["admin-secret", "rotate"])["admin_secret"].as_str().unwrap().to_owned();
    eventually("the instance accepts the rotated admin secret", async || {
        let request = client.get(pg.url("/auth/users")).header("x-admin-secret", &rotated);
        request.send().await.unwrap().status() == 200
    })
    .await;
    pg.stop().await;

    // Into a database in use, with --force: its own users and settings stay.
    let other = db.fresh_schema();
    let target = Target::postgres(db.url(), &other);
    let pg = instances::serve(instances::unsecured_builder(&db, &other, "guard-other")).await;
    pg.stop().await;
    let own_secret = target.json(&["admin-secret", "rotate"])["admin_secret"].clone();
    let stdin = "zed's password\n";
    target.run_with_input(&["user", "add", "zed", "--password-stdin"], stdin).ok();
    let refused = target.run(&["db", "copy", "--from", file, "--to", db.url()]);
    refused.failed_saying("the target already holds 1 keys, users, sessions and tokens");
    let forced = target.json(&["db", "copy", "--from", file, "--to", db.url(), "--force"]);
    assert_eq!(forced["verified"], true, "{forced}");
    let mut names: Vec<String> = target.json(&["user", "list"])["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ann", "zed"]);
    let pg = instances::serve(instances::unsecured_builder(&db, &other, "guard-other")).await;
    let own = own_secret.as_str().unwrap();
    let request = client.get(pg.url("/auth/users")).header("x-admin-secret", own);
    assert_eq!(request.send().await.unwrap().status(), 200, "its own admin secret stays");
    assert_eq!(login(&client, &pg.server, "zed", "zed's password").await.unwrap().0, 200);
    assert_eq!(get_with_key(&client, &pg, "/secure", &key).await, 200);
    pg.stop().await;

    // A name the target holds for another user refuses the copy before anything is written.
    let third = db.fresh_schema();
    let taken = Target::postgres(db.url(), &third);
    let pg = instances::serve(instances::unsecured_builder(&db, &third, "guard-third")).await;
    pg.stop().await;
    taken.run_with_input(&["user", "add", "ann", "--password-stdin"], "another ann's\n").ok();
    let refused = taken.run(&["db", "copy", "--from", file, "--to", db.url(), "--force"]);
    refused.failed_saying("the target has another user named `ann`: nothing was copied");
    assert_eq!(taken.json(&["key", "list"]), json!({"keys": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_the_servers_have_not_prepared_is_left_alone() {
    let test = "a_database_the_servers_have_not_prepared_is_left_alone";
    let Some(db) = instances::database(test) else { return };
    let schema = db.fresh_schema();
    let exists = |schema: &str| db.ask(&format!("SELECT to_regnamespace('{schema}') IS NOT NULL"));

    // No such schema: said, and not created.
    let missing = Target::postgres(db.url(), &schema);
    missing.run(&["user", "list"]).failed_saying("there is no guard database at");
    missing.run(&["db", "check"]).failed_saying(&format!("(schema {schema})"));
    assert!(!exists(&schema), "the command line created the schema");

    // Prepared by an older guard: left for the upgraded servers to migrate.
    let instance = instances::start(&db, &schema, "guard-a", |b| b).await;
    instance.stop().await;
    let t = Target::postgres(db.url(), &schema);
    t.run(&["user", "list"]).ok();
    let migrations = format!("{schema}._sqlx_migrations");
    let newest = format!("(SELECT max(version) FROM {migrations})");
    // The newest migration hidden (a negative version), as if never applied.
    db.execute(&format!("UPDATE {migrations} SET version = -version WHERE version = {newest}"));
    t.run(&["user", "list"]).failed_saying("start the upgraded application on it first");
    db.execute(&format!("UPDATE {migrations} SET version = -version WHERE version < 0"));
    t.run(&["user", "list"]).ok();

    // Prepared by a newer guard.
    db.execute(&format!(
        "INSERT INTO {schema}._sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)"
    ));
    t.run(&["user", "list"]).failed_saying("uses guard schema version 9999");
}
