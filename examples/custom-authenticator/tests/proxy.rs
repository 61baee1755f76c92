//! The example over real HTTP: signed identities pass, forged ones stop the chain, and
//! requests without a forwarded identity fall through to API keys.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use custom_authenticator::{ProxySignature, app, guard};
use guard_axum::NewKey;
use guard_tests::{TestServer, client};

const KEY: [u8; 32] = [7; 32];

#[tokio::test]
async fn signed_identities_forged_ones_and_fall_through() {
    let dir = tempfile::tempdir().unwrap();
    let guard = guard(&dir.path().join("g.redb"), KEY).unwrap();
    let api_key = guard
        .create_key(NewKey {
            name: Some("robot".into()),
            roles: vec!["editor".into()],
            ..NewKey::default()
        })
        .unwrap()
        .key
        .expose()
        .to_owned();
    let server = TestServer::start(app(&guard)).await.unwrap();
    let client = client();
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let mut request = client.get(server.url(path));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let signed = |user: &str, roles: &str| {
        vec![
            ("x-forwarded-user", user.to_owned()),
            ("x-forwarded-roles", roles.to_owned()),
            ("x-proxy-signature", ProxySignature::sign(&KEY, user, roles)),
        ]
    };

    assert_eq!(get("/whoami", signed("ann", "viewer")).await, (200, "ann (Custom)\n".into()));
    assert_eq!(get("/edit", signed("ann", "editor")).await, (200, "ann may edit\n".into()));
    assert_eq!(get("/edit", signed("ann", "viewer")).await.0, 403);
    assert_eq!(
        get("/edit", signed("ann", "editor, ghost")).await.0,
        200,
        "undeclared roles grant nothing but do no harm"
    );

    // Forged: roles changed after signing, a signature from another key, no signature.
    let mut escalated = signed("ann", "viewer");
    escalated[1].1 = "editor".into();
    assert_eq!(get("/edit", escalated).await.0, 401);
    let mut other_key = signed("ann", "editor");
    other_key[2].1 = ProxySignature::sign(&[8; 32], "ann", "editor");
    assert_eq!(get("/edit", other_key).await.0, 401);
    assert_eq!(get("/whoami", vec![("x-forwarded-user", "ann".into())]).await.0, 401);

    // A forged identity is final: a valid API key alongside does not rescue it.
    let mut forged_with_key = signed("mallory", "editor");
    forged_with_key[2].1 = "00".repeat(32);
    forged_with_key.push(("x-api-key", api_key.clone()));
    assert_eq!(get("/whoami", forged_with_key).await.0, 401);

    // No forwarded identity: the API key authenticator decides.
    assert_eq!(get("/edit", vec![("x-api-key", api_key)]).await, (200, "robot may edit\n".into()));
    assert_eq!(get("/whoami", vec![]).await.0, 401);
    server.stop().await.unwrap();
}
