//! Deploying an application that runs several instances on one PostgreSQL: a rolling deploy
//! that fails no request and loses no count, two versions with different policies serving
//! at once, an admin secret rotated on one instance and taken by all. Skipped, with a
//! message, without a PostgreSQL (`GUARD_TEST_POSTGRES`); CI runs them.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use guard_axum::guard_core::store::MetaStore;
use guard_axum::{Guard, protected};
use guard_tests::instances::{self, Instance, eventually, get_with, get_with_key};
use guard_tests::{ADMIN_SECRET, TestServer, admin, client, create_key, token};
use reqwest::Method;
use serde_json::json;

// The next version of the demo's policy: one role more.
guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
        auditor: [read_audit],
    }
}

#[protected(roles = "auditor")]
async fn audit() -> &'static str {
    "the audit trail\n"
}

/// The next version of the application on `schema`: its own policy and routes.
async fn next_version(db: &guard_postgres::testing::TestDatabase, schema: &str) -> Instance {
    let guard = Guard::builder(&POLICY)
        .database_url(db.url())
        .postgres(db.config(schema).application_name("guard-next"))
        .admin_secret(ADMIN_SECRET)
        .bearer_tokens()
        .build()
        .unwrap();
    let router = Router::new()
        .route("/audit", get(audit))
        .nest("/auth", guard.admin_router().merge(guard.auth_router()))
        .layer(guard.layer());
    let server = TestServer::start(router).await.unwrap();
    Instance { guard, server }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_deploy_fails_no_request_and_loses_no_count() {
    let Some(db) = instances::database("a_rolling_deploy_fails_no_request_and_loses_no_count")
    else {
        return;
    };
    let schema = db.fresh_schema();
    let a = instances::start(&db, &schema, "guard-a", |b| b).await;
    let client = client();
    let (_, created) = create_key(&client, &a.server, json!({})).await.unwrap();
    let (key, id) = (created["key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap());

    // The load balancer: requests go round the instances in rotation; taking one out waits
    // for the requests already sent to it.
    let rotation = Arc::new(tokio::sync::RwLock::new(vec![a.url("/secure")]));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|n| {
            let (rotation, sent, failed, done) =
                (Arc::clone(&rotation), Arc::clone(&sent), Arc::clone(&failed), Arc::clone(&done));
            let (client, key) = (client.clone(), key.clone());
            tokio::spawn(async move {
                let mut turn = n;
                while !done.load(Ordering::Relaxed) {
                    let targets = rotation.read().await;
                    turn += 1;
                    let url = &targets[turn % targets.len()];
                    let response = client.get(url).header("x-api-key", &key).send().await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    if !response.is_ok_and(|r| r.status().as_u16() == 200) {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The new instance starts beside the old, and joins the rotation once it knows the key.
    let b = instances::start(&db, &schema, "guard-b", |b| b).await;
    let key_path = format!("/auth/keys/{id}");
    eventually("B knows the key", async || {
        admin(&client, &b.server, Method::GET, &key_path, None).await.unwrap().0 == 200
    })
    .await;
    rotation.write().await.push(b.url("/secure"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The old one leaves the rotation, finishes what it accepted, writes its usage, stops.
    rotation.write().await.remove(0);
    a.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    done.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "of {sent} requests");
    assert!(sent > 100, "a steady load: {sent} requests");
    b.stop().await;

    // Every request was counted, by whichever instance served it.
    let c = instances::start(&db, &schema, "guard-c", |b| b).await;
    let (_, counted) = admin(&client, &c.server, Method::GET, &key_path, None).await.unwrap();
    assert_eq!(counted["total_uses"], sent);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_versions_with_different_policies_serve_at_once() {
    let Some(db) = instances::database("two_versions_with_different_policies_serve_at_once") else {
        return;
    };
    let schema = db.fresh_schema();
    let old = instances::start(&db, &schema, "guard-old", |b| b).await;
    let next = next_version(&db, &schema).await;
    let client = client();

    // The role the next version declares: assigned through it, refused by the old one.
    let (status, _) = guard_tests::create_user(
        &client,
        &next.server,
        "aud",
        "correct horse battery",
        &["auditor"],
    )
    .await
    .unwrap();
    assert_eq!(status, 201);
    let (status, body) = guard_tests::create_user(
        &client,
        &old.server,
        "aud2",
        "correct horse battery",
        &["auditor"],
    )
    .await
    .unwrap();
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_request")));

    // The user works on both; the role grants something only where it is declared.
    let mut bearer = String::new();
    eventually("the old version lets the auditor log in", async || {
        let (status, issued) =
            token(&client, &old.server, "aud", "correct horse battery").await.unwrap();
        if status == 200 {
            bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
        }
        status == 200
    })
    .await;
    let as_auditor = ("authorization", bearer.as_str());
    let me = client.get(old.url("/auth/me")).header(as_auditor.0, as_auditor.1).send();
    let me: serde_json::Value = me.await.unwrap().json().await.unwrap();
    assert_eq!(me["roles"], json!([]), "a role the old version does not declare grants nothing");
    assert_eq!(get_with(&client, &old, "/admin", as_auditor).await, 403);
    eventually("the next version accepts the token", async || {
        get_with(&client, &next, "/audit", as_auditor).await == 200
    })
    .await;

    // A key holding the new role: any valid key passes `#[api_key]` on the old version.
    let (_, created) =
        create_key(&client, &next.server, json!({"roles": ["auditor"]})).await.unwrap();
    let key = created["key"].as_str().unwrap();
    eventually("the old version knows the key", async || {
        get_with_key(&client, &old, "/secure", key).await == 200
    })
    .await;
    assert_eq!(get_with_key(&client, &old, "/reports", key).await, 403);

    // The policy in the store is the one started last: the next version's.
    let store = db.store(&schema).await;
    let stored = store.meta("policy".into()).await.unwrap().unwrap();
    assert!(String::from_utf8(stored).unwrap().contains("auditor"));
    old.stop().await;
    next.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_secret_rotated_on_one_instance_is_the_one_all_take() {
    let Some(db) =
        instances::database("an_admin_secret_rotated_on_one_instance_is_the_one_all_take")
    else {
        return;
    };
    let schema = db.fresh_schema();
    // No secret configured: the first instance generates one; the second finds its hash.
    let generated = Arc::new(Mutex::new(String::new()));
    let shown = Arc::clone(&generated);
    let first = instances::unsecured_builder(&db, &schema, "guard-a")
        .on_generated_admin_secret(move |secret| *shown.lock().unwrap() = secret.to_owned());
    let a = instances::serve(first).await;
    let b = instances::serve(instances::unsecured_builder(&db, &schema, "guard-b")).await;
    let secret = generated.lock().unwrap().clone();
    let client = client();
    let with = async |instance: &Instance, secret: &str| {
        get_with(&client, instance, "/auth/keys", ("x-admin-secret", secret)).await
    };
    assert_eq!((with(&a, &secret).await, with(&b, &secret).await), (200, 200));

    let rotated = client
        .post(b.url("/auth/admin-secret/rotate"))
        .header("x-admin-secret", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status().as_u16(), 200);
    let body: serde_json::Value = rotated.json().await.unwrap();
    let new = body["admin_secret"].as_str().unwrap().to_owned();
    eventually("A takes the secret B rotated, and refuses the old one", async || {
        with(&a, &new).await == 200 && with(&a, &secret).await == 401
    })
    .await;
    a.stop().await;
    b.stop().await;
}
