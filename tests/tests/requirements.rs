//! Every requirement form over real HTTP: allowed, 401 and 403. Also the error hook and the
//! test mode.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use axum::Router;
use axum::http::request::Parts;
use axum::routing::get;
use guard_axum::{ErrorContext, Guard, NewKey, Principal, api_key, protected};
use guard_tests::{TestServer, client};
use serde_json::Value;

guard_axum::policy! {
    permissions { view_reports, edit_reports, manage_keys }
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
        auditor: [view_reports],
    }
}

fn is_owner(who: &Principal, parts: &Parts) -> bool {
    parts.uri.path().rsplit('/').next() == Some(who.name())
}

async fn is_night_shift(who: &Principal, _: &Parts) -> bool {
    tokio::task::yield_now().await; // a real await
    who.name().starts_with("night-")
}

#[protected(roles = "viewer")]
async fn role() {}

#[protected(roles = ["editor", "auditor"])]
async fn any_role() {}

#[protected(permissions = "edit_reports")]
async fn permission() {}

#[protected(permissions = ["view_reports", "manage_keys"])]
async fn all_permissions() {}

#[protected(check = is_owner)]
async fn sync_check() {}

#[protected(check = is_night_shift)]
async fn async_check() {}

#[protected(any(roles = "admin", all(permissions = "edit_reports", check = is_owner)))]
async fn combined() {}

#[protected(roles = "viewer", check = is_night_shift)]
async fn both() {}

#[api_key(roles = "editor")]
async fn editor_key() {}

fn routes() -> Router {
    Router::new()
        .route("/role", get(role))
        .route("/any-role", get(any_role))
        .route("/permission", get(permission))
        .route("/all-permissions", get(all_permissions))
        .route("/sync-check/{owner}", get(sync_check))
        .route("/async-check", get(async_check))
        .route("/combined/{owner}", get(combined))
        .route("/both", get(both))
        .route("/editor-key", get(editor_key))
}

fn key(guard: &Guard, name: &str, roles: &[&str]) -> String {
    let new = NewKey {
        name: Some(name.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..NewKey::default()
    };
    guard.create_key(new).unwrap().key.expose().to_owned()
}

#[tokio::test]
async fn each_requirement_form_allows_refuses_and_challenges() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY).database(dir.path().join("g.redb")).build().unwrap();
    let admin = key(&guard, "root", &["admin"]);
    let editor = key(&guard, "ed", &["editor"]);
    let viewer = key(&guard, "vi", &["viewer"]);
    let auditor = key(&guard, "au", &["auditor"]);
    let night = key(&guard, "night-owl", &["viewer"]);
    let server = TestServer::start(routes().layer(guard.layer())).await.unwrap();
    let client = client();

    let cases: &[(&str, &str, u16)] = &[
        ("/role", &viewer, 200),
        ("/role", &admin, 200), // inherits viewer
        ("/role", &auditor, 403),
        ("/any-role", &editor, 200),
        ("/any-role", &auditor, 200),
        ("/any-role", &viewer, 403),
        ("/permission", &editor, 200),
        ("/permission", &admin, 200), // through inheritance
        ("/permission", &viewer, 403),
        ("/all-permissions", &admin, 200),
        ("/all-permissions", &editor, 403),
        ("/sync-check/ed", &editor, 200),
        ("/sync-check/ed", &viewer, 403),
        ("/async-check", &night, 200),
        ("/async-check", &viewer, 403),
        ("/combined/somebody", &admin, 200),  // any: the role
        ("/combined/ed", &editor, 200),       // any: all(permission, owner)
        ("/combined/somebody", &editor, 403), // editor, not the owner
        ("/combined/vi", &viewer, 403),       // the owner, without the permission
        ("/both", &night, 200),
        ("/both", &viewer, 403),
        ("/editor-key", &editor, 200),
        ("/editor-key", &viewer, 403),
    ];
    for &(path, key, expected) in cases {
        let response = client.get(server.url(path)).header("x-api-key", key).send().await.unwrap();
        assert_eq!(response.status(), expected, "{path}");
    }
    // Without credentials every form is a 401 with a challenge, and no check runs.
    for path in [
        "/role",
        "/any-role",
        "/permission",
        "/all-permissions",
        "/sync-check/x",
        "/async-check",
        "/combined/x",
        "/both",
        "/editor-key",
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers().contains_key("www-authenticate"), "{path}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_error_hook_replaces_bodies_and_keeps_status_and_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY)
        .database(dir.path().join("g.redb"))
        .admin_secret("hook-test-admin-secret")
        .error_response(|error: &ErrorContext<'_>| {
            (
                [("content-type", "text/plain")],
                format!("nope: {} ({})", error.code, error.status.as_u16()),
            )
        })
        .build()
        .unwrap();
    let viewer = key(&guard, "vi", &["viewer"]);
    let app = routes().nest("/auth", guard.admin_router()).layer(guard.layer());
    let server = TestServer::start(app).await.unwrap();
    let client = client();

    let missing = client.get(server.url("/permission")).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"].to_str().unwrap().contains("ApiKey"));
    assert_eq!(missing.text().await.unwrap(), "nope: unauthenticated (401)");
    let forbidden =
        client.get(server.url("/permission")).header("x-api-key", &viewer).send().await.unwrap();
    assert_eq!(forbidden.status(), 403);
    assert_eq!(forbidden.headers()["content-type"], "text/plain");
    assert_eq!(forbidden.text().await.unwrap(), "nope: forbidden (403)");
    let admin = client.get(server.url("/auth/keys")).send().await.unwrap();
    assert_eq!(admin.status(), 401);
    assert!(admin.headers().contains_key("www-authenticate"));
    assert_eq!(admin.text().await.unwrap(), "nope: unauthenticated (401)");
    // Other admin errors keep the JSON contract.
    let unknown = client
        .get(server.url("/auth/keys/nope"))
        .header("x-admin-secret", "hook-test-admin-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn test_mode_runs_guarded_handlers_as_a_chosen_principal() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&POLICY).database(dir.path().join("g.redb")).build().unwrap();
    let client = client();

    let as_ed = guard.test_layer(guard.test_principal("ed", &["editor"]));
    let server = TestServer::start(routes().layer(as_ed)).await.unwrap();
    for (path, expected) in [
        ("/permission", 200),
        ("/combined/ed", 200),
        ("/all-permissions", 403),
        ("/sync-check/ed", 200),
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), expected, "{path}: no credentials were sent");
    }
    // An API key requirement still wants a key: a test user is not one.
    assert_eq!(client.get(server.url("/editor-key")).send().await.unwrap().status(), 401);
    server.stop().await.unwrap();

    // Without the test layer, the same requests are refused.
    let server = TestServer::start(routes().layer(guard.layer())).await.unwrap();
    assert_eq!(client.get(server.url("/permission")).send().await.unwrap().status(), 401);
    server.stop().await.unwrap();
}
