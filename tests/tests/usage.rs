//! Usage over real HTTP: the last requests and the rollups of a key by minute, hour and day,
//! bad parameters, a key in the query on the admin routes, and a flood of requests with a
//! revoked key, which grows counters, not the file.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;
use std::sync::Arc;

use guard_axum::{Guard, ManualClock};
use guard_tests::{ADMIN_SECRET, NOW, TestServer, client, create_key};
use reqwest::Client;
use serde_json::{Value, json};

fn guard(db: &Path, clock: &ManualClock) -> Guard {
    Guard::builder(&demo::POLICY)
        .database(db)
        .admin_secret(ADMIN_SECRET)
        .admin_permission("manage_keys")
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

async fn get_with_key(client: &Client, server: &TestServer, path: &str, key: &str) -> u16 {
    let response = client.get(server.url(path)).header("x-api-key", key).send().await.unwrap();
    response.status().as_u16()
}

async fn usage(client: &Client, server: &TestServer, id: &str, query: &str) -> (u16, Value) {
    let response = client
        .get(server.url(&format!("/auth/keys/{id}/usage{query}")))
        .header("x-admin-secret", ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `(start, route, outcome, count)` of each rollup.
fn rollups(body: &Value) -> Vec<(String, String, String, u64)> {
    body["rollups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["method"], "GET");
            (
                r["start"].as_str().unwrap().to_owned(),
                r["route"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn row(start: &str, route: &str, outcome: &str, count: u64) -> (String, String, String, u64) {
    (start.into(), route.into(), outcome.into(), count)
}

#[tokio::test]
async fn rollups_by_minute_hour_and_day_and_the_last_requests() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let guard = guard(&dir.path().join("g.redb"), &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let (_, viewer) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
    let (id, key) = (viewer["id"].as_str().unwrap(), viewer["key"].as_str().unwrap());

    for _ in 0..3 {
        assert_eq!(get_with_key(&client, &server, "/secure", key).await, 200);
    }
    clock.advance(61); // 13:10:01
    assert_eq!(get_with_key(&client, &server, "/secure", key).await, 200);
    for _ in 0..2 {
        assert_eq!(get_with_key(&client, &server, "/admin", key).await, 403);
    }
    clock.advance(3600); // 14:10:01
    assert_eq!(get_with_key(&client, &server, "/reports", key).await, 200);

    let range = "since=2026-11-22T13:00:00Z&until=2026-11-22T15:00:00Z";
    let (status, by_minute) =
        usage(&client, &server, id, &format!("?granularity=minute&{range}")).await;
    assert_eq!(status, 200, "{by_minute}");
    assert_eq!(
        rollups(&by_minute),
        [
            row("2026-11-22T13:09:00Z", "/secure", "ok", 3),
            row("2026-11-22T13:10:00Z", "/admin", "forbidden", 2),
            row("2026-11-22T13:10:00Z", "/secure", "ok", 1),
            row("2026-11-22T14:10:00Z", "/reports", "ok", 1),
        ]
    );
    let (_, by_hour) = usage(&client, &server, id, &format!("?granularity=hour&{range}")).await;
    assert_eq!(
        rollups(&by_hour),
        [
            row("2026-11-22T13:00:00Z", "/admin", "forbidden", 2),
            row("2026-11-22T13:00:00Z", "/secure", "ok", 4),
            row("2026-11-22T14:00:00Z", "/reports", "ok", 1),
        ]
    );
    let (_, by_day) = usage(&client, &server, id, "?granularity=day").await;
    assert_eq!(by_day["since"], "2026-10-24T00:00:00Z", "thirty days back, from a day's start");
    assert_eq!(by_day["until"], "2026-11-23T00:00:00Z", "to the end of today");
    assert_eq!(
        rollups(&by_day),
        [
            row("2026-11-22T00:00:00Z", "/admin", "forbidden", 2),
            row("2026-11-22T00:00:00Z", "/reports", "ok", 1),
            row("2026-11-22T00:00:00Z", "/secure", "ok", 4),
        ]
    );
    // A narrower range leaves out what is outside it.
    let (_, late) = usage(
        &client,
        &server,
        id,
        "?granularity=minute&since=2026-11-22T13:10:00Z&until=2026-11-22T14:00:00Z",
    )
    .await;
    assert_eq!(rollups(&late).len(), 2);

    // By default: the last day by hour, up to the end of this hour; and the last requests.
    let (_, default) = usage(&client, &server, id, "").await;
    assert_eq!(
        (default["granularity"].as_str(), default["until"].as_str()),
        (Some("hour"), Some("2026-11-22T15:00:00Z"))
    );
    assert_eq!(rollups(&default), rollups(&by_hour));
    assert_eq!(default["total_uses"], 7);
    let recent: Vec<(&str, &str)> = default["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["route"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        recent,
        [
            ("/reports", "ok"),
            ("/admin", "forbidden"),
            ("/admin", "forbidden"),
            ("/secure", "ok"),
            ("/secure", "ok"),
            ("/secure", "ok"),
            ("/secure", "ok")
        ]
    );
    assert_eq!(default["recent"][0]["at"], "2026-11-22T14:10:01Z");
    let (_, two) = usage(&client, &server, id, "?limit=2").await;
    assert_eq!(two["recent"].as_array().unwrap().len(), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_usage_parameters_are_422_and_a_key_in_the_query_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let guard = guard(&dir.path().join("g.redb"), &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let (_, admin_key) = create_key(&client, &server, json!({"roles": ["admin"]})).await.unwrap();
    let (id, key) = (admin_key["id"].as_str().unwrap(), admin_key["key"].as_str().unwrap());
    for bad in [
        "granularity=week",
        "granularity=",
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "since=2026-11-22T12:00:00Z&until=2026-11-22T11:00:00Z",
        "since=2026-11-22T12:00:00Z&until=2026-11-22T12:00:00Z",
        "granularity=minute&since=2026-10-01T00:00:00Z&until=2026-11-22T00:00:00Z",
        "limit=0",
        "limit=5000",
        "limit=many",
        "sort=at",
    ] {
        let (status, body) = usage(&client, &server, id, &format!("?{bad}")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("invalid_request")),
            "{bad}: {body}"
        );
    }
    assert_eq!(usage(&client, &server, "AAAAAAAAAAAA", "").await.0, 404);

    // Like every other route, the admin routes take a key in the query.
    for path in [
        format!("/auth/keys?api-key={key}"),
        format!("/auth/keys?limit=5&api-key={key}"),
        format!("/auth/keys/{id}/usage?api-key={key}"),
        format!("/auth/keys/{id}/usage?granularity=minute&api-key={key}"),
    ] {
        let response = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", path.split('?').next().unwrap());
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_flood_with_a_revoked_key_grows_counters_not_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.redb");
    let clock = ManualClock::new(NOW);
    let guard = guard(&db, &clock);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();
    let (_, created) = create_key(&client, &server, json!({})).await.unwrap();
    let (id, key) =
        (created["id"].as_str().unwrap().to_owned(), created["key"].as_str().unwrap().to_owned());
    let revoke = client
        .post(server.url(&format!("/auth/keys/{id}/revoke")))
        .header("x-admin-secret", ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);

    let flood = |n: usize| {
        let (client, url, key) = (client.clone(), server.url("/secure"), key.clone());
        async move {
            let mut tasks = tokio::task::JoinSet::new();
            for worker in 0..16 {
                let (client, url, key) = (client.clone(), url.clone(), key.clone());
                tasks.spawn(async move {
                    for _ in (worker..n).step_by(16) {
                        let status = client
                            .get(&url)
                            .header("x-api-key", &key)
                            .send()
                            .await
                            .unwrap()
                            .status();
                        assert_eq!(status, 401);
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }
    };
    flood(500).await;
    guard.usage().flush().await.unwrap();
    let before = std::fs::metadata(&db).unwrap().len();
    flood(5_000).await;
    clock.advance(60);
    flood(500).await;
    guard.usage().flush().await.unwrap();
    let after = std::fs::metadata(&db).unwrap().len();

    let (_, body) = usage(&client, &server, &id, "?granularity=minute").await;
    assert_eq!(body["total_uses"], 6_000, "every attempt is counted");
    assert_eq!(
        rollups(&body),
        [
            row("2026-11-22T13:09:00Z", "/secure", "revoked", 5_500),
            row("2026-11-22T13:10:00Z", "/secure", "revoked", 500),
        ]
    );
    assert_eq!(body["recent"].as_array().unwrap().len(), 100, "the last 100 are kept");
    // One usage record per request, as version 1 wrote them, would have been 5 500 rows,
    // over a megabyte.
    assert!(after <= before + 64 * 1024, "the file grew from {before} to {after} bytes");
    server.stop().await.unwrap();
}
