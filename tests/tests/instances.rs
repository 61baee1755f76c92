//! Several instances of the demo on one PostgreSQL, each with its own indexes, as replicas
//! behind a load balancer: what one writes, the others honour; what they count adds up;
//! failed logins are counted once for all. Skipped, with a message, without a PostgreSQL
//! (`GUARD_TEST_POSTGRES`); CI runs them.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;

use guard_axum::{GuardBuilder, ManualClock};
use guard_tests::instances::{self, Instance, eventually, get_with, get_with_key};
use guard_tests::{NOW, admin, client, create_key, create_user, login, token};
use reqwest::Method;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// Two instances on a fresh schema of the test database.
async fn pair(
    test: &str,
) -> Option<(guard_postgres::testing::TestDatabase, String, Instance, Instance)> {
    let db = instances::database(test)?;
    let schema = db.fresh_schema();
    let a = instances::start(&db, &schema, "guard-a", |b| b).await;
    let b = instances::start(&db, &schema, "guard-b", |b| b).await;
    Some((db, schema, a, b))
}

/// Two instances with one clock, which moves only when the test says (real instances share
/// time too).
async fn pair_on_one_clock(
    test: &str,
) -> Option<(guard_postgres::testing::TestDatabase, ManualClock, Instance, Instance)> {
    let db = instances::database(test)?;
    let schema = db.fresh_schema();
    let clock = ManualClock::new(NOW);
    let with_clock = |b: GuardBuilder| b.clock(Arc::new(clock.clone()));
    let a = instances::start(&db, &schema, "guard-a", with_clock).await;
    let b = instances::start(&db, &schema, "guard-b", with_clock).await;
    Some((db, clock, a, b))
}

async fn me(client: &reqwest::Client, instance: &Instance, header: (&str, &str)) -> u16 {
    get_with(client, instance, "/auth/me", header).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_creates_works_through_the_other() {
    let Some((_db, _schema, a, b)) =
        pair("what_one_instance_creates_works_through_the_other").await
    else {
        return;
    };
    let client = client();
    let (status, key) = create_key(&client, &a.server, json!({"roles": ["admin"]})).await.unwrap();
    assert_eq!(status, 201);
    let key = key["key"].as_str().unwrap().to_owned();
    eventually("B accepts the key A created", async || {
        get_with_key(&client, &b, "/admin", &key).await == 200
    })
    .await;

    let (status, _) = create_user(&client, &a.server, "ann", PASSWORD, &["admin"]).await.unwrap();
    assert_eq!(status, 201);
    // The user logs in through B: B knows the user A created, password and all.
    let mut logged_in = None;
    eventually("B lets the user A created log in", async || {
        let (status, cookie, _) = login(&client, &b.server, "ann", PASSWORD).await.unwrap();
        logged_in = cookie;
        status == 200
    })
    .await;
    // A session and a token issued by A work through B, and the reverse.
    let (status, a_cookie, _) = login(&client, &a.server, "ann", PASSWORD).await.unwrap();
    assert_eq!(status, 200);
    let a_cookie = a_cookie.unwrap();
    let (status, a_token) = token(&client, &a.server, "ann", PASSWORD).await.unwrap();
    assert_eq!(status, 200);
    let a_token = format!("Bearer {}", a_token["access_token"].as_str().unwrap());
    eventually("B accepts A's session", async || {
        me(&client, &b, ("cookie", &a_cookie)).await == 200
    })
    .await;
    eventually("B accepts A's token", async || {
        get_with(&client, &b, "/admin", ("authorization", &a_token)).await == 200
    })
    .await;
    let b_cookie = logged_in.unwrap();
    eventually("A accepts B's session", async || {
        me(&client, &a, ("cookie", &b_cookie)).await == 200
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_ends_the_other_refuses() {
    let Some((_db, _schema, a, b)) = pair("what_one_instance_ends_the_other_refuses").await else {
        return;
    };
    let client = client();
    let (_, created) = create_key(&client, &a.server, json!({"roles": ["viewer"]})).await.unwrap();
    let (key, id) = (created["key"].as_str().unwrap(), created["id"].as_str().unwrap());
    eventually("B accepts the key", async || {
        get_with_key(&client, &b, "/secure", key).await == 200
    })
    .await;
    let (status, _) =
        admin(&client, &a.server, Method::POST, &format!("/auth/keys/{id}/revoke"), None)
            .await
            .unwrap();
    assert_eq!(status, 200);
    eventually("B refuses the key A revoked", async || {
        get_with_key(&client, &b, "/secure", key).await == 401
    })
    .await;
    let renew = format!("/auth/keys/{id}/renew");
    assert_eq!(admin(&client, &a.server, Method::POST, &renew, None).await.unwrap().0, 200);
    eventually("B accepts the key A renewed", async || {
        get_with_key(&client, &b, "/secure", key).await == 200
    })
    .await;
    let delete = format!("/auth/keys/{id}");
    assert_eq!(admin(&client, &a.server, Method::DELETE, &delete, None).await.unwrap().0, 204);
    eventually("B refuses the key A deleted", async || {
        get_with_key(&client, &b, "/secure", key).await == 401
    })
    .await;

    // A user's session and token, issued by B, ended by what A does to the user.
    let (_, user) = create_user(&client, &a.server, "bob", PASSWORD, &["admin"]).await.unwrap();
    let user_id = user["id"].as_str().unwrap().to_owned();
    let credentials = async || {
        let (status, cookie, _) = login(&client, &b.server, "bob", PASSWORD).await.unwrap();
        let (_, token) = token(&client, &b.server, "bob", PASSWORD).await.unwrap();
        (status, cookie, token["access_token"].as_str().map(|t| format!("Bearer {t}")))
    };
    let mut issued = (0, None, None);
    eventually("B knows the user", async || {
        issued = credentials().await;
        issued.0 == 200
    })
    .await;
    let (cookie, bearer) = (issued.1.clone().unwrap(), issued.2.clone().unwrap());
    let patch = format!("/auth/users/{user_id}");
    let disable = Some(json!({"disabled": true}));
    assert_eq!(admin(&client, &a.server, Method::PATCH, &patch, disable).await.unwrap().0, 200);
    eventually("B refuses the session and token of a user A disabled", async || {
        me(&client, &b, ("cookie", &cookie)).await == 401
            && get_with(&client, &b, "/admin", ("authorization", &bearer)).await == 401
    })
    .await;
    let enable = Some(json!({"disabled": false}));
    assert_eq!(admin(&client, &a.server, Method::PATCH, &patch, enable).await.unwrap().0, 200);
    let mut fresh = (0, None, None);
    eventually("B knows the user is enabled", async || {
        fresh = credentials().await;
        fresh.0 == 200
    })
    .await;
    assert_eq!(me(&client, &b, ("cookie", &cookie)).await, 401, "enabling brings nothing back");
    let (cookie, bearer) = (fresh.1.unwrap(), fresh.2.unwrap());

    // A new password set through A ends them on B.
    let password = format!("/auth/users/{user_id}/password");
    let body = Some(json!({"password": "another horse battery"}));
    assert_eq!(admin(&client, &a.server, Method::PUT, &password, body).await.unwrap().0, 200);
    eventually("B refuses what was issued before A set a new password", async || {
        me(&client, &b, ("cookie", &cookie)).await == 401
            && get_with(&client, &b, "/admin", ("authorization", &bearer)).await == 401
    })
    .await;

    // Logging out through A, and revoking a token through A, end them on B.
    let (_, cookie, _) = login(&client, &b.server, "bob", "another horse battery").await.unwrap();
    let cookie = cookie.unwrap();
    let (_, issued_token) =
        token(&client, &b.server, "bob", "another horse battery").await.unwrap();
    let raw_token = issued_token["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {raw_token}");
    eventually("A accepts B's new session", async || {
        me(&client, &a, ("cookie", &cookie)).await == 200
    })
    .await;
    let logout = client
        .post(a.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", format!("http://{}", a.server.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status().as_u16(), 200);
    let revoke = client.post(a.url("/auth/token/revoke")).form(&[("token", &raw_token)]).send();
    assert_eq!(revoke.await.unwrap().status().as_u16(), 200);
    eventually("B refuses the session logged out and the token revoked through A", async || {
        me(&client, &b, ("cookie", &cookie)).await == 401
            && get_with(&client, &b, "/admin", ("authorization", &bearer)).await == 401
    })
    .await;

    // Deleting the user through A ends everything of it on B.
    let (_, cookie, _) = login(&client, &b.server, "bob", "another horse battery").await.unwrap();
    let cookie = cookie.unwrap();
    assert_eq!(admin(&client, &a.server, Method::DELETE, &patch, None).await.unwrap().0, 204);
    eventually("B refuses the session of a user A deleted", async || {
        me(&client, &b, ("cookie", &cookie)).await == 401
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_connections_were_killed_catches_up() {
    let Some((db, _schema, a, b)) =
        pair("an_instance_whose_connections_were_killed_catches_up").await
    else {
        return;
    };
    let client = client();
    let (_, first) = create_key(&client, &a.server, json!({})).await.unwrap();
    let (first_key, first_id) = (first["key"].as_str().unwrap(), first["id"].as_str().unwrap());
    eventually("B accepts the first key", async || {
        get_with_key(&client, &b, "/secure", first_key).await == 200
    })
    .await;
    // Every connection of B ends, its notifications too; A writes while B has none.
    instances::kill_connections(&db, "guard-b");
    let (_, second) = create_key(&client, &a.server, json!({})).await.unwrap();
    let second_key = second["key"].as_str().unwrap();
    let revoke = format!("/auth/keys/{first_id}/revoke");
    assert_eq!(admin(&client, &a.server, Method::POST, &revoke, None).await.unwrap().0, 200);
    instances::kill_connections(&db, "guard-b");
    // B went on serving from memory meanwhile, and catches up once reconnected.
    eventually("B learns what A wrote while B was cut off", async || {
        get_with_key(&client, &b, "/secure", second_key).await == 200
            && get_with_key(&client, &b, "/secure", first_key).await == 401
    })
    .await;
    // And B writes again.
    let (status, _) = create_key(&client, &b.server, json!({})).await.unwrap();
    assert_eq!(status, 201);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_counted_on_every_instance_adds_up() {
    let Some((db, schema, a, b)) = pair("usage_counted_on_every_instance_adds_up").await else {
        return;
    };
    let client = client();
    let (_, created) = create_key(&client, &a.server, json!({})).await.unwrap();
    let (key, id) = (created["key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap());
    eventually("B accepts the key", async || {
        get_with_key(&client, &b, "/secure", &key).await == 200
    })
    .await;
    let through = |instance: &Instance, n: usize| {
        let (client, key, url) = (client.clone(), key.clone(), instance.url("/secure"));
        tokio::spawn(async move {
            for _ in 0..n {
                let response = client.get(&url).header("x-api-key", &key).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200);
            }
        })
    };
    let (on_a, on_b) = (through(&a, 120), through(&b, 80));
    on_a.await.unwrap();
    on_b.await.unwrap();
    // While they serve, each shows what both counted, once the other has written its share.
    let key_path = format!("/auth/keys/{id}");
    for instance in [&a, &b] {
        eventually("each instance shows the uses both counted", async || {
            let (_, shown) =
                admin(&client, &instance.server, Method::GET, &key_path, None).await.unwrap();
            shown["total_uses"] == 120 + 80 + 1
        })
        .await;
    }
    a.stop().await;
    b.stop().await;
    // A third instance reads what both wrote: every use, once (and the one B made first).
    let c = instances::start(&db, &schema, "guard-c", |b| b).await;
    let (status, key) =
        admin(&client, &c.server, Method::GET, &format!("/auth/keys/{id}"), None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(key["total_uses"], 120 + 80 + 1);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_counted_once_for_every_instance() {
    // The clock stands still, so that the first delay (one second) has not passed when the
    // last attempt is made, however slow the machine.
    let test = "failed_logins_are_counted_once_for_every_instance";
    let Some((_db, _clock, a, b)) = pair_on_one_clock(test).await else { return };
    let client = client();
    create_user(&client, &a.server, "cat", PASSWORD, &[]).await.unwrap();
    eventually("B knows the user", async || {
        login(&client, &b.server, "cat", PASSWORD).await.unwrap().0 == 200
    })
    .await;
    // Five free failures per account and address, however they are spread.
    for n in 0..5 {
        let instance = if n % 2 == 0 { &a } else { &b };
        let (status, _, _) =
            login(&client, &instance.server, "cat", "wrong password!").await.unwrap();
        assert_eq!(status, 401, "failure {n}");
    }
    // From then on both instances hold the account back.
    for instance in [&a, &b] {
        let (status, _, _) = login(&client, &instance.server, "cat", PASSWORD).await.unwrap();
        assert_eq!(status, 429, "the right password waits too, on every instance");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_used_through_any_instance_stays_alive_on_all() {
    // Sessions idle out after 30 minutes.
    let test = "a_session_used_through_any_instance_stays_alive_on_all";
    let Some((_db, clock, a, b)) = pair_on_one_clock(test).await else { return };
    let client = client();
    create_user(&client, &a.server, "dee", PASSWORD, &[]).await.unwrap();
    let (status, cookie, _) = login(&client, &a.server, "dee", PASSWORD).await.unwrap();
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    let session = ("cookie", cookie.as_str());
    eventually("B knows the session", async || me(&client, &b, session).await == 200).await;

    // Used through A twenty minutes later; then, 45 minutes after the login but only 25
    // after that use, it is alive on B, which learns of the use from the database.
    clock.advance(20 * 60);
    assert_eq!(me(&client, &a, session).await, 200);
    clock.advance(25 * 60);
    eventually("B counts A's use toward the idle timeout", async || {
        me(&client, &b, session).await == 200
    })
    .await;
    // Used through B now; A learns of it the same way.
    clock.advance(29 * 60);
    eventually("A counts B's use toward the idle timeout", async || {
        me(&client, &a, session).await == 200
    })
    .await;
    // Idle for longer than the timeout: refused everywhere.
    clock.advance(31 * 60);
    assert_eq!(me(&client, &a, session).await, 401);
    assert_eq!(me(&client, &b, session).await, 401);
    a.stop().await;
    b.stop().await;
}
