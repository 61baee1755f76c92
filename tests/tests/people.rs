//! People and the chain over real HTTP: the order of the five credential kinds, invalid
//! credentials never falling through, disabling or deleting a user ending everything it
//! holds, owned keys, HTTP Basic, login throttling, the password pool under a flood, and
//! malformed credentials of every kind.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::net::IpAddr;

use base64::Engine;
use guard_axum::guard_core::credentials::jwt::{JwtConfig, JwtKey};
use guard_axum::guard_core::credentials::password::PasswordConfig;
use guard_tests::{
    NOW, TestServer, admin, client, client_from, create_key, create_user, login, raw_request,
    start_demo, token,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &[u8] = b"a shared HS256 secret of at least 32 bytes";

fn basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

fn jwt_for(sub: &str) -> String {
    let claims = json!({"sub": sub, "exp": NOW + 600, "roles": ["viewer"]});
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET))
        .unwrap()
}

/// `GET /auth/me` with these headers: status, and the principal's (kind, name).
async fn who(
    client: &reqwest::Client,
    server: &TestServer,
    headers: &[(&str, String)],
) -> (u16, Option<(String, String)>) {
    let mut request = client.get(server.url("/auth/me"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let principal = body["kind"]
        .as_str()
        .map(|kind| (kind.to_owned(), body["name"].as_str().unwrap_or("").to_owned()));
    (status, principal)
}

fn kind(k: &str, name: &str) -> Option<(String, String)> {
    Some((k.to_owned(), name.to_owned()))
}

#[tokio::test]
async fn five_credential_kinds_in_position_order_and_no_fall_through() {
    let (_dir, _clock, _guard, server) =
        start_demo(|b| b.jwt(JwtConfig::new(JwtKey::Hs256(SECRET.to_vec()))).basic_auth()).await;
    let client = client();
    for name in ["keyed", "tokened", "sessioned", "basic"] {
        create_user(&client, &server, name, "correct horse battery", &["viewer"]).await.unwrap();
    }
    let (_, key) = create_key(&client, &server, json!({"name": "keyed"})).await.unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let (_, tokened) = token(&client, &server, "tokened", "correct horse battery").await.unwrap();
    let bearer = format!("Bearer {}", tokened["access_token"].as_str().unwrap());
    let (_, cookie, _) =
        login(&client, &server, "sessioned", "correct horse battery").await.unwrap();
    let cookie = cookie.unwrap();
    let jwt = format!("Bearer {}", jwt_for("elsewhere-9"));
    let basic = basic("basic", "correct horse battery");

    // API key (100) < bearer (200) < JWT (250) < session (300) < Basic (400).
    let key_h = ("x-api-key", key.clone());
    let cookie_h = ("cookie", cookie.clone());
    assert_eq!(
        who(
            &client,
            &server,
            &[key_h.clone(), ("authorization", bearer.clone()), cookie_h.clone()]
        )
        .await,
        (200, kind("api_key", "keyed"))
    );
    assert_eq!(
        who(&client, &server, &[("authorization", bearer.clone()), cookie_h.clone()]).await,
        (200, kind("token", "tokened"))
    );
    assert_eq!(
        who(&client, &server, &[("authorization", jwt.clone()), cookie_h.clone()]).await,
        (200, kind("jwt", "elsewhere-9"))
    );
    assert_eq!(
        who(&client, &server, &[cookie_h.clone(), ("authorization", basic.clone())]).await,
        (200, kind("session", "sessioned"))
    );
    assert_eq!(
        who(&client, &server, &[("authorization", basic.clone())]).await,
        (200, kind("user", "basic"))
    );

    // Invalid credentials stop the chain, whatever valid ones come after.
    let bad_key = ("x-api-key", "gk_broken".to_owned());
    assert_eq!(
        who(&client, &server, &[bad_key, ("authorization", bearer.clone()), cookie_h.clone()])
            .await
            .0,
        401
    );
    assert_eq!(
        who(&client, &server, &[("authorization", "Bearer gt_broken".into()), cookie_h.clone()])
            .await
            .0,
        401
    );
    let tampered_jwt = format!("{}x", jwt);
    assert_eq!(
        who(&client, &server, &[("authorization", tampered_jwt), cookie_h.clone()]).await.0,
        401
    );
    assert_eq!(
        who(
            &client,
            &server,
            &[("cookie", "guard_session=gs_broken".into()), ("authorization", basic.clone())]
        )
        .await
        .0,
        401
    );
    assert_eq!(
        who(&client, &server, &[("authorization", basic.replace("Basic ", "Basic x"))]).await.0,
        401
    );
    // A credential of the wrong kind in a place is as invalid as any other.
    let session_value = cookie.split_once('=').unwrap().1.to_owned();
    assert_eq!(
        who(&client, &server, &[("authorization", format!("Bearer {session_value}"))]).await.0,
        401
    );
    let token_value = bearer.trim_start_matches("Bearer ").to_owned();
    assert_eq!(
        who(&client, &server, &[("cookie", format!("guard_session={token_value}"))]).await.0,
        401
    );
    assert_eq!(who(&client, &server, &[("x-api-key", token_value)]).await.0, 401);
    // Nothing at all: 401 with every challenge.
    let anonymous = client.get(server.url("/auth/me")).send().await.unwrap();
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.starts_with("ApiKey")
            && challenge.contains("Bearer")
            && challenge.contains("Basic realm="),
        "{challenge}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn disabling_a_user_ends_sessions_tokens_jwts_and_keys_at_once() {
    let config = JwtConfig::new(JwtKey::Hs256(SECRET.to_vec()));
    let (_dir, _clock, guard, server) = start_demo(|b| b.jwt(config)).await;
    let client = client();
    let (_, ann) =
        create_user(&client, &server, "ann", "correct horse battery", &["editor"]).await.unwrap();
    let id = ann["id"].as_str().unwrap().to_owned();
    let (_, cookie, _) = login(&client, &server, "ann", "correct horse battery").await.unwrap();
    let cookie = cookie.unwrap();
    let (_, issued) = token(&client, &server, "ann", "correct horse battery").await.unwrap();
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
    let jwt = format!("Bearer {}", jwt_for(&id));
    let (status, owned) =
        create_key(&client, &server, json!({"owner": id, "roles": ["viewer"]})).await.unwrap();
    assert_eq!(status, 201, "{owned}");
    assert_eq!(owned["owner"], id.as_str());
    let key = owned["key"].as_str().unwrap().to_owned();
    let credentials = [
        ("cookie", cookie.clone()),
        ("authorization", bearer.clone()),
        ("authorization", jwt.clone()),
        ("x-api-key", key.clone()),
    ];
    for credential in &credentials {
        assert_eq!(
            who(&client, &server, std::slice::from_ref(credential)).await.0,
            200,
            "{}",
            credential.0
        );
    }

    let path = format!("/auth/users/{id}");
    assert_eq!(
        admin(&client, &server, Method::PATCH, &path, Some(json!({"disabled": true})))
            .await
            .unwrap()
            .0,
        200
    );
    for credential in &credentials {
        assert_eq!(
            who(&client, &server, std::slice::from_ref(credential)).await.0,
            401,
            "{} after disabling",
            credential.0
        );
    }
    // Its key cannot be renewed while the owner is disabled: the answer would show an active
    // key that is refused.
    let renew = format!("/auth/keys/{}/renew", owned["id"].as_str().unwrap());
    let (status, body) = admin(&client, &server, Method::POST, &renew, None).await.unwrap();
    assert_eq!((status, body["error"].as_str()), (409, Some("owner_disabled")), "{body}");
    assert_eq!(who(&client, &server, &[("x-api-key", key.clone())]).await.0, 401);
    // Enabled again, the user may log in, but what it held stays ended.
    admin(&client, &server, Method::PATCH, &path, Some(json!({"disabled": false}))).await.unwrap();
    assert_eq!(who(&client, &server, &[("cookie", cookie)]).await.0, 401);
    assert_eq!(who(&client, &server, &[("authorization", bearer)]).await.0, 401);
    assert_eq!(
        who(&client, &server, &[("x-api-key", key.clone())]).await.0,
        401,
        "its key was revoked"
    );
    assert_eq!(
        who(&client, &server, &[("authorization", jwt.clone())]).await.0,
        200,
        "a JWT follows its user"
    );
    assert_eq!(login(&client, &server, "ann", "correct horse battery").await.unwrap().0, 200);
    // Renewed now, the key works again, as its answer says.
    let (status, body) = admin(&client, &server, Method::POST, &renew, None).await.unwrap();
    assert_eq!((status, body["state"].as_str()), (200, Some("active")), "{body}");
    assert_eq!(who(&client, &server, &[("x-api-key", key.clone())]).await.0, 200);

    // Deleting the user deletes its keys.
    let key_id = owned["id"].as_str().unwrap();
    assert_eq!(admin(&client, &server, Method::DELETE, &path, None).await.unwrap().0, 204);
    assert_eq!(
        admin(&client, &server, Method::GET, &format!("/auth/keys/{key_id}"), None)
            .await
            .unwrap()
            .0,
        404
    );
    assert_eq!(
        who(&client, &server, &[("authorization", jwt)]).await.0,
        200,
        "a JWT of a user no longer here is an outsider's"
    );
    drop(guard);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn owned_keys_hold_no_more_than_their_owner() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b).await;
    let client = client();
    let (_, ann) =
        create_user(&client, &server, "ann", "correct horse battery", &["editor", "viewer"])
            .await
            .unwrap();
    let id = ann["id"].as_str().unwrap();
    let (status, body) =
        create_key(&client, &server, json!({"owner": id, "roles": ["admin"]})).await.unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("admin"));
    let (status, _) = create_key(&client, &server, json!({"owner": "AAAAAAAAAAAA"})).await.unwrap();
    assert_eq!(status, 422, "no such owner");
    let (_, key) =
        create_key(&client, &server, json!({"owner": id, "roles": ["editor", "viewer"]}))
            .await
            .unwrap();
    let (key_id, key) =
        (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned());
    // Fewer roles for the owner: fewer for its key.
    admin(
        &client,
        &server,
        Method::PATCH,
        &format!("/auth/users/{id}"),
        Some(json!({"roles": ["viewer"]})),
    )
    .await
    .unwrap();
    let (_, info) =
        admin(&client, &server, Method::GET, &format!("/auth/keys/{key_id}"), None).await.unwrap();
    assert_eq!(info["roles"], json!(["viewer"]));
    let (status, me) = who(&client, &server, &[("x-api-key", key)]).await;
    assert_eq!(status, 200, "{me:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn basic_is_off_by_default_and_throttled_when_on() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b).await;
    let client = client();
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let response = client
        .get(server.url("/auth/me"))
        .header("authorization", basic("ann", "correct horse battery"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "off: Basic is not read");
    assert!(!response.headers()["www-authenticate"].to_str().unwrap().contains("Basic"));
    server.stop().await.unwrap();

    let (_dir, _clock, _guard, server) = start_demo(|b| b.basic_auth()).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    assert_eq!(
        who(&client, &server, &[("authorization", basic("ann", "correct horse battery"))]).await,
        (200, kind("user", "ann"))
    );
    for _ in 0..5 {
        assert_eq!(who(&client, &server, &[("authorization", basic("ann", "wrong"))]).await.0, 401);
    }
    let limited = client
        .get(server.url("/auth/me"))
        .header("authorization", basic("ann", "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let right = client
        .get(server.url("/auth/me"))
        .header("authorization", basic("ann", "correct horse battery"))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429, "while limited, the same answer, even with the right password");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn basic_credentials_a_browser_sends_by_itself_cannot_change_things_from_another_site() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b.basic_auth()).await;
    let client = client();
    create_user(&client, &server, "ann", "correct horse battery", &["admin"]).await.unwrap();
    let create_key = |origin: Option<&'static str>| {
        let mut request = client
            .post(server.url("/auth/keys"))
            .header("authorization", basic("ann", "correct horse battery"))
            .json(&json!({"name": "from-basic"}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(create_key(Some("http://evil.test")).await, 403, "another site");
    let (_, keys) = admin(&client, &server, Method::GET, "/auth/keys", None).await.unwrap();
    assert_eq!(keys["total"], 0, "nothing was created");
    // A client that is not a browser says nothing about where it comes from: admitted.
    assert_eq!(create_key(None).await, 201);
    // Reading from another site changes nothing: admitted.
    assert_eq!(
        who(
            &client,
            &server,
            &[
                ("authorization", basic("ann", "correct horse battery")),
                ("origin", "http://evil.test".into())
            ]
        )
        .await
        .0,
        200
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn throttling_slows_attackers_without_locking_out_the_owner() {
    let (_dir, clock, _guard, server) = start_demo(|b| b).await;
    let owner = client_from(IpAddr::from([127, 0, 0, 2]));
    create_user(&owner, &server, "ann", "correct horse battery", &[]).await.unwrap();
    assert_eq!(
        login(&owner, &server, "ann", "correct horse battery").await.unwrap().0,
        200,
        "the owner's address is known"
    );

    // One attacker: five free failures, then 429 with Retry-After, the same answer for a
    // right and a wrong password, delays that grow.
    let attacker = client_from(IpAddr::from([127, 0, 0, 66]));
    for _ in 0..5 {
        assert_eq!(login(&attacker, &server, "ann", "guess").await.unwrap().0, 401);
    }
    let right = login(&attacker, &server, "ann", "correct horse battery").await.unwrap();
    assert_eq!((right.0, right.1.is_none()), (429, true), "five tried; the sixth waits");
    let form =
        [("grant_type", "password"), ("username", "ann"), ("password", "correct horse battery")];
    let via_token = attacker.post(server.url("/auth/token")).form(&form).send().await.unwrap();
    assert_eq!(via_token.status(), 429, "the token endpoint counts the same failures");
    assert_eq!(via_token.headers()["retry-after"], "1");
    clock.advance(1);
    assert_eq!(login(&attacker, &server, "ann", "guess").await.unwrap().0, 401);
    let later = attacker.post(server.url("/auth/token")).form(&form).send().await.unwrap();
    assert_eq!(
        (later.status().as_u16(), later.headers()["retry-after"].to_str().unwrap()),
        (429, "2"),
        "the delay doubled"
    );

    // Many attackers, many addresses: the account slows for new addresses, not the owner's.
    for n in 0..30u8 {
        let attacker = client_from(IpAddr::from([127, 0, 1, n]));
        let _ = login(&attacker, &server, "ann", "guess").await.unwrap();
    }
    let newcomer = client_from(IpAddr::from([127, 0, 2, 1]));
    assert_eq!(login(&newcomer, &server, "ann", "correct horse battery").await.unwrap().0, 429);
    assert_eq!(
        login(&owner, &server, "ann", "correct horse battery").await.unwrap().0,
        200,
        "the owner is not locked out"
    );

    // Failures for a name nobody has do not block the user who later takes it.
    let prober = client_from(IpAddr::from([127, 0, 3, 1]));
    for _ in 0..10 {
        let _ = login(&prober, &server, "carol", "guess").await.unwrap();
    }
    assert_eq!(login(&prober, &server, "carol", "guess").await.unwrap().0, 429);
    create_user(&owner, &server, "carol", "carol's own password", &[]).await.unwrap();
    assert_eq!(login(&prober, &server, "carol", "carol's own password").await.unwrap().0, 200);
    server.stop().await.unwrap();
}

/// `POST /auth/login` with `X-Forwarded-For: forwarded`; the status.
async fn login_forwarded(
    client: &reqwest::Client,
    server: &TestServer,
    forwarded: &str,
    password: &str,
) -> u16 {
    let body = json!({"username": "ann", "password": password});
    let request = client.post(server.url("/auth/login")).json(&body);
    let request = request.header("origin", format!("http://{}", server.addr()));
    request.header("x-forwarded-for", forwarded).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_logins_are_throttled_per_forwarded_address() {
    let proxy_address = IpAddr::from([127, 0, 0, 10]);
    let (_dir, _clock, _guard, server) = start_demo(|b| b.trusted_proxies([proxy_address])).await;
    let proxy = client_from(proxy_address);
    create_user(&proxy, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let owner = "198.51.100.2";
    assert_eq!(login_forwarded(&proxy, &server, owner, "correct horse battery").await, 200);

    // An attacker behind the same proxy is limited at its own address, the one the proxy
    // appended, not the owner's, which it wrote itself...
    let attacker = "198.51.100.2, 203.0.113.66";
    for _ in 0..5 {
        assert_eq!(login_forwarded(&proxy, &server, attacker, "guess").await, 401);
    }
    assert_eq!(login_forwarded(&proxy, &server, attacker, "correct horse battery").await, 429);
    let form =
        [("grant_type", "password"), ("username", "ann"), ("password", "correct horse battery")];
    let token = |forwarded: &'static str| {
        let request = proxy.post(server.url("/auth/token")).form(&form);
        request.header("x-forwarded-for", forwarded).send()
    };
    assert_eq!(token("203.0.113.66").await.unwrap().status(), 429, "the token endpoint too");
    // ...and the owner, also behind it, is not.
    assert_eq!(login_forwarded(&proxy, &server, owner, "correct horse battery").await, 200);
    assert_eq!(token(owner).await.unwrap().status(), 200);

    // A client that is not the proxy cannot pass as the owner by writing the header.
    let direct = client_from(IpAddr::from([127, 0, 0, 11]));
    for _ in 0..5 {
        assert_eq!(login_forwarded(&direct, &server, owner, "guess").await, 401);
    }
    assert_eq!(login_forwarded(&direct, &server, owner, "correct horse battery").await, 429);
    assert_eq!(login_forwarded(&proxy, &server, owner, "correct horse battery").await, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn basic_behind_a_trusted_proxy_is_throttled_per_forwarded_address() {
    let proxy_address = IpAddr::from([127, 0, 0, 13]);
    let (_dir, _clock, _guard, server) =
        start_demo(|b| b.basic_auth().trusted_proxies([proxy_address])).await;
    let proxy = client_from(proxy_address);
    create_user(&proxy, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let from = |forwarded: &str, password: &str| {
        [("authorization", basic("ann", password)), ("x-forwarded-for", forwarded.to_owned())]
    };
    let (owner, attacker) = ("198.51.100.2", "203.0.113.66");
    assert_eq!(who(&proxy, &server, &from(owner, "correct horse battery")).await.0, 200);
    for _ in 0..5 {
        assert_eq!(who(&proxy, &server, &from(attacker, "wrong")).await.0, 401);
    }
    assert_eq!(who(&proxy, &server, &from(attacker, "correct horse battery")).await.0, 429);
    assert_eq!(who(&proxy, &server, &from(owner, "correct horse battery")).await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_not_believed() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b).await;
    let client = client_from(IpAddr::from([127, 0, 0, 12]));
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    for _ in 0..5 {
        assert_eq!(login_forwarded(&client, &server, "203.0.113.66", "guess").await, 401);
    }
    assert_eq!(
        login_forwarded(&client, &server, "198.51.100.2", "correct horse battery").await,
        429,
        "another X-Forwarded-For is the same address"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_flood_of_logins_queues_or_is_refused_and_other_requests_go_on() {
    let config = PasswordConfig::default().workers(1).queue(2);
    let (_dir, _clock, guard, server) = start_demo(|b| b.passwords(config)).await;
    let client = client();
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let key = guard.create_key(Default::default()).unwrap().key.expose().to_owned();
    let mut logins = tokio::task::JoinSet::new();
    for n in 0..24u8 {
        let client = client_from(IpAddr::from([127, 0, 4, n]));
        let url = server.url("/auth/login");
        logins.spawn(async move {
            let body = json!({"username": "ann", "password": "correct horse battery"});
            let response = client.post(url).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.headers().get("retry-after").is_some())
        });
    }
    // Meanwhile, a keyed request is served.
    let keyed = client.get(server.url("/secure")).header("x-api-key", &key).send().await.unwrap();
    assert_eq!(keyed.status(), 200);
    let mut statuses = Vec::new();
    while let Some(done) = logins.join_next().await {
        statuses.push(done.unwrap());
    }
    let served = statuses.iter().filter(|(s, _)| *s == 200).count();
    let refused = statuses.iter().filter(|(s, retry)| *s == 503 && *retry).count();
    assert!(served >= 1 && refused >= 1 && served + refused == 24, "{statuses:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_credentials_of_every_kind_are_a_401_not_a_panic() {
    let (_dir, _clock, _guard, server) =
        start_demo(|b| b.jwt(JwtConfig::new(JwtKey::Hs256(SECRET.to_vec()))).basic_auth()).await;
    let addr = server.addr();
    let heads: Vec<Vec<u8>> = vec![
        b"Cookie: guard_session=gs_\xff\xfe\x80".to_vec(),
        b"Cookie: \xff\xfe=\xfd; guard_session=x".to_vec(),
        b"Cookie: guard_session=a; guard_session=b".to_vec(),
        b"Authorization: Bearer \xff\xfe\x80".to_vec(),
        b"Authorization: Basic \xff\xfe".to_vec(),
        b"Authorization: Basic !!!notbase64".to_vec(),
        b"Authorization: Basic Zm9vYmFy".to_vec(),
        [b"Authorization: Basic ".as_slice(), &[b'A'; 8000]].concat(),
        b"Authorization: Bearer a.b.c".to_vec(),
        b"Authorization: Bearer ....".to_vec(),
        b"Authorization: Bearer".to_vec(),
        b"Authorization: Bearer x\r\nAuthorization: Bearer y".to_vec(),
    ];
    for head in heads {
        let request = [b"GET /auth/me HTTP/1.1\r\nHost: x\r\n".as_slice(), &head].concat();
        let (status, _) = raw_request(addr, &request).await.unwrap();
        assert_eq!(status, 401, "{}", String::from_utf8_lossy(&head));
    }
    let (status, _) =
        raw_request(addr, b"GET /auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Digest abc")
            .await
            .unwrap();
    assert_eq!(status, 401, "an unknown scheme is nobody's: anonymous");
    server.stop().await.unwrap();
}
