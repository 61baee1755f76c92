//! The demo over real HTTP: keys created through the admin API and the Guard API pass and
//! fail every case of the contract, and survive a restart on the same redb file.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;

use guard_axum::{CredentialFormat, Guard, NewKey};
use guard_tests::{ADMIN_SECRET, TestServer, client, create_key, raw_request};
use serde_json::{Value, json};

fn guard(db: &Path) -> Guard {
    Guard::builder(&demo::POLICY).database(db).admin_secret(ADMIN_SECRET).build().unwrap()
}

async fn get(client: &reqwest::Client, url: String, key: Option<&str>) -> (u16, String) {
    let mut request = client.get(url);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn protected_requests_end_to_end_and_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("guard.redb");
    let client = client();

    let guard = guard(&db);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();

    // Keys through the admin API...
    let (status, admin) =
        create_key(&client, &server, json!({"name": "ops", "roles": ["admin"]})).await.unwrap();
    assert_eq!(status, 201, "{admin}");
    let admin_key = admin["key"].as_str().unwrap().to_owned();
    assert!(admin_key.starts_with(&format!("gk_{}_", admin["id"].as_str().unwrap())));
    assert_eq!(admin["roles"], json!(["admin"]));
    assert_eq!(admin["never_expires"], json!(false));
    let (_, viewer) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
    let viewer_key = viewer["key"].as_str().unwrap().to_owned();
    // ...and through the Guard API.
    let plain = guard.create_key(NewKey::default()).unwrap();
    let plain_key = plain.key.expose().to_owned();

    // Public route.
    assert_eq!(get(&client, server.url("/"), None).await.0, 200);

    // #[api_key]: any valid key, from the header or the query.
    for key in [&admin_key, &viewer_key, &plain_key] {
        assert_eq!(get(&client, server.url("/secure"), Some(key)).await.0, 200);
        let (status, _) = get(&client, server.url(&format!("/secure?api-key={key}")), None).await;
        assert_eq!(status, 200);
    }

    // #[protected(roles = "admin")]: 401 without credentials, 403 without the role.
    let missing = client.get(server.url("/admin")).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"].to_str().unwrap().contains("X-API-Key"));
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
    assert_eq!(get(&client, server.url("/admin"), Some(&viewer_key)).await.0, 403);
    assert_eq!(get(&client, server.url("/admin"), Some(&plain_key)).await.0, 403);
    let (status, text) = get(&client, server.url("/admin"), Some(&admin_key)).await;
    assert_eq!((status, text.as_str()), (200, "hello ops, you are an admin\n"));
    let forbidden: Value =
        serde_json::from_str(&get(&client, server.url("/admin"), Some(&viewer_key)).await.1)
            .unwrap();
    assert_eq!(forbidden["error"], "forbidden");

    // #[protected]: the principal as JSON.
    let (status, me) = get(&client, server.url("/me"), Some(&admin_key)).await;
    assert_eq!(status, 200);
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["name"], "ops");
    assert_eq!(me["kind"], "api_key");
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(get(&client, server.url("/me"), None).await.0, 401);

    // The admin API needs the secret; unknown roles are refused.
    let no_secret = client.post(server.url("/auth/keys")).json(&json!({})).send().await.unwrap();
    assert_eq!(no_secret.status(), 401);
    let wrong_secret = client
        .post(server.url("/auth/keys"))
        .header("x-admin-secret", "not-the-secret-at-all")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let (status, body) = create_key(&client, &server, json!({"roles": ["admn"]})).await.unwrap();
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("admn"), "{body}");

    // Restart on the same file: the keys still work, the plaintext was never stored.
    server.stop().await.unwrap();
    drop(guard);
    let file = std::fs::read(&db).unwrap();
    for key in [&admin_key, &viewer_key, &plain_key] {
        assert!(!file.windows(key.len()).any(|w| w == key.as_bytes()), "plaintext key on disk");
    }
    let guard = self::guard(&db);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    assert_eq!(get(&client, server.url("/admin"), Some(&admin_key)).await.0, 200);
    assert_eq!(get(&client, server.url("/admin"), Some(&viewer_key)).await.0, 403);
    assert_eq!(get(&client, server.url("/secure"), Some(&plain_key)).await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_malformed_or_unknown_key_gets_the_same_401() {
    let dir = tempfile::tempdir().unwrap();
    let guard = guard(&dir.path().join("guard.redb"));
    let valid = guard.create_key(NewKey::default()).unwrap().key.expose().to_owned();
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();

    let (status, reference) = get(&client, server.url("/secure"), Some("gk_nope")).await;
    assert_eq!(status, 401);

    let mut bad_checksum = valid.clone().into_bytes();
    let last = bad_checksum.len() - 1;
    bad_checksum[last] = if bad_checksum[last] == b'0' { b'1' } else { b'0' };
    let bad_checksum = String::from_utf8(bad_checksum).unwrap();
    let unknown = CredentialFormat::default().generate().unwrap().plaintext;
    let cases = [
        valid.replacen("gk_", "xx_", 1),                      // wrong prefix
        format!("{valid}0"),                                  // wrong length
        valid[..valid.len() - 1].to_owned(),                  // wrong length
        valid.replacen(|c: char| c.is_ascii_digit(), "-", 1), // not base62
        bad_checksum,                                         // typo caught by the checksum
        unknown,                                              // well-formed, not issued here
        "a".repeat(16 * 1024),                                // 16 KiB header value
    ];
    for case in &cases {
        let (status, body) = get(&client, server.url("/secure"), Some(case)).await;
        assert_eq!((status, &body), (401, &reference), "{}", &case[..case.len().min(80)]);
    }

    // The parameter twice, even with a valid key.
    let (status, body) =
        get(&client, server.url(&format!("/secure?api-key={valid}&api-key={valid}")), None).await;
    assert_eq!((status, &body), (401, &reference));
    // Header and query at once.
    let (status, body) =
        get(&client, server.url(&format!("/secure?api-key={valid}")), Some(&valid)).await;
    assert_eq!((status, &body), (401, &reference));

    // Raw requests: the header in any case, twice, or with non-UTF-8 bytes.
    let addr = server.addr();
    let head = format!("GET /secure HTTP/1.1\r\nHost: x\r\nX-API-KEY: {valid}");
    assert_eq!(raw_request(addr, head.as_bytes()).await.unwrap().0, 200);
    let head = format!("GET /secure HTTP/1.1\r\nHost: x\r\nx-Api-kEy: {valid}");
    assert_eq!(raw_request(addr, head.as_bytes()).await.unwrap().0, 200);
    let head =
        format!("GET /secure HTTP/1.1\r\nHost: x\r\nX-API-Key: {valid}\r\nX-API-Key: {valid}");
    assert_eq!(raw_request(addr, head.as_bytes()).await.unwrap(), (401, reference.clone()));
    let mut head = b"GET /secure HTTP/1.1\r\nHost: x\r\nX-API-Key: gk_".to_vec();
    head.extend_from_slice(&[0xff, 0xfe, 0x80, 0xc3]);
    head.extend_from_slice(&valid.as_bytes()[7..]);
    assert_eq!(raw_request(addr, &head).await.unwrap(), (401, reference.clone()));

    // Still serving.
    assert_eq!(get(&client, server.url("/secure"), Some(&valid)).await.0, 200);
    server.stop().await.unwrap();
}

#[test]
fn corrupt_or_foreign_database_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.redb");
    std::fs::write(&garbage, b"this is not a database, just some bytes".repeat(200)).unwrap();
    let error = Guard::builder(&demo::POLICY).database(&garbage).build().unwrap_err();
    let message = error.to_string();
    assert!(message.contains("cannot open the guard database"), "{message}");
    assert!(message.contains("garbage.redb"), "{message}");
}

#[tokio::test]
async fn reports_need_the_permission_and_notes_their_owner_or_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let guard = guard(&dir.path().join("guard.redb"));
    let key = |name: &str, roles: &[&str]| {
        let roles = roles.iter().map(|r| r.to_string()).collect();
        let new = NewKey { name: Some(name.into()), roles, ..NewKey::default() };
        let created = guard.create_key(new).unwrap();
        (created.info.id, created.key.expose().to_owned())
    };
    let (_, ann) = key("ann", &["viewer"]);
    let (bob_id, bob) = key("bob", &[]);
    let (_, root) = key("root", &["admin"]);
    // A second key with bob's display name is not bob: ownership goes by id.
    let (_, impostor) = key("bob", &[]);
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    let client = client();

    let reports = server.url("/reports");
    assert_eq!(
        get(&client, reports.clone(), Some(&ann)).await,
        (200, "reports for ann: all green\n".into())
    );
    assert_eq!(
        get(&client, reports.clone(), Some(&root)).await.0,
        200,
        "admin inherits view_reports"
    );
    assert_eq!(get(&client, reports.clone(), Some(&bob)).await.0, 403);
    assert_eq!(get(&client, reports, None).await.0, 401);

    let notes = server.url(&format!("/notes/{bob_id}"));
    assert_eq!(
        get(&client, notes.clone(), Some(&bob)).await,
        (200, format!("notes of {bob_id}\n"))
    );
    assert_eq!(get(&client, notes.clone(), Some(&impostor)).await.0, 403);
    assert_eq!(get(&client, notes.clone(), Some(&ann)).await.0, 403);
    assert_eq!(get(&client, notes.clone(), Some(&root)).await.0, 200, "admins read anyone's");
    assert_eq!(get(&client, notes, None).await.0, 401);
    server.stop().await.unwrap();
}
