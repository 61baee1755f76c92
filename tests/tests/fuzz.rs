//! Randomised requests (proptest) against the demo over real HTTP on 127.0.0.1, with every
//! authenticator on (API key in header and query, bearer tokens, JWT, session cookie, Basic)
//! and trusted proxies: keys, tokens, JWTs, cookies, `Authorization`, `X-Forwarded-For`,
//! query strings and bodies drawn at random, near-valid ones included (a real key with one
//! character changed, a JWT signed with another key or none, a real user's name with a wrong
//! password).
//!
//! Properties: the server answers every request and never with a 500; a 503 says when to
//! retry; a guarded route answers 2xx only to a request that carried a valid credential,
//! and the admin routes never to these callers; every 401, 403 and 429 is the contract's JSON;
//! and nothing in the store changes. The admin API's bodies and parameters are fuzzed with the
//! admin secret: never a 500, and a refusal changes nothing.
//!
//! `FUZZ_CASES` sets the number of cases per property (2 000 and 500 by default; the longer run in
//! SECURITY.md is `FUZZ_CASES=1000000`).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use base64::Engine;
use guard_axum::guard_core::credentials::jwt::{JwtConfig, JwtKey};
use guard_tests::{ADMIN_SECRET, TestServer, client, create_key, create_user, login, start_demo};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Client, Method};
use serde_json::{Value, json};

const JWT_SECRET: &[u8] = b"the-fuzz-test-jwt-secret-of-32-bytes!";
const PASSWORD: &str = "correct horse battery";
/// Cases per property in CI (about 3 s for the hostile requests, 5 s for the admin calls).
const HOSTILE_CASES: u32 = 2_000;
const ADMIN_CASES: u32 = 500;

/// Cases per property: `FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        // Deterministic unless asked otherwise: a failure is reproduced by running again.
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14),
        ),
        ..Config::default()
    })
}

/// Real credentials, and what the fuzzer may mix them into.
#[derive(Debug, Clone)]
struct Known {
    /// A working key of a viewer.
    viewer_key: String,
    /// A revoked key.
    revoked_key: String,
    /// A working session cookie (`name=value`) and bearer token of the user `ann` (a viewer).
    cookie: String,
    token: String,
    /// A bearer token of ann's, revoked.
    revoked_token: String,
}

/// One request the fuzzer sends, and whether it carries a credential that works.
#[derive(Debug, Clone)]
struct Fuzzed {
    method: Method,
    path: String,
    query: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Option<(&'static str, Vec<u8>)>,
    valid: bool,
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    // What a header value may carry: visible ASCII, space, tab and obs-text.
    proptest::collection::vec(
        prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff, Just(b','), Just(b'=')],
        0..max,
    )
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}

/// A string one character away from `real`: changed, dropped or doubled.
fn near(real: String) -> impl Strategy<Value = String> {
    let len = real.len();
    (0..len, any::<u8>(), 0..3u8).prop_map(move |(at, byte, how)| {
        let mut chars: Vec<char> = real.chars().collect();
        let at = at.min(chars.len() - 1);
        match how {
            0 => {
                let replacement = char::from(b'0' + byte % 75);
                chars[at] = if chars[at] == replacement { '!' } else { replacement };
            }
            1 => {
                chars.remove(at);
            }
            _ => chars.insert(at, chars[at]),
        }
        chars.into_iter().collect()
    })
}

/// A JWT that must not be accepted: unsigned, signed with another key, or tampered with.
fn bad_jwt() -> impl Strategy<Value = String> {
    let claims = (
        text(12),
        proptest::option::of(any::<i64>()),
        proptest::option::of(prop_oneof![Just(json!(["admin"])), Just(json!("admin viewer"))]),
    );
    (claims, 0..4u8, proptest::collection::vec(any::<u8>(), 0..40)).prop_map(
        |((sub, exp, roles), how, junk)| {
            let mut claims = json!({"sub": sub, "exp": exp.unwrap_or(4_000_000_000)});
            if let Some(roles) = roles {
                claims["roles"] = roles;
            }
            let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            let payload = b64(claims.to_string().as_bytes());
            match how {
                0 => format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
                1 => {
                    let other = EncodingKey::from_secret(b"another-secret-entirely-32-bytes!!");
                    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &other).unwrap()
                }
                2 => {
                    // Signed right, then the claims replaced.
                    let key = EncodingKey::from_secret(JWT_SECRET);
                    let real = json!({"sub": "x", "exp": 4_000_000_000u64});
                    let signed =
                        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &real, &key).unwrap();
                    let parts: Vec<&str> = signed.split('.').collect();
                    format!("{}.{payload}.{}", parts[0], parts[2])
                }
                _ => format!("{}.{payload}.{}", b64(&junk), b64(&junk)),
            }
        },
    )
}

/// A value for a credential slot, and whether it works.
fn credential(real: Option<String>, fakes: Vec<String>) -> impl Strategy<Value = (Vec<u8>, bool)> {
    let fakes: Vec<BoxedStrategy<String>> =
        fakes.into_iter().map(|f| prop_oneof![Just(f.clone()), near(f)].boxed()).collect();
    let fake = proptest::strategy::Union::new(fakes);
    let mut options: Vec<BoxedStrategy<(Vec<u8>, bool)>> = vec![
        bytes(80).prop_map(|b| (b, false)).boxed(),
        fake.prop_map(|f| (f.into_bytes(), false)).boxed(),
    ];
    if let Some(real) = real {
        options.push(Just((real.clone().into_bytes(), true)).boxed());
        options.push(near(real).prop_map(|n| (n.into_bytes(), false)).boxed());
    }
    proptest::strategy::Union::new(options)
}

fn authorization(known: &Known) -> impl Strategy<Value = (Vec<u8>, bool)> {
    let basic = (prop_oneof![Just("ann".to_owned()), text(10)], text(12)).prop_map(|(u, p)| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        (format!("Basic {encoded}").into_bytes(), false)
    });
    let bearer = credential(Some(known.token.clone()), vec![known.revoked_token.clone()])
        .prop_map(|(t, valid)| ([b"Bearer ".as_slice(), &t].concat(), valid));
    prop_oneof![
        bearer,
        basic,
        bad_jwt().prop_map(|j| (format!("Bearer {j}").into_bytes(), false)),
        (prop_oneof![Just("Bearer"), Just("Basic"), Just("bearer"), Just("Digest")], bytes(60))
            .prop_map(|(scheme, b)| ([scheme.as_bytes(), b" ", &b].concat(), false)),
        bytes(60).prop_map(|b| (b, false)),
    ]
}

fn cookie(known: &Known) -> impl Strategy<Value = (Vec<u8>, bool)> {
    let (name, value) = known.cookie.split_once('=').unwrap();
    let (name, value) = (name.to_owned(), value.to_owned());
    let real = known.cookie.clone();
    prop_oneof![
        Just((real.clone().into_bytes(), true)),
        near(value.clone()).prop_map(move |v| (format!("{name}={v}").into_bytes(), false)),
        // Twice: a different value first, then the real one.
        Just((format!("guard_session=gs_x; {real}").into_bytes(), false)),
        bytes(80).prop_map(|b| (b, false)),
    ]
}

fn forwarded_for() -> impl Strategy<Value = Vec<u8>> {
    let hop = prop_oneof![
        any::<[u8; 4]>().prop_map(|a| std::net::Ipv4Addr::from(a).to_string()),
        any::<[u8; 16]>().prop_map(|a| format!("[{}]:443", std::net::Ipv6Addr::from(a))),
        text(8),
    ];
    proptest::collection::vec(hop, 0..6).prop_map(|hops| hops.join(", ").into_bytes())
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9]{12}".prop_map(String::from),
        "[A-Za-z0-9%._~-]{0,40}".prop_map(String::from),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("api-key"),
        Just("limit"),
        Just("offset"),
        Just("since"),
        Just("until"),
        Just("granularity"),
        Just("next"),
        Just("x"),
    ];
    let pair = (name, text(20)).prop_map(|(n, v)| {
        form_urlencoded::Serializer::new(String::new()).append_pair(n, &v).finish()
    });
    proptest::collection::vec(pair, 0..4).prop_map(|pairs| pairs.join("&"))
}

/// Random JSON, shaped like the admin API's bodies often enough to get past the parser.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text(20).prop_map(Value::String),
        prop_oneof![Just("admin"), Just("viewer"), Just("ann"), Just("2030-01-01T00:00:00Z")]
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let field = prop_oneof![
            Just("name"),
            Just("roles"),
            Just("owner"),
            Just("password"),
            Just("disabled"),
            Just("ttl_days"),
            Just("expires_at"),
            Just("never_expires"),
            Just("rate_limit"),
            Just("requests"),
            Just("per_seconds"),
            Just("username"),
            Just("grant_type"),
        ]
        .prop_map(String::from);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(prop_oneof![field, text(6)], inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<(&'static str, Vec<u8>)>> {
    proptest::option::of(prop_oneof![
        json_value().prop_map(|v| ("application/json", v.to_string().into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| ("application/json", b)),
        query().prop_map(|q| ("application/x-www-form-urlencoded", q.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| ("text/plain", b)),
    ])
}

/// A hostile request: any method, route and mix of credentials, never the admin secret.
fn fuzzed(known: &Known) -> impl Strategy<Value = Fuzzed> {
    let path = prop_oneof![
        Just("/".to_owned()),
        Just("/secure".to_owned()),
        Just("/admin".to_owned()),
        Just("/me".to_owned()),
        Just("/dashboard".to_owned()),
        Just("/reports".to_owned()),
        segment().prop_map(|s| format!("/notes/{s}")),
        Just("/auth/me".to_owned()),
        Just("/auth/keys".to_owned()),
        Just("/auth/users".to_owned()),
        Just("/auth/roles".to_owned()),
        segment().prop_map(|s| format!("/auth/keys/{s}")),
        segment().prop_map(|s| format!("/auth/keys/{s}/renew")),
        segment().prop_map(|s| format!("/auth/keys/{s}/usage")),
        segment().prop_map(|s| format!("/auth/users/{s}")),
        Just("/auth/login".to_owned()),
        Just("/auth/logout".to_owned()),
        Just("/auth/token".to_owned()),
        Just("/auth/token/revoke".to_owned()),
        segment().prop_map(|s| format!("/{s}")),
    ];
    let method = prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PATCH),
        Just(Method::DELETE),
        Just(Method::PUT),
    ];
    let key = credential(Some(known.viewer_key.clone()), vec![known.revoked_key.clone()]);
    let headers = (
        proptest::option::of(key),
        proptest::option::of(authorization(known)),
        proptest::option::of(cookie(known)),
        proptest::option::of(forwarded_for()),
        proptest::option::of(prop_oneof![Just(b"null".to_vec()), bytes(40)]),
        proptest::option::of(bytes(40)),
    );
    (method, path, query(), headers, body()).prop_map(
        |(method, path, query, (key, auth, cookie, xff, origin, admin), body)| {
            let mut headers = Vec::new();
            let mut valid = false;
            for (name, slot) in [("x-api-key", key), ("authorization", auth), ("cookie", cookie)] {
                if let Some((value, works)) = slot {
                    valid |= works;
                    headers.push((name, value));
                }
            }
            if let Some(xff) = xff {
                headers.push(("x-forwarded-for", xff));
            }
            if let Some(origin) = origin {
                headers.push(("origin", origin));
            }
            if let Some(admin) = admin {
                // Never the real secret: it is 28 characters, these at most 40 random bytes.
                headers.push(("x-admin-secret", admin));
            }
            Fuzzed { method, path, query, headers, body, valid }
        },
    )
}

async fn send(
    client: &Client,
    server: &TestServer,
    request: &Fuzzed,
) -> Option<(u16, String, bool)> {
    let url = if request.query.is_empty() {
        server.url(&request.path)
    } else {
        format!("{}?{}", server.url(&request.path), request.query)
    };
    let mut builder = client.request(request.method.clone(), url);
    for (name, value) in &request.headers {
        // Values reqwest refuses (it checks as hyper would) cannot be sent at all.
        let value = reqwest::header::HeaderValue::from_bytes(value).ok()?;
        builder = builder.header(*name, value);
    }
    if let Some((content_type, body)) = &request.body {
        builder = builder.header("content-type", *content_type).body(body.clone());
    }
    let response = builder.send().await.unwrap();
    let status = response.status().as_u16();
    let retry = response.headers().contains_key("retry-after");
    Some((status, response.text().await.unwrap(), retry))
}

/// The keys and users as the admin API lists them: what must not change.
async fn snapshot(client: &Client, server: &TestServer) -> (Value, Value) {
    let get = |path: &'static str| {
        let request = client.get(server.url(path)).header("x-admin-secret", ADMIN_SECRET);
        async move {
            let text = request.send().await.unwrap().text().await.unwrap();
            serde_json::from_str::<Value>(&text).unwrap_or_else(|_| panic!("{path}: {text}"))
        }
    };
    let keys = get("/auth/keys?limit=1000").await;
    let keys = keys["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{keys}"))
        .iter()
        .map(|k| json!([k["id"], k["state"], k["roles"], k["expires_at"], k["rate_limit"]]))
        .collect();
    let users = get("/auth/users?limit=1000").await["users"].clone();
    (Value::Array(keys), users)
}

fn guarded(path: &str) -> bool {
    ["/secure", "/admin", "/me", "/dashboard", "/reports", "/notes/", "/auth/me", "/auth/keys"]
        .iter()
        .any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)))
        || path.starts_with("/auth/keys/")
        || path.starts_with("/auth/users")
        || path == "/auth/roles"
}

fn admin_only(path: &str) -> bool {
    path == "/admin" || path.starts_with("/auth/keys") || path.starts_with("/auth/users")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn hostile_requests_are_refused_and_change_nothing() {
    let rt = runtime();
    let (_dir, _clock, _guard, server) = rt.block_on(start_demo(|b| {
        b.jwt(JwtConfig::new(JwtKey::Hs256(JWT_SECRET.to_vec())))
            .basic_auth()
            .trusted_proxies(["127.0.0.2/32".parse::<ipnet::IpNet>().unwrap()])
    }));
    let client = client();
    // The hostile requests come from 127.0.0.2, a trusted proxy (so `X-Forwarded-For` is
    // read), and their wrong admin secrets are throttled there, not for the administrator.
    // Connections are kept: a long run would otherwise use up the ephemeral ports.
    let hostile = Client::builder().local_address("127.0.0.2".parse().ok()).build().unwrap();
    let known = rt.block_on(async {
        let (_, viewer) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
        let (_, revoked) = create_key(&client, &server, json!({"roles": ["admin"]})).await.unwrap();
        let id = revoked["id"].as_str().unwrap();
        let revoke = client
            .post(server.url(&format!("/auth/keys/{id}/revoke")))
            .header("x-admin-secret", ADMIN_SECRET);
        assert_eq!(revoke.send().await.unwrap().status(), 200);
        create_user(&client, &server, "ann", PASSWORD, &["viewer"]).await.unwrap();
        let (_, cookie, _) = login(&client, &server, "ann", PASSWORD).await.unwrap();
        let (_, token) = guard_tests::token(&client, &server, "ann", PASSWORD).await.unwrap();
        let (_, revoked_token) =
            guard_tests::token(&client, &server, "ann", PASSWORD).await.unwrap();
        let revoked_token = revoked_token["access_token"].as_str().unwrap().to_owned();
        let revoke =
            client.post(server.url("/auth/token/revoke")).form(&[("token", &revoked_token)]);
        assert_eq!(revoke.send().await.unwrap().status(), 200);
        Known {
            revoked_token,
            viewer_key: viewer["key"].as_str().unwrap().to_owned(),
            revoked_key: revoked["key"].as_str().unwrap().to_owned(),
            cookie: cookie.unwrap(),
            token: token["access_token"].as_str().unwrap().to_owned(),
        }
    });
    let before = rt.block_on(snapshot(&client, &server));
    let sent = std::cell::Cell::new(0u64);
    let mut runner = runner(HOSTILE_CASES);
    let result = runner.run(&fuzzed(&known), |request| {
        let Some((status, body, retry)) = rt.block_on(send(&hostile, &server, &request)) else {
            return Ok(());
        };
        sent.set(sent.get() + 1);
        let context = || format!("{request:?} → {status} {body}");
        prop_assert!(status != 500, "{}", context());
        prop_assert!(status != 503 || retry, "a 503 without Retry-After: {}", context());
        if (200..300).contains(&status) && guarded(&request.path) {
            prop_assert!(request.valid, "admitted without a valid credential: {}", context());
            prop_assert!(!admin_only(&request.path), "a viewer on an admin route: {}", context());
        }
        if matches!(status, 401 | 403 | 429) && !request.path.starts_with("/auth/token") {
            let parsed: Value = serde_json::from_str(&body)
                .map_err(|_| TestCaseError::fail(format!("not JSON: {}", context())))?;
            prop_assert!(parsed["error"].is_string(), "{}", context());
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let after = rt.block_on(snapshot(&client, &server));
    assert_eq!(before, after, "hostile requests changed the store");
    let sent = sent.get();
    assert!(sent > u64::from(cases(HOSTILE_CASES)) / 2, "most cases were sent: {sent}");
    eprintln!("hostile requests: {sent} sent, none admitted without a credential");
}

/// A body of the admin API's fields, each with a plausible value or a random one, so that
/// calls get past the parser and into the checks.
fn shaped_body(user: String, fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let field = move |name: &'static str| -> BoxedStrategy<(String, Value)> {
        let plausible: BoxedStrategy<Value> = match name {
            "name" => {
                prop_oneof![text(12).prop_map(Value::from), "[a-z]{1,8}".prop_map(Value::from)]
                    .boxed()
            }
            "roles" => proptest::collection::vec(
                prop_oneof![Just("viewer"), Just("editor"), Just("admin"), Just("admn")],
                0..3,
            )
            .prop_map(|r| json!(r))
            .boxed(),
            "password" => {
                prop_oneof!["[ -~]{0,20}".prop_map(Value::from), text(30).prop_map(Value::from)]
                    .boxed()
            }
            "ttl_days" => (-5i64..40_000).prop_map(Value::from).boxed(),
            "expires_at" => prop_oneof![
                Just(json!("2030-01-01T00:00:00Z")),
                Just(json!("2000-01-01T00:00:00Z")),
                text(25).prop_map(Value::from)
            ]
            .boxed(),
            "rate_limit" => prop_oneof![
                Just(Value::Null),
                (-2i64..2_000_000, -1i64..100_000)
                    .prop_map(|(r, p)| json!({"requests": r, "per_seconds": p})),
            ]
            .boxed(),
            "owner" => {
                prop_oneof![Just(json!(user.clone())), text(12).prop_map(Value::from)].boxed()
            }
            _ => any::<bool>().prop_map(Value::from).boxed(),
        };
        prop_oneof![3 => plausible, 1 => json_value()]
            .prop_map(move |v| (name.to_owned(), v))
            .boxed()
    };
    let each: Vec<_> = fields.iter().map(|f| proptest::option::of(field(f))).collect();
    each.prop_map(|chosen| Value::Object(chosen.into_iter().flatten().collect()))
}

/// An admin call with a random body or parameters.
fn admin_call(user: String, key: String) -> impl Strategy<Value = (Method, String, Value)> {
    const KEY: &[&str] =
        &["name", "roles", "owner", "ttl_days", "expires_at", "never_expires", "rate_limit"];
    const RENEW: &[&str] = &["ttl_days", "expires_at", "never_expires", "rate_limit"];
    const USER: &[&str] = &["name", "password", "roles", "rate_limit"];
    const PATCH_USER: &[&str] = &["name", "roles", "disabled", "rate_limit"];
    let call = |method: Method, path: String, fields: &'static [&'static str]| {
        let body = prop_oneof![4 => shaped_body(user.clone(), fields), 1 => json_value()];
        body.prop_map(move |body| (method.clone(), path.clone(), body)).boxed()
    };
    let get = |path: String| {
        query().prop_map(move |q| (Method::GET, format!("{path}?{q}"), Value::Null)).boxed()
    };
    prop_oneof![
        call(Method::POST, "/auth/keys".to_owned(), KEY),
        call(Method::POST, format!("/auth/keys/{key}/renew"), RENEW),
        call(Method::PATCH, format!("/auth/keys/{key}"), &["rate_limit"]),
        call(Method::POST, "/auth/users".to_owned(), USER),
        call(Method::PATCH, format!("/auth/users/{user}"), PATCH_USER),
        call(Method::PUT, format!("/auth/users/{user}/password"), &["password"]),
        call(Method::POST, format!("/auth/users/{user}/verify-password"), &["password"]),
        get(format!("/auth/keys/{key}/usage")),
        get("/auth/keys".to_owned()),
        get("/auth/users".to_owned()),
    ]
}

#[test]
fn admin_bodies_and_parameters_never_fail_the_server_and_refusals_change_nothing() {
    let rt = runtime();
    let (_dir, _clock, _guard, server) = rt.block_on(start_demo(|b| b));
    let client = Client::new();
    let (user, key) = rt.block_on(async {
        let (_, user) = create_user(&client, &server, "ann", PASSWORD, &["viewer"]).await.unwrap();
        let (_, key) = create_key(&client, &server, json!({"roles": ["viewer"]})).await.unwrap();
        (user["id"].as_str().unwrap().to_owned(), key["id"].as_str().unwrap().to_owned())
    });
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u64>::new());
    let mut runner = runner(ADMIN_CASES);
    let result = runner.run(&admin_call(user, key), |(method, path, body)| {
        rt.block_on(async {
            let before = snapshot(&client, &server).await;
            let mut request = client
                .request(method.clone(), server.url(&path))
                .header("x-admin-secret", ADMIN_SECRET);
            if method != Method::GET {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            *statuses.borrow_mut().entry(status).or_default() += 1;
            let context = format!("{method} {path} {body} → {status} {text}");
            prop_assert!(
                [200, 201, 204, 400, 404, 409, 413, 415, 422, 429].contains(&status),
                "{context}"
            );
            if status >= 400 {
                let parsed: Value = serde_json::from_str(&text)
                    .map_err(|_| TestCaseError::fail(format!("not JSON: {context}")))?;
                prop_assert!(parsed["error"].is_string(), "{context}");
                prop_assert_eq!(&snapshot(&client, &server).await, &before, "{}", context);
            }
            Ok(())
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let statuses = statuses.into_inner();
    eprintln!("admin calls by status: {statuses:?}");
    assert!(statuses.keys().any(|s| *s < 300), "some calls succeeded: {statuses:?}");
    assert!(statuses.keys().any(|s| *s == 422), "some were refused: {statuses:?}");
}
