//! Login sessions over real HTTP: the cookie and its attributes, a new session at every
//! login, logout ending it server-side, idle and absolute timeouts with an injected clock,
//! same-site `next`, cross-site requests refused, the login page, and a user's sessions in
//! the admin API.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use guard_axum::{Guard, ManualClock};
use guard_tests::{TestServer, admin, client, create_user, login, session_cookie, start_demo};
use reqwest::Method;
use serde_json::Value;

const MINUTE: i64 = 60;

async fn start(tls: bool) -> (tempfile::TempDir, ManualClock, Guard, TestServer, reqwest::Client) {
    let (dir, clock, guard, server) = start_demo(|b| b.served_over_tls(tls)).await;
    (dir, clock, guard, server, client())
}

/// A GET with a cookie; status and body.
async fn get(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    cookie: &str,
) -> (u16, String) {
    let response = client.get(server.url(path)).header("cookie", cookie).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn same_origin(server: &TestServer) -> String {
    format!("http://{}", server.addr())
}

#[tokio::test]
async fn a_session_from_login_to_logout() {
    let (_dir, _clock, _guard, server, client) = start(false).await;
    let (_, ann) =
        create_user(&client, &server, "ann", "correct horse battery", &["admin"]).await.unwrap();

    let response = client
        .post(server.url("/auth/login"))
        .header("origin", same_origin(&server))
        .json(&serde_json::json!({"username": "ann", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        set_cookie.starts_with("guard_session=gs_") && !set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["user"]["name"].as_str(), body["idle_timeout_seconds"].as_i64()),
        (Some("ann"), Some(1800))
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let (status, me) = get(&client, &server, "/auth/me", &cookie).await;
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(
        (status, me["kind"].as_str(), me["id"].as_str()),
        (200, Some("session"), ann["id"].as_str())
    );
    assert_eq!(
        get(&client, &server, "/admin", &cookie).await,
        (200, "hello ann, you are an admin\n".into())
    );

    // The admin API lists the session.
    let id = ann["id"].as_str().unwrap();
    let (_, sessions) =
        admin(&client, &server, Method::GET, &format!("/auth/users/{id}/sessions"), None)
            .await
            .unwrap();
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);

    // A new session at every login; the one the browser held ends.
    let again = client
        .post(server.url("/auth/login"))
        .header("origin", same_origin(&server))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"username": "ann", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let second = session_cookie(again.headers()).unwrap();
    assert_ne!(second, cookie);
    assert_eq!(get(&client, &server, "/auth/me", &cookie).await.0, 401, "the old session ended");
    assert_eq!(get(&client, &server, "/auth/me", &second).await.0, 200);

    // Logout ends it on the server, and clears the cookie.
    let out = client
        .post(server.url("/auth/logout"))
        .header("origin", same_origin(&server))
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(
        get(&client, &server, "/auth/me", &second).await.0,
        401,
        "a replayed cookie is refused"
    );
    let (_, sessions) =
        admin(&client, &server, Method::GET, &format!("/auth/users/{id}/sessions"), None)
            .await
            .unwrap();
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 0);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_user_and_wrong_password_answer_alike() {
    let (_dir, _clock, _guard, server, client) = start(false).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let wrong = login(&client, &server, "ann", "wrong horse battery").await.unwrap();
    let unknown = login(&client, &server, "nobody", "wrong horse battery").await.unwrap();
    let malformed = login(&client, &server, " not a name ", "x").await.unwrap();
    assert_eq!(wrong.0, 401);
    assert_eq!((wrong.0, &wrong.2), (unknown.0, &unknown.2));
    assert_eq!((wrong.0, &wrong.2), (malformed.0, &malformed.2));
    assert!(wrong.1.is_none() && unknown.1.is_none());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_by_the_server() {
    let (_dir, clock, _guard, server, client) = start(false).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();

    // Idle: 30 minutes without a request end it.
    let (_, idle, _) = login(&client, &server, "ann", "correct horse battery").await.unwrap();
    let idle = idle.unwrap();
    clock.advance(29 * MINUTE);
    assert_eq!(get(&client, &server, "/auth/me", &idle).await.0, 200, "used in time");
    clock.advance(29 * MINUTE);
    assert_eq!(get(&client, &server, "/auth/me", &idle).await.0, 200, "the idle clock restarted");
    clock.advance(31 * MINUTE);
    assert_eq!(get(&client, &server, "/auth/me", &idle).await.0, 401, "idle too long");

    // A request refused (cross-site, changing something) is no activity: it does not keep
    // the session alive.
    let (_, refused, _) = login(&client, &server, "ann", "correct horse battery").await.unwrap();
    let refused = refused.unwrap();
    clock.advance(29 * MINUTE);
    let cross_site = client
        .post(server.url("/auth/logout"))
        .header("cookie", &refused)
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    clock.advance(2 * MINUTE);
    assert_eq!(
        get(&client, &server, "/auth/me", &refused).await.0,
        401,
        "31 minutes since its last admitted use"
    );

    // Absolute: 12 hours after login, however used.
    let (_, busy, _) = login(&client, &server, "ann", "correct horse battery").await.unwrap();
    let busy = busy.unwrap();
    for _ in 0..(12 * 60 / 20 - 1) {
        clock.advance(20 * MINUTE);
        assert_eq!(get(&client, &server, "/auth/me", &busy).await.0, 200);
    }
    clock.advance(20 * MINUTE);
    assert_eq!(get(&client, &server, "/auth/me", &busy).await.0, 401, "past twelve hours");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn cross_site_requests_that_change_something_are_refused() {
    let (_dir, _clock, _guard, server, client) = start(false).await;
    create_user(&client, &server, "ann", "correct horse battery", &["admin"]).await.unwrap();
    let (_, cookie, _) = login(&client, &server, "ann", "correct horse battery").await.unwrap();
    let cookie = cookie.unwrap();
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = client
            .post(server.url("/auth/keys"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let own: &'static str = Box::leak(same_origin(&server).into_boxed_str());
    // The demo admits the admin permission to the admin API: a session may create a key...
    assert_eq!(post(Some(own), None).await, 201);
    assert_eq!(post(None, Some("same-origin")).await, 201);
    // ...but not from another site, nor without saying where it comes from.
    assert_eq!(post(Some("http://evil.test"), None).await, 403);
    assert_eq!(post(Some("null"), None).await, 403);
    assert_eq!(post(None, Some("cross-site")).await, 403);
    assert_eq!(post(None, None).await, 403);
    // Reading is safe from anywhere.
    let read = client
        .get(server.url("/auth/me"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    // Logging out and in from another site is refused too.
    let out = client
        .post(server.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 403);
    assert_eq!(get(&client, &server, "/auth/me", &cookie).await.0, 200, "still logged in");
    let forced = client
        .post(server.url("/auth/login"))
        .header("origin", "http://evil.test")
        .json(&serde_json::json!({"username": "ann", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 403);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_login_page_and_a_form_login_with_next() {
    let (_dir, _clock, _guard, server, client) = start(false).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let page = client.get(server.url("/auth/login?next=/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"name="username""#) && html.contains(r#"type="password""#), "{html}");
    assert!(html.contains(r#"value="/dashboard""#));
    let hostile = client
        .get(server.url("/auth/login?next=%22%3E%3Cscript%3E"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!hostile.contains("<script>"), "next is escaped and refused");

    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form_login = |next: &'static str, password: &'static str| {
        let form = [("username", "ann"), ("password", password), ("next", next)];
        no_redirects
            .post(server.url("/auth/login"))
            .header("origin", same_origin(&server))
            .form(&form)
            .send()
    };
    let ok = form_login("/dashboard", "correct horse battery").await.unwrap();
    assert_eq!(
        (ok.status().as_u16(), ok.headers()["location"].to_str().unwrap()),
        (303, "/dashboard")
    );
    let cookie = session_cookie(ok.headers()).unwrap();
    let (status, dashboard) = get(&client, &server, "/dashboard", &cookie).await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("Welcome, ann"), "{dashboard}");
    for elsewhere in ["//evil.test/x", "https://evil.test", "/\\evil.test", "javascript:alert(1)"] {
        let response = form_login(elsewhere, "correct horse battery").await.unwrap();
        assert_eq!(response.headers()["location"], "/", "{elsewhere} is not followed");
    }
    let failed = form_login("/dashboard", "wrong horse").await.unwrap();
    assert_eq!(failed.status(), 401);
    let html = failed.text().await.unwrap();
    assert!(
        html.contains("invalid user name or password") && html.contains(r#"value="/dashboard""#)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn over_tls_the_cookie_is_host_only_and_secure() {
    let (_dir, _clock, _guard, server, client) = start(true).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let response = client
        .post(server.url("/auth/login"))
        .header("origin", format!("https://{}", server.addr()))
        .json(&serde_json::json!({"username": "ann", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with("__Host-guard_session=gs_") && set_cookie.contains("; Secure"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap();
    assert_eq!(get(&client, &server, "/auth/me", cookie).await.0, 200);
    let plain = cookie.replacen("__Host-guard_session", "guard_session", 1);
    assert_eq!(
        get(&client, &server, "/auth/me", &plain).await.0,
        401,
        "the plain name is not read"
    );
    server.stop().await.unwrap();
}
