//! Answers that carry a secret (a new API key, a new admin secret, a bearer token): no cache
//! may keep them, neither the browser's nor a proxy's (`Cache-Control: no-store`, and
//! `Pragma: no-cache` for HTTP/1.0 caches).

use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::response::{IntoResponse, Response};

/// `T`'s response, marked never to be stored.
pub(crate) struct NoStore<T>(pub(crate) T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}
