//! The admin API, reached in this process or over HTTP: every command is a few calls to it,
//! so the command line checks and answers exactly as the API does, with the same JSON, on a
//! store it opened itself or through a running server.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, header};
use guard_axum::Guard;
use guard_axum::guard_core::store::SharedStore;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tower::ServiceExt;

use crate::failure::Failure;

/// The header the admin secret travels in.
const SECRET_HEADER: &str = "x-admin-secret";

/// The longest a server may take to answer, or to finish its answer.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The client `--server` is reached with.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The largest answer read, in bytes.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// Where admin requests go.
pub(crate) enum Admin {
    /// The admin router of a guard opened on the store, in this process.
    Local {
        /// The guard (kept to stop it cleanly).
        guard: Guard,
        /// Its admin routes.
        router: axum::Router,
        /// A secret made up for this process, never stored.
        secret: String,
        /// The store it opened (for what the API does not do).
        store: SharedStore,
    },
    /// A running server's admin API.
    Remote {
        client: Box<HttpClient>,
        /// The URL the admin routes are mounted at, without a trailing `/`.
        base: String,
        secret: String,
    },
}

/// What the API answered.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Admin {
    /// Sends `method path` with `body`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, Failure> {
        let mut request = Request::builder().method(method).header(SECRET_HEADER, self.secret());
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                body.to_string()
            }
            None => String::new(),
        };
        let (status, bytes) = match self {
            Admin::Local { router, .. } => {
                let request = request.uri(path).body(Body::from(body));
                let request = request.map_err(|e| Failure::new(e.to_string()))?;
                let response = match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
                    .await
                    .map_err(|e| Failure::new(format!("an answer could not be read: {e}")))?;
                (status, bytes)
            }
            Admin::Remote { client, base, .. } => {
                let request =
                    request.uri(format!("{base}{path}")).body(Full::new(Bytes::from(body)));
                let request = request.map_err(|e| Failure::new(format!("not a request: {e}")))?;
                let unreachable = |cause: String| {
                    Failure::new(format!("cannot reach the server at {base}: {cause}"))
                };
                let response = tokio::time::timeout(TIMEOUT, client.request(request))
                    .await
                    .map_err(|_| unreachable(format!("no answer in {} s", TIMEOUT.as_secs())))?
                    .map_err(|e| unreachable(causes(&e)))?;
                let status = response.status();
                if status.is_redirection() {
                    return Err(Failure::new(format!(
                        "the server at {base} answered {status}, a redirect, which is not followed: give the URL its admin API is mounted at"
                    )));
                }
                let read = Limited::new(response.into_body(), MAX_ANSWER).collect();
                let bytes = tokio::time::timeout(TIMEOUT, read)
                    .await
                    .map_err(|_| Failure::new("the server's answer did not finish"))?
                    .map_err(|e| Failure::new(format!("the server's answer broke off: {e}")))?
                    .to_bytes();
                (status, bytes)
            }
        };
        let status = status.as_u16();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&bytes).chars().take(200).collect())
            })
        };
        Ok(Answer { status, body })
    }

    /// Sends a request and returns its answer's JSON if it succeeded; otherwise what the API
    /// said was wrong.
    pub(crate) async fn ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let answer = self.call(method, path, body).await?;
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        Err(self.refusal(&answer))
    }

    /// What a refused request says.
    pub(crate) fn refusal(&self, answer: &Answer) -> Failure {
        if answer.status == 401 && matches!(self, Admin::Remote { .. }) {
            return Failure::new("the server does not accept this admin secret");
        }
        let detail = answer.body["detail"]
            .as_str()
            .or_else(|| answer.body.as_str())
            .map_or_else(|| format!("the API answered {}", answer.status), str::to_owned);
        Failure::new(detail)
    }

    fn secret(&self) -> &str {
        match self {
            Admin::Local { secret, .. } | Admin::Remote { secret, .. } => secret,
        }
    }

    /// The store opened in this process, if the requests stay in it.
    pub(crate) fn local_store(&self) -> Option<&SharedStore> {
        match self {
            Admin::Local { store, .. } => Some(store),
            Admin::Remote { .. } => None,
        }
    }

    /// Stops the guard opened in this process (its usage written), if there is one.
    pub(crate) fn close(self) {
        if let Admin::Local { guard, .. } = self {
            guard.shutdown();
        }
    }
}

/// An error's text and its causes (where "connection refused" is).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An HTTP client for `--server`: HTTP, or HTTPS trusting Mozilla's certificate authorities;
/// it follows no redirect (one would carry the secret elsewhere).
pub(crate) fn http_client() -> Result<HttpClient, Failure> {
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| Failure::new(format!("no TLS: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(tls))
}

/// `segment` for a URL path: everything but letters, digits, `-`, `_` and `~`
/// percent-encoded (a `.` too, so that no segment is `.` or `..`).
pub(crate) fn segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
