//! The admin API, reached in this process or over HTTP: every command is a few calls to it,
//! so the command line checks and answers exactly as the API does, with the same JSON, on a
//! store it opened itself or through a running server.

use axum::body::Body;
use axum::http::{Method, Request, header};
use guard_axum::Guard;
use serde_json::Value;
use tower::ServiceExt;

use crate::failure::Failure;

/// The header the admin secret travels in.
const SECRET_HEADER: &str = "x-admin-secret";

/// The largest answer read, in bytes.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// Where admin requests go.
pub(crate) enum Admin {
    /// The admin router of a guard opened on the store, in this process.
    Local {
        /// The guard (kept to stop it cleanly, and for what the API does not do).
        guard: Guard,
        /// Its admin routes.
        router: axum::Router,
        /// A secret made up for this process, never stored.
        secret: String,
    },
    /// A running server's admin API.
    Remote {
        client: reqwest::Client,
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
        let (status, bytes) = match self {
            Admin::Local { router, secret, .. } => {
                let mut request = Request::builder().method(method).uri(path);
                request = request.header(SECRET_HEADER, secret.as_str());
                let body = match body {
                    Some(body) => {
                        request = request.header(header::CONTENT_TYPE, "application/json");
                        Body::from(body.to_string())
                    }
                    None => Body::empty(),
                };
                let request = request.body(body).map_err(|e| Failure::new(e.to_string()))?;
                let response = match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
                    .await
                    .map_err(|e| Failure::new(format!("an answer could not be read: {e}")))?;
                (status, bytes.to_vec())
            }
            Admin::Remote { client, base, secret } => {
                let url = format!("{base}{path}");
                let mut request = client.request(method, &url).header(SECRET_HEADER, secret);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let response = request.send().await.map_err(|e| {
                    Failure::new(format!("cannot reach the server at {base}: {}", causes(e)))
                })?;
                let status = response.status().as_u16();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| Failure::new(format!("the server's answer broke off: {e}")))?;
                (status, bytes.to_vec())
            }
        };
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

    /// The guard opened in this process, if the requests stay in it.
    pub(crate) fn local_guard(&self) -> Option<&Guard> {
        match self {
            Admin::Local { guard, .. } => Some(guard),
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

/// An HTTP error's text and its causes (where "connection refused" is), without the URL,
/// which reqwest adds and which may carry a query.
fn causes(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `segment` for a URL path: everything but unreserved characters percent-encoded.
pub(crate) fn segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
