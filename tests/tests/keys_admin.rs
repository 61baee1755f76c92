//! The admin API over real HTTP: every route and status, expiry with an injected clock,
//! revocation and renewal, usage records, and bad input that changes nothing.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;
use std::sync::Arc;

use guard_axum::{Guard, ManualClock};
use guard_tests::{ADMIN_SECRET, NOW, TestServer, client, create_key};
use reqwest::{Client, Method};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

fn guard(db: &Path, clock: &ManualClock) -> Guard {
    Guard::builder(&demo::POLICY)
        .database(db)
        .admin_secret(ADMIN_SECRET)
        .admin_permission("manage_keys")
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

/// A demo server on a fresh file with a manual clock; keep the directory alive.
async fn start() -> (tempfile::TempDir, ManualClock, Guard, TestServer, Client) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let guard = guard(&dir.path().join("g.redb"), &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    (dir, clock, guard, server, client())
}

/// An admin request with the secret; returns status and JSON body (Null when empty).
async fn admin(
    client: &Client,
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request =
        client.request(method, server.url(path)).header("x-admin-secret", ADMIN_SECRET);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn use_key(client: &Client, server: &TestServer, path: &str, key: &str) -> (u16, String) {
    let response = client.get(server.url(path)).header("x-api-key", key).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_key_lifecycle_over_http() {
    let (_dir, clock, _guard, server, client) = start().await;
    let (_, rejected_body) = use_key(&client, &server, "/secure", "gk_garbage").await;

    // Create: default expiry is now + 15 days; never_expires, expires_at and ttl_days work.
    let (status, a) =
        create_key(&client, &server, json!({"name": "a", "roles": ["viewer"]})).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(a["expires_at"], "2026-12-07T13:09:00Z");
    assert_eq!(a["created_at"], "2026-11-22T13:09:00Z");
    assert_eq!(
        (a["state"].as_str(), a["active"].as_bool(), a["total_uses"].as_u64()),
        (Some("active"), Some(true), Some(0))
    );
    let (_, never) = create_key(&client, &server, json!({"name": "never", "never_expires": true}))
        .await
        .unwrap();
    assert_eq!(
        (never["never_expires"].as_bool(), &never["expires_at"]),
        (Some(true), &Value::Null)
    );
    let (status, at) =
        create_key(&client, &server, json!({"expires_at": "2027-01-01T00:00:00+01:00"}))
            .await
            .unwrap();
    assert_eq!((status, at["expires_at"].as_str()), (201, Some("2026-12-31T23:00:00Z")));
    let (_, ttl) = create_key(&client, &server, json!({"ttl_days": 2})).await.unwrap();
    assert_eq!(ttl["expires_at"], "2026-11-24T13:09:00Z");
    let id = a["id"].as_str().unwrap().to_owned();
    let key = a["key"].as_str().unwrap().to_owned();

    // Get and list never show the key.
    let (status, got) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    assert_eq!((status, got["name"].as_str()), (200, Some("a")));
    assert!(got.get("key").is_none());
    let (_, list) = admin(&client, &server, Method::GET, "/auth/keys", None).await;
    assert_eq!(list["total"], 4);
    assert!(!list.to_string().contains(&key));

    // Use, then revoke: the next request is rejected like any invalid key.
    assert_eq!(use_key(&client, &server, "/secure", &key).await.0, 200);
    assert_eq!(use_key(&client, &server, "/admin", &key).await.0, 403);
    let (status, revoked) =
        admin(&client, &server, Method::POST, &format!("/auth/keys/{id}/revoke"), None).await;
    assert_eq!(
        (status, revoked["state"].as_str(), revoked["active"].as_bool()),
        (200, Some("revoked"), Some(false))
    );
    assert_eq!(use_key(&client, &server, "/secure", &key).await, (401, rejected_body.clone()));

    // Renew a revoked key: reactivated, and says so.
    let (status, renewed) =
        admin(&client, &server, Method::POST, &format!("/auth/keys/{id}/renew"), None).await;
    assert_eq!(
        (status, renewed["reactivated"].as_bool(), renewed["state"].as_str()),
        (200, Some(true), Some("active"))
    );
    assert_eq!(renewed["expires_at"], "2026-12-07T13:09:00Z");
    assert_eq!(use_key(&client, &server, "/secure", &key).await.0, 200);
    let (_, again) = admin(
        &client,
        &server,
        Method::POST,
        &format!("/auth/keys/{id}/renew"),
        Some(json!({"ttl_days": 30})),
    )
    .await;
    assert_eq!(
        (again["reactivated"].as_bool(), again["expires_at"].as_str()),
        (Some(false), Some("2026-12-22T13:09:00Z"))
    );

    // Expiry, with the injected clock: rejected, state expired, renew reactivates.
    clock.advance(31 * DAY);
    assert_eq!(use_key(&client, &server, "/secure", &key).await, (401, rejected_body.clone()));
    let (_, expired) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    assert_eq!(expired["state"], "expired");
    let (status, renewed) = admin(
        &client,
        &server,
        Method::POST,
        &format!("/auth/keys/{id}/renew"),
        Some(json!({"expires_at": "2030-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!((status, renewed["reactivated"].as_bool()), (200, Some(true)));
    assert_eq!(use_key(&client, &server, "/secure", &key).await.0, 200);
    let (_, never_key) = (0, never["key"].as_str().unwrap());
    assert_eq!(use_key(&client, &server, "/secure", never_key).await.0, 200, "never-expiring key");

    // Usage: every attempt with the key, newest first, with outcome, method and route.
    let (status, usage) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}/usage"), None).await;
    assert_eq!(status, 200);
    let outcomes: Vec<&str> = usage["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "expired", "ok", "revoked", "forbidden", "ok"]);
    assert_eq!(usage["total_uses"], 6);
    assert_eq!(usage["recent"][0]["route"], "/secure");
    assert_eq!(usage["recent"][0]["method"], "GET");
    assert_eq!(usage["recent"][4]["route"], "/admin");
    assert!(!usage.to_string().contains(&key));
    let (_, one) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}/usage?limit=1"), None).await;
    assert_eq!(one["recent"].as_array().unwrap().len(), 1);

    // Delete: 204, then the id is gone everywhere.
    let path = format!("/auth/keys/{id}");
    assert_eq!(admin(&client, &server, Method::DELETE, &path, None).await.0, 204);
    assert_eq!(admin(&client, &server, Method::DELETE, &path, None).await.0, 404);
    assert_eq!(admin(&client, &server, Method::GET, &path, None).await.0, 404);
    assert_eq!(admin(&client, &server, Method::GET, &format!("{path}/usage"), None).await.0, 404);
    assert_eq!(use_key(&client, &server, "/secure", &key).await, (401, rejected_body));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn list_is_most_recently_used_first_and_paginated() {
    let (_dir, clock, _guard, server, client) = start().await;
    let mut keys = Vec::new();
    for name in ["k0", "k1", "k2", "k3"] {
        let (_, key) = create_key(&client, &server, json!({"name": name})).await.unwrap();
        keys.push(key["key"].as_str().unwrap().to_owned());
        clock.advance(10);
    }
    use_key(&client, &server, "/secure", &keys[1]).await;
    clock.advance(10);
    use_key(&client, &server, "/secure", &keys[2]).await;

    let names = |list: &Value| -> Vec<String> {
        list["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = admin(&client, &server, Method::GET, "/auth/keys", None).await;
    assert_eq!(
        names(&all),
        ["k2", "k1", "k3", "k0"],
        "used, newest use first; then unused, newest first"
    );
    let (_, page) = admin(&client, &server, Method::GET, "/auth/keys?limit=3", None).await;
    assert_eq!((names(&page).len(), page["next_offset"].as_u64()), (3, Some(3)));
    let (_, last) = admin(&client, &server, Method::GET, "/auth/keys?limit=3&offset=3", None).await;
    assert_eq!((names(&last), &last["next_offset"]), (vec!["k0".to_owned()], &Value::Null));
    let (status, beyond) =
        admin(&client, &server, Method::GET, "/auth/keys?offset=100", None).await;
    assert_eq!(
        (status, beyond["keys"].as_array().unwrap().len(), beyond["total"].as_u64()),
        (200, 0, Some(4))
    );
    for bad in ["limit=0", "limit=100000", "limit=-1", "limit=ten", "offset=-5", "sort=name"] {
        let (status, body) =
            admin(&client, &server, Method::GET, &format!("/auth/keys?{bad}"), None).await;
        assert_eq!((status, body["error"].as_str()), (422, Some("invalid_request")), "{bad}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let (_dir, _clock, _guard, server, client) = start().await;
    let (_, existing) = create_key(&client, &server, json!({"name": "existing"})).await.unwrap();
    let id = existing["id"].as_str().unwrap();
    let (_, before) = admin(&client, &server, Method::GET, "/auth/keys", None).await;

    let post = |body: &'static str, content_type: &'static str| {
        client
            .post(server.url("/auth/keys"))
            .header("x-admin-secret", ADMIN_SECRET)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, &str, u16); 10] = [
        ("{not json", "application/json", 400),
        (r#"{"name": "x""#, "application/json", 400),
        (r#"{"name": 42}"#, "application/json", 422),
        (r#"{"roles": "admin"}"#, "application/json", 422),
        (r#"{"ttl_days": -3}"#, "application/json", 422),
        (r#"{"ttl_days": 0}"#, "application/json", 422),
        (r#"{"expires_at": "next tuesday"}"#, "application/json", 422),
        (r#"{"expires_at": "2020-01-01T00:00:00Z"}"#, "application/json", 422),
        (r#"{"surprise": true}"#, "application/json", 422),
        (r#"{"name": "x"}"#, "text/plain", 415),
    ];
    for (body, content_type, expected) in cases {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), expected, "{body}");
        let json: Value = response.json().await.unwrap();
        assert!(json["error"].is_string() && json["detail"].is_string(), "{json}");
    }
    let response = client
        .post(server.url("/auth/keys"))
        .header("x-admin-secret", ADMIN_SECRET)
        .header("content-type", "application/json")
        .body(format!(r#"{{"name": "{}"}}"#, "x".repeat(200 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
    let (status, body) =
        create_key(&client, &server, json!({"never_expires": true, "ttl_days": 3})).await.unwrap();
    assert_eq!(status, 422, "{body}");

    // Renew: bad dates are 422; an id that does not exist, whatever its shape, is 404.
    let renew = format!("/auth/keys/{id}/renew");
    assert_eq!(
        admin(&client, &server, Method::POST, &renew, Some(json!({"expires_at": "soon"}))).await.0,
        422
    );
    assert_eq!(
        admin(
            &client,
            &server,
            Method::POST,
            &renew,
            Some(json!({"expires_at": "2001-01-01T00:00:00Z"}))
        )
        .await
        .0,
        422
    );
    assert_eq!(admin(&client, &server, Method::POST, &renew, Some(json!({"ttl": 3}))).await.0, 422);
    let long = "z".repeat(5000);
    for bad_id in
        ["AAAAAAAAAAAA", "nope", "%FF%FE", "..%2F..%2Fetc", long.as_str(), "gk_AAAAAAAAAAAA"]
    {
        for (method, suffix) in [
            (Method::GET, ""),
            (Method::DELETE, ""),
            (Method::POST, "/revoke"),
            (Method::POST, "/renew"),
            (Method::GET, "/usage"),
        ] {
            let (status, body) = admin(
                &client,
                &server,
                method.clone(),
                &format!("/auth/keys/{bad_id}{suffix}"),
                None,
            )
            .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (404, Some("not_found")),
                "{method} {bad_id}{suffix}"
            );
        }
    }

    // Nothing changed.
    let (_, after) = admin(&client, &server, Method::GET, "/auth/keys", None).await;
    assert_eq!(before, after);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn admin_access_by_secret_or_by_permission_never_falls_through() {
    let (dir, _clock, _guard, server, client) = start().await;
    let (_, admin_key) = create_key(&client, &server, json!({"roles": ["admin"]})).await.unwrap();
    let (_, viewer_key) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
    let (admin_key, viewer_key) =
        (admin_key["key"].as_str().unwrap(), viewer_key["key"].as_str().unwrap());
    let list = |key: Option<&'static str>, secret: Option<&'static str>| {
        let mut request = client.get(server.url("/auth/keys"));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(secret) = secret {
            request = request.header("x-admin-secret", secret);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let admin_key: &'static str = Box::leak(admin_key.to_owned().into_boxed_str());
    let viewer_key: &'static str = Box::leak(viewer_key.to_owned().into_boxed_str());
    assert_eq!(list(None, None).await, 401);
    assert_eq!(list(None, Some(ADMIN_SECRET)).await, 200);
    assert_eq!(list(None, Some("wrong-secret-wrong-secret")).await, 401);
    assert_eq!(list(Some(admin_key), None).await, 200, "manage_keys admits");
    assert_eq!(list(Some(viewer_key), None).await, 403);
    assert_eq!(
        list(Some(admin_key), Some("wrong-secret-wrong-secret")).await,
        401,
        "a wrong secret never falls through"
    );
    assert_eq!(list(Some("gk_broken"), None).await, 401);
    // A key with the admin permission manages keys, but cannot take over the admin secret.
    let rotate =
        client.post(server.url("/auth/admin-secret/rotate")).header("x-api-key", admin_key);
    assert_eq!(rotate.send().await.unwrap().status(), 403);
    server.stop().await.unwrap();

    // Secrets that cannot protect anything, or could never be presented, are refused at build.
    for (weak, why) in [
        ("hunter2", "shorter than 16"),
        ("aaaaaaaaaaaaaaaa", "too few characters"),
        ("abababababababababab", "too few characters"),
        (" correct horse battery staple", "spaces at either end"),
        ("correct horse battery staple\t", "spaces at either end"),
        ("correct horse battery stäple", "visible ASCII"),
    ] {
        let built = Guard::builder(&demo::POLICY)
            .database(dir.path().join("weak.redb"))
            .admin_secret(weak)
            .build();
        match built {
            Err(error @ guard_axum::GuardError::WeakAdminSecret(_)) => {
                assert!(error.to_string().contains(why), "{weak:?}: {error}");
                assert!(!error.to_string().contains(weak.trim()), "the secret is not shown");
            }
            other => panic!("{weak:?} was not refused: {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn concurrent_requests_are_counted_exactly_and_flushed_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let clock = ManualClock::new(NOW);
    let guard = guard(&db, &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let (_, created) = create_key(&client, &server, json!({"name": "busy"})).await.unwrap();
    let (id, key) =
        (created["id"].as_str().unwrap().to_owned(), created["key"].as_str().unwrap().to_owned());

    const N: usize = 300;
    let requests = (0..N).map(|_| {
        let (client, url, key) = (client.clone(), server.url("/secure"), key.clone());
        tokio::spawn(async move {
            client.get(url).header("x-api-key", key).send().await.unwrap().status()
        })
    });
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    // Exact at once, before any flush: the counters, the last 100 requests (the default kept),
    // and rollups that add up to every request.
    let (_, info) = admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    assert_eq!(info["total_uses"], N);
    assert_eq!(info["last_used_at"], "2026-11-22T13:09:00Z");
    let usage_path = format!("/auth/keys/{id}/usage?limit=1000&granularity=minute");
    let (_, usage) = admin(&client, &server, Method::GET, &usage_path, None).await;
    assert_eq!(usage["recent"].as_array().unwrap().len(), 100);
    let counted = |usage: &Value| -> u64 {
        usage["rollups"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum()
    };
    assert_eq!(counted(&usage), N as u64);

    // Graceful shutdown flushes; a restart reads the same counts and records.
    server.stop().await.unwrap();
    guard.shutdown();
    drop(guard);
    let guard = self::guard(&db, &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let (_, info) = admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    assert_eq!(info["total_uses"], N);
    let (_, usage) = admin(&client, &server, Method::GET, &usage_path, None).await;
    assert_eq!(usage["recent"].as_array().unwrap().len(), 100);
    assert_eq!(counted(&usage), N as u64);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_revokes_and_renewals_end_in_one_consistent_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let clock = ManualClock::new(NOW);
    let guard = guard(&db, &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let (_, created) = create_key(&client, &server, json!({})).await.unwrap();
    let (id, key) =
        (created["id"].as_str().unwrap().to_owned(), created["key"].as_str().unwrap().to_owned());

    let writes = (0..40).map(|i| {
        let action = if i % 2 == 0 { "revoke" } else { "renew" };
        let url = server.url(&format!("/auth/keys/{id}/{action}"));
        let client = client.clone();
        tokio::spawn(async move {
            client.post(url).header("x-admin-secret", ADMIN_SECRET).send().await.unwrap().status()
        })
    });
    for write in writes {
        assert_eq!(write.await.unwrap(), 200);
    }
    let (_, state) = admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    let active = state["active"].as_bool().unwrap();
    assert_eq!(use_key(&client, &server, "/secure", &key).await.0, if active { 200 } else { 401 });

    server.stop().await.unwrap();
    drop(guard);
    let guard = self::guard(&db, &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let (_, reloaded) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await;
    assert_eq!(reloaded["state"], state["state"], "the store and the index agree");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_generated_admin_secret_is_shown_once_kept_and_rotatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let shown = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let build = |shown: &Arc<std::sync::Mutex<Vec<String>>>| {
        let shown = Arc::clone(shown);
        Guard::builder(&demo::POLICY)
            .database(&db)
            .on_generated_admin_secret(move |s| shown.lock().unwrap().push(s.to_owned()))
            .build()
            .unwrap()
    };
    let guard = build(&shown);
    let secret = shown.lock().unwrap()[0].clone();
    assert!(secret.len() >= 32);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let status = |secret: String| {
        let request = client.get(server.url("/auth/keys")).header("x-admin-secret", secret);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(secret.clone()).await, 200);
    server.stop().await.unwrap();
    drop(guard);

    // Restart: the same secret works and nothing new is shown.
    let guard = build(&shown);
    assert_eq!(shown.lock().unwrap().len(), 1);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let status = |secret: String| {
        let request = client.get(server.url("/auth/keys")).header("x-admin-secret", secret);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(secret.clone()).await, 200);

    // Rotate: the new secret works at once, the old one no longer.
    let rotated: Value = client
        .post(server.url("/auth/admin-secret/rotate"))
        .header("x-admin-secret", &secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["admin_secret"].as_str().unwrap().to_owned();
    assert_eq!(status(new_secret).await, 200);
    assert_eq!(status(secret).await, 401);
    server.stop().await.unwrap();

    // A configured secret is rotated where it is configured.
    let configured = Guard::builder(&demo::POLICY)
        .database(dir.path().join("other.redb"))
        .admin_secret(ADMIN_SECRET)
        .build()
        .unwrap();
    let server = TestServer::start(demo::app(&configured)).await.unwrap();
    let response = client
        .post(server.url("/auth/admin-secret/rotate"))
        .header("x-admin-secret", ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn answers_that_carry_a_secret_are_never_cached() {
    let (_dir, _clock, _guard, server, client) = start().await;
    let no_store = |response: &reqwest::Response| {
        let header = |name: &str| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        header("cache-control").as_deref() == Some("no-store")
            && header("pragma").as_deref() == Some("no-cache")
    };

    // A new key.
    let created = client
        .post(server.url("/auth/keys"))
        .header("x-admin-secret", ADMIN_SECRET)
        .json(&json!({"name": "ci", "roles": ["viewer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(no_store(&created), "{:?}", created.headers());

    // A new admin secret.
    let rotated = client
        .post(server.url("/auth/admin-secret/rotate"))
        .header("x-admin-secret", ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    // The test's secret is configured in code, so it cannot be replaced: 409, and still a
    // secret-free answer. A generated one is rotated below.
    assert_eq!(rotated.status(), 409);

    let dir = tempfile::tempdir().unwrap();
    let generated = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .on_generated_admin_secret(|_| {})
        .build()
        .unwrap();
    let secret = generated.rotate_admin_secret().await.unwrap().expose().to_owned();
    let other = TestServer::start(demo::app(&generated)).await.unwrap();
    let rotated = client
        .post(other.url("/auth/admin-secret/rotate"))
        .header("x-admin-secret", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    assert!(no_store(&rotated), "{:?}", rotated.headers());
    other.stop().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn of_concurrent_rotations_with_one_secret_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .on_generated_admin_secret(|_| {})
        .build()
        .unwrap();
    let secret = guard.rotate_admin_secret().await.unwrap().expose().to_owned();
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let mut rotations = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = client
            .post(server.url("/auth/admin-secret/rotate"))
            .header("x-admin-secret", &secret)
            .send();
        rotations.spawn(async move {
            let response = request.await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let answers = rotations.join_all().await;
    let won: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    // The others: 409 if they checked the secret before the winner replaced it; 401 if
    // after (the old secret is wrong by then, and counts as a wrong guess: 429 beyond five).
    assert!(answers.iter().all(|(s, _)| [200, 409, 401, 429].contains(s)), "{answers:?}");
    let new_secret = won[0]["admin_secret"].as_str().unwrap();
    // From another address: this one may be held back by the old secret's late uses.
    let other = guard_tests::client_from(std::net::IpAddr::from([127, 0, 0, 41]));
    let keys = |secret: &str| {
        other.get(server.url("/auth/keys")).header("x-admin-secret", secret.to_owned()).send()
    };
    assert_eq!(keys(new_secret).await.unwrap().status(), 200, "the winner's secret works");
    assert_eq!(keys(&secret).await.unwrap().status(), 401, "the old one does not");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn names_that_would_display_misleadingly_are_refused_and_errors_stay_short() {
    let (_dir, _clock, _guard, server, client) = start().await;
    for name in ["invoice\u{202E}fdp.exe", "ad\u{200D}min", "\u{2066}ops\u{2069}", "a\u{200B}b"] {
        let (status, body) =
            admin(&client, &server, Method::POST, "/auth/keys", Some(json!({"name": name}))).await;
        assert_eq!(status, 422, "{name:?}: {body}");
        let (status, body) = admin(
            &client,
            &server,
            Method::POST,
            "/auth/users",
            Some(json!({"name": name, "password": "correct horse battery"})),
        )
        .await;
        assert_eq!(status, 422, "{name:?}: {body}");
    }
    let (status, listed) = admin(&client, &server, Method::GET, "/auth/keys", None).await;
    assert_eq!((status, listed["keys"].as_array().map(Vec::len)), (200, Some(0)), "nothing made");

    // Thousands of unknown role names, one of them 10 000 characters long: a short answer.
    let mut roles: Vec<String> = (0..3000).map(|n| format!("role{n}")).collect();
    roles.insert(0, "x".repeat(10_000));
    let (status, body) =
        admin(&client, &server, Method::POST, "/auth/keys", Some(json!({"roles": roles}))).await;
    assert_eq!(status, 422);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.len() < 1_000, "{} bytes: {detail}", detail.len());
    assert!(detail.contains("and 2996 more"), "{detail}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_admin_secrets_are_throttled_per_address() {
    let (_dir, _clock, _guard, server, _) = start().await;
    let from = |last: u8| guard_tests::client_from(std::net::IpAddr::from([127, 0, 0, last]));
    let keys = |client: reqwest::Client, secret: &'static str| {
        let request = client.get(server.url("/auth/keys")).header("x-admin-secret", secret);
        async move {
            let response = request.send().await.unwrap();
            let retry = response.headers().contains_key("retry-after");
            (response.status().as_u16(), retry)
        }
    };
    let guesser = from(31);
    for _ in 0..5 {
        assert_eq!(keys(guesser.clone(), "not-the-admin-secret").await.0, 401);
    }
    // Five guesses tried; from then on that address waits, even with the right secret.
    assert_eq!(keys(guesser.clone(), "not-the-admin-secret").await, (429, true));
    assert_eq!(keys(guesser, ADMIN_SECRET).await, (429, true));
    // Another address, and the administrators there, are not held back.
    assert_eq!(keys(from(32), ADMIN_SECRET).await.0, 200);
    assert_eq!(keys(from(32), "not-the-admin-secret").await.0, 401);
    server.stop().await.unwrap();
}
