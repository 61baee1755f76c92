//! `POST /auth/register` over real HTTP: off by default; when on, a person creates an account
//! with the roles the application gives newcomers and logs in with it; bad input, taken names
//! and other sites change nothing; attempts are throttled per address.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::net::IpAddr;

use guard_axum::{Guard, GuardError};
use guard_tests::{TestServer, client, client_from, create_user, login, start_demo};
use serde_json::{Value, json};

/// `POST /auth/register` as JSON from this site: status and body.
async fn register(client: &reqwest::Client, server: &TestServer, body: &Value) -> (u16, Value) {
    let response = client
        .post(server.url("/auth/register"))
        .header("origin", format!("http://{}", server.addr()))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn registration_is_off_by_default() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b).await;
    let body = json!({"username": "ann", "password": "correct horse battery"});
    assert_eq!(register(&client(), &server, &body).await.0, 404);
    assert_eq!(login(&client(), &server, "ann", "correct horse battery").await.unwrap().0, 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_person_registers_with_the_newcomers_roles_and_logs_in() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b.registration(["viewer"])).await;
    let client = client();
    let body = json!({"username": "Ann", "password": "correct horse battery"});
    let (status, user) = register(&client, &server, &body).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!((user["name"].as_str(), user["roles"].clone()), (Some("Ann"), json!(["viewer"])));
    assert!(user.get("password").is_none() && !user.to_string().contains("argon2"));

    let (status, cookie, _) =
        login(&client, &server, "ann", "correct horse battery").await.unwrap();
    assert_eq!(status, 200);
    let me =
        client.get(server.url("/auth/me")).header("cookie", cookie.unwrap()).send().await.unwrap();
    let me: Value = me.json().await.unwrap();
    assert_eq!((me["kind"].as_str(), me["name"].as_str()), (Some("session"), Some("Ann")));

    // As a form, too.
    let form = [("username", "bob"), ("password", "another good password")];
    let response = client
        .post(server.url("/auth/register"))
        .header("origin", format!("http://{}", server.addr()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_registrations_change_nothing() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b.registration(Vec::<String>::new())).await;
    let client = client();
    let taken = json!({"username": "ANN", "password": "a different password"});
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    assert_eq!(register(&client, &server, &taken).await.0, 409, "names are case-insensitive");

    let short = json!({"username": "carl", "password": "short"});
    assert_eq!(register(&client, &server, &short).await.0, 422);
    let long = json!({"username": "carl", "password": "x".repeat(1025)});
    assert_eq!(register(&client, &server, &long).await.0, 422);
    let huge = json!({"username": "carl", "password": "x".repeat(1_000_000)});
    assert_eq!(register(&client, &server, &huge).await.0, 413);
    let roles = json!({"username": "carl", "password": "long enough pw", "roles": ["admin"]});
    assert_eq!(register(&client, &server, &roles).await.0, 422, "no asking for roles");
    let malformed = client
        .post(server.url("/auth/register"))
        .header("origin", format!("http://{}", server.addr()))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert!(malformed.status().is_client_error(), "{}", malformed.status());
    let elsewhere = client
        .post(server.url("/auth/register"))
        .header("origin", "http://attacker.example")
        .json(&json!({"username": "carl", "password": "long enough pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 403);

    assert_eq!(login(&client, &server, "carl", "long enough pw").await.unwrap().0, 401);
    assert_eq!(login(&client, &server, "ann", "a different password").await.unwrap().0, 401);
    assert_eq!(login(&client, &server, "ann", "correct horse battery").await.unwrap().0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn registration_attempts_are_throttled_per_address() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b.registration(["viewer"])).await;
    let prober = client_from(IpAddr::from([127, 0, 0, 21]));
    create_user(&prober, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let taken = json!({"username": "ann", "password": "some password"});
    // Five free attempts; the sixth waits.
    for _ in 0..5 {
        assert_eq!(register(&prober, &server, &taken).await.0, 409);
    }
    let (status, body) = register(&prober, &server, &taken).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "{body}");

    // Another address is not slowed, and the user's own logins are not either.
    let other = client_from(IpAddr::from([127, 0, 0, 22]));
    assert_eq!(register(&other, &server, &taken).await.0, 409);
    assert_eq!(login(&prober, &server, "ann", "correct horse battery").await.unwrap().0, 200);
    server.stop().await.unwrap();
}

#[test]
fn an_undeclared_role_for_newcomers_is_refused_when_the_guard_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let built = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .admin_secret("test-admin-secret-0123456789")
        .registration(["viewr"])
        .build();
    let Err(GuardError::UnknownRole(unknown)) = built else { panic!("built") };
    assert_eq!(unknown.names, ["viewr"]);
    assert!(unknown.to_string().contains("did you mean `viewer`?"), "{unknown}");
}
