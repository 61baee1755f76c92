//! Inheritance through the stack, and a handler without its guard or under another policy.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use axum::Router;
use axum::routing::get;
use guard_axum::{Guard, NewKey, api_key, protected};
use guard_tests::{TestServer, client};
use serde_json::Value;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[protected(roles = "viewer")]
async fn viewers() -> &'static str {
    "viewer area"
}

#[protected(roles = ["editor", "admin"])]
async fn editors() -> &'static str {
    "editor area"
}

#[api_key]
async fn keyed() -> &'static str {
    "keyed"
}

fn routes() -> Router {
    Router::new()
        .route("/viewers", get(viewers))
        .route("/editors", get(editors))
        .route("/keyed", get(keyed))
}

fn key(guard: &Guard, roles: &[&str]) -> String {
    let roles = roles.iter().map(|r| r.to_string()).collect();
    guard.create_key(NewKey { roles, ..NewKey::default() }).unwrap().key.expose().to_owned()
}

async fn status(client: &reqwest::Client, url: String, key: &str) -> u16 {
    client.get(url).header("x-api-key", key).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn inherited_roles_pass_and_any_of_lists_work() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY).database(dir.path().join("g.redb")).build().unwrap();
    let (admin, editor, viewer, none) = (
        key(&guard, &["admin"]),
        key(&guard, &["editor"]),
        key(&guard, &["viewer"]),
        key(&guard, &[]),
    );
    let server = TestServer::start(routes().layer(guard.layer())).await.unwrap();
    let client = client();
    let expect = [
        ("/viewers", &admin, 200),
        ("/viewers", &editor, 200),
        ("/viewers", &viewer, 200),
        ("/viewers", &none, 403),
        ("/editors", &admin, 200),
        ("/editors", &editor, 200),
        ("/editors", &viewer, 403),
    ];
    for (path, key, code) in expect {
        assert_eq!(status(&client, server.url(path), key).await, code, "{path}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_guarded_handler_without_its_guard_answers_500_and_never_runs() {
    let server = TestServer::start(routes()).await.unwrap();
    let response = client().get(server.url("/keyed")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "internal");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_guard_built_from_another_policy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&other::POLICY).database(dir.path().join("g.redb")).build().unwrap();
    let admin = key(&guard, &["admin"]);
    let server = TestServer::start(routes().layer(guard.layer())).await.unwrap();
    let client = client();
    // Role indices differ between the policies: the handler refuses rather than guess.
    assert_eq!(status(&client, server.url("/viewers"), &admin).await, 500);
    // A handler that names no role does not depend on the policy.
    assert_eq!(status(&client, server.url("/keyed"), &admin).await, 200);
    server.stop().await.unwrap();
}

mod other {
    guard_axum::policy! {
        roles {
            admin: [manage_keys],
            viewer: [view_reports],
        }
    }
}

#[tokio::test]
async fn roles_the_policy_no_longer_declares_are_kept_but_grant_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let guard = Guard::builder(&POLICY).database(&db).build().unwrap();
    let created = guard
        .create_key(NewKey { roles: vec!["editor".into(), "viewer".into()], ..NewKey::default() })
        .unwrap();
    let (id, plaintext) = (created.info.id.clone(), created.key.expose().to_owned());
    guard.shutdown();
    drop(guard);

    // `other::POLICY` declares viewer but not editor.
    let guard = Guard::builder(&other::POLICY).database(&db).build().unwrap();
    let principal = guard.keys().authenticate(plaintext.as_bytes()).unwrap();
    assert_eq!(principal.role_names(), ["viewer"], "editor grants nothing");
    assert_eq!(guard.keys().get(&id).unwrap().roles, ["editor", "viewer"], "and is not dropped");
}
