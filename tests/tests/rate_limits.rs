//! Per-key and per-user rate limits over real HTTP: set on create, renew and patch, shown on
//! read, kept across a restart; over the limit a 429 with `Retry-After` and a usage outcome
//! `rate_limited`; exact under concurrency; bad limits refused, changing nothing.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;

use guard_axum::{Guard, UsageConfig};
use guard_tests::instances::{self, Instance, eventually};
use guard_tests::{ADMIN_SECRET, TestServer, admin, client, create_key, create_user, login, token};
use reqwest::{Client, Method};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

fn guard(db: &Path) -> Guard {
    let builder = Guard::builder(&demo::POLICY)
        .database(db)
        .admin_secret(ADMIN_SECRET)
        .usage(UsageConfig::default().flush_interval(std::time::Duration::from_millis(50)));
    demo::configure(builder).build().unwrap()
}

async fn start(db: &Path) -> (Guard, TestServer) {
    let guard = guard(db);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    (guard, server)
}

/// `GET /secure` with `key`: the status, and `Retry-After` and the error code if refused.
async fn secure(client: &Client, url: &str, key: &str) -> (u16, Option<u64>, Value) {
    let response = client.get(url).header("x-api-key", key).send().await.unwrap();
    let status = response.status().as_u16();
    let retry =
        response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let text = response.text().await.unwrap();
    (status, retry, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends `n` requests at once with `key`; the statuses, sorted, and the 429s' answers.
async fn burst(
    client: &Client,
    server: &TestServer,
    key: &str,
    n: usize,
) -> (Vec<u16>, Vec<(Option<u64>, Value)>) {
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, url, key) = (client.clone(), server.url("/secure"), key.to_owned());
        sent.spawn(async move { secure(&client, &url, &key).await });
    }
    let answers = sent.join_all().await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    statuses.sort_unstable();
    let refused = answers.into_iter().filter(|a| a.0 == 429).map(|a| (a.1, a.2)).collect();
    (statuses, refused)
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_limit_is_refused_with_429_and_the_limit_is_managed_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let (guard, server) = start(&db).await;
    let client = client();

    // Created with a limit, shown in the answer and on read.
    let limit = json!({"requests": 5, "per_seconds": 3600});
    let (status, created) =
        create_key(&client, &server, json!({"roles": ["viewer"], "rate_limit": limit}))
            .await
            .unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["rate_limit"], limit);
    let (id, key) = (created["id"].as_str().unwrap(), created["key"].as_str().unwrap());
    let (_, read) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{id}"), None).await.unwrap();
    assert_eq!(read["rate_limit"], limit);

    // 40 requests at once: exactly 5 admitted, whatever the interleaving.
    let (statuses, refused) = burst(&client, &server, key, 40).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 429)), (5, 35), "{statuses:?}");
    for (retry, body) in &refused {
        // One request every 720 s: the next is free in at most 720 s.
        let retry = retry.expect("a 429 says when to come back");
        assert!((1..=720).contains(&retry), "Retry-After {retry}");
        assert_eq!(body["error"], "rate_limited");
    }

    // The refusals are in the key's usage, as their own outcome.
    let (_, usage) = admin(
        &client,
        &server,
        Method::GET,
        &format!("/auth/keys/{id}/usage?granularity=minute"),
        None,
    )
    .await
    .unwrap();
    let mut outcomes: Vec<(String, u64)> = usage["rollups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["outcome"].as_str().unwrap().to_owned(), r["count"].as_u64().unwrap()))
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, [("ok".to_owned(), 5), ("rate_limited".to_owned(), 35)]);

    // A key without a limit is not limited.
    let (_, free) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
    assert_eq!(free["rate_limit"], Value::Null);
    let (statuses, _) = burst(&client, &server, free["key"].as_str().unwrap(), 40).await;
    assert_eq!(count(&statuses, 200), 40);

    // Patched to a faster limit: the key works again at once, under the new limit.
    let faster = json!({"requests": 3, "per_seconds": 3600});
    let path = format!("/auth/keys/{id}");
    let (status, patched) =
        admin(&client, &server, Method::PATCH, &path, Some(json!({"rate_limit": faster})))
            .await
            .unwrap();
    assert_eq!((status, &patched["rate_limit"]), (200, &faster), "{patched}");
    let (statuses, _) = burst(&client, &server, key, 10).await;
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");

    // Bad limits are refused and change nothing.
    for bad in [
        json!({"rate_limit": {"requests": 0, "per_seconds": 60}}),
        json!({"rate_limit": {"requests": 5, "per_seconds": 0}}),
        json!({"rate_limit": {"requests": 5, "per_seconds": 86401}}),
        json!({"rate_limit": {"requests": 1000001, "per_seconds": 60}}),
        json!({"rate_limit": {"requests": -1, "per_seconds": 60}}),
        json!({"rate_limit": {"requests": "5", "per_seconds": 60}}),
        json!({"rate_limit": {"requests": 5}}),
        json!({"rate_limit": {"requests": 5, "per_seconds": 60, "burst": 9}}),
        json!({"rate_limit": 5}),
        json!({}),
    ] {
        let (status, body) =
            admin(&client, &server, Method::PATCH, &path, Some(bad.clone())).await.unwrap();
        assert_eq!(status, 422, "{bad} → {body}");
        let (status, body) =
            admin(&client, &server, Method::POST, &format!("{path}/renew"), Some(bad.clone()))
                .await
                .unwrap();
        assert!(status == 422 || bad == json!({}), "renew {bad} → {status} {body}");
        let (status, _) = create_key(&client, &server, bad.clone()).await.unwrap();
        assert!(status == 422 || bad == json!({}), "create {bad} → {status}");
    }
    let (_, read) = admin(&client, &server, Method::GET, &path, None).await.unwrap();
    assert_eq!(read["rate_limit"], faster, "nothing changed");
    let (_, other) = create_key(&client, &server, json!({"rate_limit": null})).await.unwrap();
    assert_eq!(other["rate_limit"], Value::Null, "null on create is no limit");

    // Renewal may set a limit; an absent field leaves it as it is.
    let renewed_limit = json!({"requests": 100, "per_seconds": 60});
    let (status, renewed) = admin(
        &client,
        &server,
        Method::POST,
        &format!("{path}/renew"),
        Some(json!({"ttl_days": 3, "rate_limit": renewed_limit})),
    )
    .await
    .unwrap();
    assert_eq!((status, &renewed["rate_limit"]), (200, &renewed_limit), "{renewed}");
    let (_, renewed) =
        admin(&client, &server, Method::POST, &format!("{path}/renew"), Some(json!({})))
            .await
            .unwrap();
    assert_eq!(renewed["rate_limit"], renewed_limit, "kept");

    // Kept in the file across a restart.
    server.stop().await.unwrap();
    guard.shutdown();
    drop(guard);
    let (guard, server) = start(&db).await;
    let (_, read) = admin(&client, &server, Method::GET, &path, None).await.unwrap();
    assert_eq!(read["rate_limit"], renewed_limit);

    // Removed with null: no limit any more.
    let (status, patched) =
        admin(&client, &server, Method::PATCH, &path, Some(json!({"rate_limit": null})))
            .await
            .unwrap();
    assert_eq!((status, &patched["rate_limit"]), (200, &Value::Null));
    let (statuses, _) = burst(&client, &server, key, 150).await;
    assert_eq!(count(&statuses, 200), 150);
    let (status, _) =
        admin(&client, &server, Method::PATCH, "/auth/keys/nope", None).await.unwrap();
    assert!(status == 404 || status == 415, "{status}");
    let (status, _) = admin(
        &client,
        &server,
        Method::PATCH,
        "/auth/keys/nope",
        Some(json!({"rate_limit": null})),
    )
    .await
    .unwrap();
    assert_eq!(status, 404);
    guard.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_s_limit_is_shared_by_its_sessions_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (guard, server) = start(&dir.path().join("g.redb")).await;
    let client = client();
    let (status, user) = create_user(&client, &server, "ann", PASSWORD, &["viewer"]).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(user["rate_limit"], Value::Null);
    let path = format!("/auth/users/{}", user["id"].as_str().unwrap());
    let limit = json!({"requests": 4, "per_seconds": 3600});
    let (status, patched) =
        admin(&client, &server, Method::PATCH, &path, Some(json!({"rate_limit": limit})))
            .await
            .unwrap();
    assert_eq!((status, &patched["rate_limit"]), (200, &limit), "{patched}");

    let (status, cookie, _) = login(&client, &server, "ann", PASSWORD).await.unwrap();
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    let (status, issued) = token(&client, &server, "ann", PASSWORD).await.unwrap();
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
    let me = |header: (&'static str, String)| {
        let request = client.get(server.url("/auth/me")).header(header.0, header.1);
        async move { request.send().await.unwrap() }
    };
    // Alternately by session and by token, at once: four admitted in all.
    let mut sent = tokio::task::JoinSet::new();
    for n in 0..12 {
        let header =
            if n % 2 == 0 { ("cookie", cookie.clone()) } else { ("authorization", bearer.clone()) };
        sent.spawn(me(header));
    }
    let answers = sent.join_all().await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!((count(&statuses, 200), count(&statuses, 429)), (4, 8), "{statuses:?}");
    assert!(
        answers
            .iter()
            .filter(|r| r.status() == 429)
            .all(|r| r.headers().contains_key("retry-after"))
    );

    // Another user is not limited by ann's limit.
    let (status, _) = create_user(&client, &server, "bob", PASSWORD, &["viewer"]).await.unwrap();
    assert_eq!(status, 201);
    let (_, bob, _) = login(&client, &server, "bob", PASSWORD).await.unwrap();
    let bob = bob.unwrap();
    for _ in 0..10 {
        assert_eq!(me(("cookie", bob.clone())).await.status(), 200);
    }

    // Created with a limit; a bad one is refused.
    let (status, body) = admin(
        &client,
        &server,
        Method::POST,
        "/auth/users",
        Some(json!({"name": "cid", "password": PASSWORD, "rate_limit": limit})),
    )
    .await
    .unwrap();
    assert_eq!((status, &body["rate_limit"]), (201, &limit), "{body}");
    let (status, _) = admin(
        &client,
        &server,
        Method::POST,
        "/auth/users",
        Some(json!({"name": "dee", "password": PASSWORD, "rate_limit": {"requests": 0, "per_seconds": 1}})),
    )
    .await
    .unwrap();
    assert_eq!(status, 422);

    // Lifted: ann's session works again.
    let (status, patched) =
        admin(&client, &server, Method::PATCH, &path, Some(json!({"rate_limit": null})))
            .await
            .unwrap();
    assert_eq!((status, &patched["rate_limit"]), (200, &Value::Null));
    assert_eq!(me(("cookie", cookie.clone())).await.status(), 200);
    // Other changes leave the limit alone.
    admin(&client, &server, Method::PATCH, &path, Some(json!({"rate_limit": limit})))
        .await
        .unwrap();
    let (_, patched) =
        admin(&client, &server, Method::PATCH, &path, Some(json!({"name": "Ann"}))).await.unwrap();
    assert_eq!(patched["rate_limit"], limit);
    guard.shutdown();
}

/// `n` requests with `key` to `instance`, one after another; how many were admitted.
async fn admitted(client: &Client, instance: &Instance, key: &str, n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        let (status, _, _) = secure(client, &instance.url("/secure"), key).await;
        assert!(status == 200 || status == 429, "{status}");
        ok += usize::from(status == 200);
    }
    ok
}

/// Waits until `instance` knows the key `id` (without using it: that would count).
async fn knows(client: &Client, instance: &Instance, id: &str) {
    let url = instance.url(&format!("/auth/keys/{id}"));
    eventually("the other instance knows the key", async || {
        let request = client.get(&url).header("x-admin-secret", ADMIN_SECRET);
        request.send().await.unwrap().status() == 200
    })
    .await;
}

/// Long enough for both instances to share what they admitted (they sync every second).
async fn a_sync() {
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_instances_admit_the_limit_plus_at_most_what_the_others_admit_between_syncs() {
    let Some(db) = instances::database("rate_limits_across_instances") else { return };
    let schema = db.fresh_schema();
    let a = instances::start(&db, &schema, "guard-a", |b| b).await;
    let b = instances::start(&db, &schema, "guard-b", |b| b).await;
    let client = client();
    let limit = json!({"requests": 10, "per_seconds": 3600});
    let body = json!({"roles": ["viewer"], "rate_limit": limit});
    let (status, created) = create_key(&client, &a.server, body.clone()).await.unwrap();
    assert_eq!(status, 201);
    let key = created["key"].as_str().unwrap().to_owned();
    knows(&client, &b, created["id"].as_str().unwrap()).await;

    // Spaced by syncs, the instances together admit exactly the limit.
    assert_eq!(admitted(&client, &a, &key, 6).await, 6);
    a_sync().await;
    assert_eq!(admitted(&client, &b, &key, 1).await, 1, "B's first, before it has shared");
    a_sync().await;
    assert_eq!(admitted(&client, &b, &key, 10).await, 3, "B counts A's six and its own");
    a_sync().await;
    assert_eq!(admitted(&client, &a, &key, 10).await, 0, "A counts B's four");

    // All at once on both: each may admit what its own view allows before a sync (the
    // limit), so together at most twice the limit; after a sync, both count everything.
    let (_, created) = create_key(&client, &a.server, body).await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    knows(&client, &b, created["id"].as_str().unwrap()).await;
    let mut sent = tokio::task::JoinSet::new();
    for n in 0..40 {
        let url = if n % 2 == 0 { a.url("/secure") } else { b.url("/secure") };
        let (client, key) = (client.clone(), key.clone());
        sent.spawn(async move { secure(&client, &url, &key).await.0 });
    }
    let statuses = sent.join_all().await;
    let ok = count(&statuses, 200);
    assert!((10..=20).contains(&ok), "{ok} admitted: {statuses:?}");
    a_sync().await;
    let after = admitted(&client, &a, &key, 5).await + admitted(&client, &b, &key, 5).await;
    assert_eq!(after, 0, "after a sync, both count what the other admitted");
    a.stop().await;
    b.stop().await;
}
