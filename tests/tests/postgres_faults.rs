//! PostgreSQL going away while instances serve, and coming back: requests go on being served
//! from the instances' memory, writes answer 503 with `Retry-After`, usage gathered
//! meanwhile is written once the database is back, and the instances catch up with each
//! other. An instance started while the database is down says so in one line, or waits for
//! it when told to retry.
//!
//! One test, since it stops the server every other test uses; cargo runs test files one
//! after another. It needs `GUARD_TEST_POSTGRES` and `GUARD_TEST_POSTGRES_CTL` (how to stop
//! and start that server: `.ci/postgres` sets both); without them it is skipped, with a
//! message, and CI runs it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::time::Duration;

use guard_axum::GuardError;
use guard_tests::instances::{self, eventually, get_with_key};
use guard_tests::{client, create_key, create_user, login};
use reqwest::Method;
use serde_json::json;

/// Runs `pg_ctl <action>` on the test server.
fn pg_ctl(ctl: &str, action: &str) {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{ctl} {action} >/dev/null"))
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {action} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_ride_out_the_database_going_away() {
    let Some(db) = instances::database("instances_ride_out_the_database_going_away") else {
        return;
    };
    let Some(ctl) = std::env::var("GUARD_TEST_POSTGRES_CTL").ok().filter(|c| !c.is_empty()) else {
        assert!(
            std::env::var_os("GUARD_REQUIRE_POSTGRES").is_none(),
            "GUARD_REQUIRE_POSTGRES is set, but GUARD_TEST_POSTGRES_CTL is not"
        );
        eprintln!(
            "SKIPPED: set GUARD_TEST_POSTGRES_CTL (a pg_ctl command line) to stop the server"
        );
        return;
    };
    let schema = db.fresh_schema();
    let a = instances::start(&db, &schema, "guard-a", |b| b).await;
    let b = instances::start(&db, &schema, "guard-b", |b| b).await;
    let client = client();
    let (_, created) = create_key(&client, &a.server, json!({})).await.unwrap();
    let (key, id) = (created["key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap());
    create_user(&client, &a.server, "eve", "correct horse battery", &[]).await.unwrap();
    let key_path = format!("/auth/keys/{id}");
    let on = async |instance: &instances::Instance| {
        guard_tests::admin(&client, &instance.server, Method::GET, &key_path, None).await.unwrap()
    };
    eventually("B knows the key", async || on(&b).await.0 == 200).await;

    pg_ctl(&ctl, "stop -m fast");
    // Served from memory, on both instances.
    for instance in [&a, &b] {
        for _ in 0..10 {
            assert_eq!(get_with_key(&client, instance, "/secure", &key).await, 200);
        }
    }
    // Writes are refused with 503 and Retry-After, not a 500, and nothing half-done.
    let response = client
        .post(a.url("/auth/keys"))
        .header("x-admin-secret", guard_tests::ADMIN_SECRET)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    let (status, _, _) = login(&client, &b.server, "eve", "correct horse battery").await.unwrap();
    assert_eq!(status, 503, "a login cannot be counted, so it is refused for now");

    // An instance started now: one clear error at once, or, told to retry, a wait.
    let refused = instances::builder(&db, &schema, "guard-c").build().unwrap_err();
    let message = refused.to_string();
    let password = db.url().split(':').nth(2).unwrap().split('@').next().unwrap();
    let expected = "cannot open the guard database postgres://guard@127.0.0.1:";
    assert!(message.starts_with(expected), "{message}");
    assert!(
        !message.contains(password) && !message.contains('\n'),
        "one line, no password: {message}"
    );
    assert!(matches!(refused, GuardError::Store(_)));
    let patient = {
        let config = db.config(&schema).application_name("guard-c");
        let config = config.connect_retries(30, Duration::from_millis(100));
        let builder = instances::builder(&db, &schema, "guard-c").postgres(config);
        tokio::task::spawn_blocking(move || builder.build())
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    pg_ctl(&ctl, "start");
    let c = patient.await.unwrap().expect("it waited for the database, and opened it");
    // Writes work again, through either; each instance catches up with the other's.
    let mut second = None;
    eventually("B writes again", async || {
        let (status, body) = create_key(&client, &b.server, json!({})).await.unwrap();
        if status == 201 {
            second = body["key"].as_str().map(str::to_owned);
        }
        status == 201
    })
    .await;
    let second = second.unwrap();
    eventually("A accepts the key B created once the database was back", async || {
        get_with_key(&client, &a, "/secure", &second).await == 200
    })
    .await;
    let revoke = format!("/auth/keys/{id}/revoke");
    let (status, _) =
        guard_tests::admin(&client, &a.server, Method::POST, &revoke, None).await.unwrap();
    assert_eq!(status, 200);
    eventually("B takes in the revocation A made", async || on(&b).await.1["state"] == "revoked")
        .await;
    a.stop().await;
    b.stop().await;
    c.shutdown();

    // Every use, the twenty made while the database was away included, was written.
    let d = instances::start(&db, &schema, "guard-d", |b| b).await;
    assert_eq!(on(&d).await.1["total_uses"], 20);
    d.stop().await;
}
