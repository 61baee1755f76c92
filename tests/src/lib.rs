//! Helpers for the black-box tests in `tests/`: a real server on 127.0.0.1 and raw HTTP for
//! requests a well-behaved client will not send; instances of the demo on a real PostgreSQL.

pub mod cutter;
pub mod instances;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use guard_axum::{Guard, GuardBuilder, ManualClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin secret the tests configure.
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";

/// 2026-11-22T13:09:00Z: where the tests' injected clocks start.
pub const NOW: i64 = 1_795_352_940;

/// The demo's routes and guard (its sessions and bearer tokens on) on a fresh redb file, with
/// the test admin secret and an injected clock at [`NOW`]; `configure` adds to the builder.
/// The directory holds the file: keep it as long as the server runs.
pub async fn start_demo(
    configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
) -> (tempfile::TempDir, ManualClock, Guard, TestServer) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = ManualClock::new(NOW);
    let builder = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .admin_secret(ADMIN_SECRET)
        .clock(Arc::new(clock.clone()));
    let guard = configure(demo::configure(builder)).build().expect("the demo's guard");
    let server = TestServer::start(demo::app(&guard)).await.expect("a server on 127.0.0.1");
    (dir, clock, guard, server)
}

/// A router served on an ephemeral port of 127.0.0.1.
pub struct TestServer {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Serves `router` until [`TestServer::stop`].
    pub async fn start(router: Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let app = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(TestServer { addr, shutdown, task })
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, finishes in-flight requests and drops the router (and with it the
    /// guard's hold on its database file).
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// An HTTP client that keeps no idle connections, so that a stopped server really stops.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client without TLS always builds")
}

/// Sends `head` (the request line and headers, CRLF-separated, without the final blank line)
/// over a raw connection and returns the status code and body of the response.
pub async fn raw_request(addr: SocketAddr, head: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(head).await?;
    stream.write_all(b"\r\nConnection: close\r\n\r\n").await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// `POST /auth/keys` with `body` and the test admin secret; returns status and JSON.
pub async fn create_key(
    client: &reqwest::Client,
    server: &TestServer,
    body: serde_json::Value,
) -> reqwest::Result<(u16, serde_json::Value)> {
    let response = client
        .post(server.url("/auth/keys"))
        .header("x-admin-secret", ADMIN_SECRET)
        .json(&body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// `POST /auth/users` with the test admin secret; returns status and JSON.
pub async fn create_user(
    client: &reqwest::Client,
    server: &TestServer,
    name: &str,
    password: &str,
    roles: &[&str],
) -> reqwest::Result<(u16, serde_json::Value)> {
    let response = client
        .post(server.url("/auth/users"))
        .header("x-admin-secret", ADMIN_SECRET)
        .json(&serde_json::json!({"name": name, "password": password, "roles": roles}))
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// An admin request with the test secret; returns status and JSON (`Null` when empty).
pub async fn admin(
    client: &reqwest::Client,
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Result<(u16, serde_json::Value)> {
    let mut request =
        client.request(method, server.url(path)).header("x-admin-secret", ADMIN_SECRET);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)))
}

/// `POST /auth/token` (password grant); returns status and JSON.
pub async fn token(
    client: &reqwest::Client,
    server: &TestServer,
    username: &str,
    password: &str,
) -> reqwest::Result<(u16, serde_json::Value)> {
    let form = [("grant_type", "password"), ("username", username), ("password", password)];
    let response = client.post(server.url("/auth/token")).form(&form).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// `POST /auth/login` as JSON; returns status, the session cookie (`name=value`) if one was
/// set, and the body.
pub async fn login(
    client: &reqwest::Client,
    server: &TestServer,
    username: &str,
    password: &str,
) -> reqwest::Result<(u16, Option<String>, String)> {
    let response = client
        .post(server.url("/auth/login"))
        .header("origin", format!("http://{}", server.addr()))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?;
    let status = response.status().as_u16();
    let cookie = session_cookie(response.headers());
    Ok((status, cookie, response.text().await?))
}

/// The `name=value` of a session cookie a response sets.
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?;
        (pair.contains("guard_session=") && !pair.ends_with('=')).then(|| pair.to_owned())
    })
}

/// A client whose requests come from `address` (any of 127.0.0.0/8 on Linux), for tests
/// that need several client addresses.
pub fn client_from(address: std::net::IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .local_address(address)
        .build()
        .expect("an HTTP client without TLS always builds")
}
