//! Bearer tokens and JWTs over real HTTP: the OAuth2 password grant and its errors,
//! revocation, lifetime; JWTs issued elsewhere (HS256, RS256, ES256) with every way one can be
//! wrong; `/auth/token` issuing JWTs; opaque tokens and JWTs never taken for each other.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use guard_axum::guard_core::credentials::jwt::{JwtConfig, JwtKey};
use guard_axum::{Guard, GuardBuilder, ManualClock};
use guard_tests::{NOW, TestServer, admin, client, create_user, start_demo, token};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &[u8] = b"a shared HS256 secret of at least 32 bytes";
const RS_PRIVATE: &[u8] = include_bytes!("../fixtures/rs256-private.pem");
const RS_PUBLIC: &[u8] = include_bytes!("../fixtures/rs256-public.pem");
const ES_PRIVATE: &[u8] = include_bytes!("../fixtures/es256-private.pem");
const ES_PUBLIC: &[u8] = include_bytes!("../fixtures/es256-public.pem");

async fn start(
    configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
) -> (tempfile::TempDir, ManualClock, Guard, TestServer, reqwest::Client) {
    let (dir, clock, guard, server) = start_demo(configure).await;
    (dir, clock, guard, server, client())
}

async fn me(client: &reqwest::Client, server: &TestServer, bearer: &str) -> (u16, Value) {
    let response = client.get(server.url("/auth/me")).bearer_auth(bearer).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), &claims, key).unwrap()
}

#[tokio::test]
async fn the_password_grant_issues_tokens_that_work_until_revoked_or_expired() {
    let (_dir, clock, _guard, server, client) = start(|b| b).await;
    let (_, ann) =
        create_user(&client, &server, "ann", "correct horse battery", &["admin"]).await.unwrap();

    let response = client
        .post(server.url("/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ann"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        (
            response.headers()["cache-control"].to_str().unwrap(),
            response.headers()["pragma"].to_str().unwrap()
        ),
        ("no-store", "no-cache")
    );
    let issued: Value = response.json().await.unwrap();
    assert_eq!(
        (issued["token_type"].as_str(), issued["expires_in"].as_i64()),
        (Some("bearer"), Some(3600))
    );
    let access = issued["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("gt_"), "{access}");

    let (status, who) = me(&client, &server, &access).await;
    assert_eq!(
        (status, who["kind"].as_str(), who["id"].as_str()),
        (200, Some("token"), ann["id"].as_str())
    );
    let admin_page = client.get(server.url("/admin")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(admin_page.text().await.unwrap(), "hello ann, you are an admin\n");

    // Lifetime: an hour.
    clock.advance(3599);
    assert_eq!(me(&client, &server, &access).await.0, 200);
    clock.advance(1);
    let expired = client.get(server.url("/auth/me")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(expired.status(), 401);
    assert!(expired.headers()["www-authenticate"].to_str().unwrap().contains("Bearer"));

    // Revocation (RFC 7009): the token ends; unknown tokens are not an error.
    let (_, fresh) = token(&client, &server, "ann", "correct horse battery").await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap().to_owned();
    let revoke = |token: String| {
        client.post(server.url("/auth/token/revoke")).form(&[("token", token)]).send()
    };
    assert_eq!(revoke(fresh.clone()).await.unwrap().status(), 200);
    assert_eq!(me(&client, &server, &fresh).await.0, 401);
    assert_eq!(revoke(fresh).await.unwrap().status(), 200, "again: still 200");
    assert_eq!(revoke("gt_garbage".into()).await.unwrap().status(), 200);
    let missing = client
        .post(server.url("/auth/token/revoke"))
        .form(&[("nothing", "here")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.json::<Value>().await.unwrap()["error"], "invalid_request");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn token_endpoint_errors_are_in_rfc_6749_form() {
    let (_dir, _clock, _guard, server, client) = start(|b| b).await;
    create_user(&client, &server, "ann", "correct horse battery", &[]).await.unwrap();
    let grant = |pairs: Vec<(&'static str, &'static str)>| {
        client.post(server.url("/auth/token")).form(&pairs).send()
    };
    type Case = (Vec<(&'static str, &'static str)>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![("grant_type", "password"), ("username", "ann"), ("password", "wrong password")],
            400,
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "nobody"),
                ("password", "wrong password"),
            ],
            400,
            "invalid_grant",
        ),
        (vec![("grant_type", "client_credentials")], 400, "unsupported_grant_type"),
        (vec![("username", "ann"), ("password", "correct horse battery")], 400, "invalid_request"),
        (vec![("grant_type", "password"), ("username", "ann")], 400, "invalid_request"),
    ];
    for (pairs, status, error) in cases {
        let response = grant(pairs.clone()).await.unwrap();
        assert_eq!(response.status(), status, "{pairs:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{pairs:?}");
        assert!(body["error_description"].is_string());
    }
    let json = client
        .post(server.url("/auth/token"))
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let refused = json.json::<Value>().await.unwrap();
    assert_eq!(refused["error"], "invalid_request");
    let said = refused["error_description"].as_str().unwrap();
    assert!(said.contains("must be a form") && !said.contains("JSON or"), "{said}");
    let huge = client
        .post(server.url("/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=password&username=ann&password={}", "p".repeat(1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 400, "over the body cap: still an OAuth2 error");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn jwts_issued_elsewhere_with_every_way_to_be_wrong() {
    let config = JwtConfig::new(JwtKey::Hs256(SECRET.to_vec()))
        .issuer("https://idp.test")
        .audience("guard-demo");
    let (_dir, _clock, _guard, server, client) = start(|b| b.jwt(config)).await;
    let key = EncodingKey::from_secret(SECRET);
    let claims = |extra: Value| {
        let mut claims = json!({"sub": "robot-7", "iss": "https://idp.test", "aud": "guard-demo", "exp": NOW + 600, "roles": ["editor", "wizard"]});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    // The test clock of the guard is NOW, the real one is not: tokens are dated by NOW.
    let valid = sign(Algorithm::HS256, &key, claims(json!({})));
    let (status, who) = me(&client, &server, &valid).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(
        (who["kind"].as_str(), who["id"].as_str(), &who["roles"]),
        (Some("jwt"), Some("robot-7"), &json!(["editor"])),
        "unknown roles ignored"
    );
    let reports = client.get(server.url("/reports")).bearer_auth(&valid).send().await.unwrap();
    assert_eq!(reports.status(), 200, "editor inherits view_reports");

    let forged = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        parts.join(".")
    };
    let none = format!(
        "{}.{}.",
        base64_url(&json!({"alg": "none", "typ": "JWT"})),
        base64_url(&claims(json!({})))
    );
    let wrong_key = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another secret of thirty-two bytes!!"),
        claims(json!({})),
    );
    let wrong = [
        ("expired", sign(Algorithm::HS256, &key, claims(json!({"exp": NOW - 120})))),
        ("not yet valid", sign(Algorithm::HS256, &key, claims(json!({"nbf": NOW + 120})))),
        (
            "another issuer",
            sign(Algorithm::HS256, &key, claims(json!({"iss": "https://evil.test"}))),
        ),
        ("another audience", sign(Algorithm::HS256, &key, claims(json!({"aud": "someone-else"})))),
        ("no exp", sign(Algorithm::HS256, &key, claims(json!({"exp": null})))),
        ("no sub", sign(Algorithm::HS256, &key, claims(json!({"sub": null})))),
        ("a wrong signature", forged),
        ("another key", wrong_key),
        ("alg none", none),
        (
            "RS256 though HS256 is configured",
            sign(
                Algorithm::RS256,
                &EncodingKey::from_rsa_pem(RS_PRIVATE).unwrap(),
                claims(json!({})),
            ),
        ),
        ("not a JWT", "not-a-jwt-at-all".to_owned()),
    ];
    let reference = client
        .get(server.url("/auth/me"))
        .bearer_auth("gt_nonsense")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (why, token) in wrong {
        let response = client.get(server.url("/auth/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 401, "{why}");
        assert_eq!(
            response.text().await.unwrap(),
            reference,
            "{why}: one body for every invalid credential"
        );
    }
    // Within the leeway (30 s by default), an expired token still passes.
    let just_expired = sign(Algorithm::HS256, &key, claims(json!({"exp": NOW - 10})));
    assert_eq!(me(&client, &server, &just_expired).await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn rs256_and_es256_and_no_algorithm_confusion() {
    let rs = JwtConfig::new(JwtKey::Rs256 { public: RS_PUBLIC.to_vec(), private: None });
    let (_dir, _clock, _guard, server, client) = start(|b| b.jwt(rs)).await;
    let claims = json!({"sub": "svc", "exp": NOW + 600, "roles": "viewer other"});
    let valid =
        sign(Algorithm::RS256, &EncodingKey::from_rsa_pem(RS_PRIVATE).unwrap(), claims.clone());
    let (status, who) = me(&client, &server, &valid).await;
    assert_eq!((status, &who["roles"]), (200, &json!(["viewer"])), "a space-separated roles claim");
    // The classic confusion: HS256, keyed with the RSA *public* key.
    let confused = sign(Algorithm::HS256, &EncodingKey::from_secret(RS_PUBLIC), claims.clone());
    assert_eq!(me(&client, &server, &confused).await.0, 401);
    server.stop().await.unwrap();

    let es = JwtConfig::new(JwtKey::Es256 { public: ES_PUBLIC.to_vec(), private: None });
    let (_dir, _clock, _guard, server, client) = start(|b| b.jwt(es)).await;
    let valid =
        sign(Algorithm::ES256, &EncodingKey::from_ec_pem(ES_PRIVATE).unwrap(), claims.clone());
    assert_eq!(me(&client, &server, &valid).await.0, 200);
    let rs_signed = sign(Algorithm::RS256, &EncodingKey::from_rsa_pem(RS_PRIVATE).unwrap(), claims);
    assert_eq!(me(&client, &server, &rs_signed).await.0, 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_token_endpoint_can_issue_jwts_which_end_with_their_user() {
    let config = JwtConfig::new(JwtKey::Es256 {
        public: ES_PUBLIC.to_vec(),
        private: Some(ES_PRIVATE.to_vec()),
    })
    .issuer("guard-demo");
    let (_dir, _clock, _guard, server, client) = start(|b| b.jwt(config).issue_jwts()).await;
    let (_, ann) =
        create_user(&client, &server, "ann", "correct horse battery", &["admin"]).await.unwrap();
    let (status, issued) = token(&client, &server, "ann", "correct horse battery").await.unwrap();
    assert_eq!(status, 200, "{issued}");
    let jwt = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt.split('.').count(), 3, "a JWT, not an opaque token");
    let (status, who) = me(&client, &server, &jwt).await;
    assert_eq!(
        (status, who["kind"].as_str(), who["id"].as_str()),
        (200, Some("jwt"), ann["id"].as_str())
    );

    // An opaque token is never taken for a JWT, nor the other way round.
    let opaque = format!("gt_{}", "A".repeat(60));
    let refused = client.get(server.url("/auth/me")).bearer_auth(&opaque).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    // Opaque tokens and JWTs share one scheme: it is offered once.
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(challenge.matches("Bearer").count(), 1, "{challenge}");
    let revoke = client
        .post(server.url("/auth/token/revoke"))
        .form(&[("token", jwt.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 400, "a JWT cannot be revoked");
    assert_eq!(revoke.json::<Value>().await.unwrap()["error"], "unsupported_token_type");

    // Disabling the user ends its JWTs at once; its current roles are what counts.
    let id = ann["id"].as_str().unwrap();
    admin(
        &client,
        &server,
        Method::PATCH,
        &format!("/auth/users/{id}"),
        Some(json!({"roles": ["viewer"]})),
    )
    .await
    .unwrap();
    let (_, who) = me(&client, &server, &jwt).await;
    assert_eq!(who["roles"], json!(["viewer"]));
    admin(
        &client,
        &server,
        Method::PATCH,
        &format!("/auth/users/{id}"),
        Some(json!({"disabled": true})),
    )
    .await
    .unwrap();
    assert_eq!(me(&client, &server, &jwt).await.0, 401);

    // Enabled again, the user's old JWT stays ended; a new one works.
    let path = format!("/auth/users/{id}");
    admin(&client, &server, Method::PATCH, &path, Some(json!({"disabled": false}))).await.unwrap();
    assert_eq!(me(&client, &server, &jwt).await.0, 401, "disabling ended it for good");
    let (_, issued) = token(&client, &server, "ann", "correct horse battery").await.unwrap();
    let second = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&client, &server, &second).await.0, 200);

    // A new password ends it.
    let (status, _) = admin(
        &client,
        &server,
        Method::PUT,
        &format!("/auth/users/{id}/password"),
        Some(json!({"password": "another horse battery"})),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(me(&client, &server, &second).await.0, 401, "a new password ends it");

    // Deleting the user ends it, whatever roles it claims.
    let (_, issued) = token(&client, &server, "ann", "another horse battery").await.unwrap();
    let third = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&client, &server, &third).await.0, 200);
    let (status, _) =
        admin(&client, &server, Method::DELETE, &format!("/auth/users/{id}"), None).await.unwrap();
    assert_eq!(status, 204);
    assert_eq!(me(&client, &server, &third).await.0, 401, "its user is gone");
    server.stop().await.unwrap();
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
