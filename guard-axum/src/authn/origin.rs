//! Same-origin checks for requests that change something with a credential a browser sends
//! by itself (a cookie, cached Basic credentials): a page elsewhere can make a browser send
//! it, but not hide where the request comes from.

use axum::http::request::Parts;
use axum::http::{Method, header};

/// Whether a method changes nothing, so a cross-site request with it is harmless.
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Whether the request positively comes from this site: its `Origin` is this host (over the
/// scheme the server is served by), or, without one, `Sec-Fetch-Site` says same-origin. A
/// request saying neither is not trusted: every current browser sends `Origin` on the
/// requests this guards. The host is the `Host` header, or over HTTP/2 the request's
/// authority.
pub(crate) fn is_same_origin(head: &Parts, tls: bool) -> bool {
    let headers = &head.headers;
    let host = headers
        .get(header::HOST)
        .map(|h| h.as_bytes())
        .or_else(|| head.uri.authority().map(|a| a.as_str().as_bytes()));
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let scheme: &[u8] = if tls { b"https://" } else { b"http://" };
            let origin = origin.as_bytes();
            match (origin.strip_prefix(scheme), host) {
                (Some(origin_host), Some(host)) => origin_host.eq_ignore_ascii_case(host),
                _ => false,
            }
        }
        None => headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"same-origin"),
    }
}

/// Whether the request says it comes from another site (`Origin` of another host, or
/// `Sec-Fetch-Site: cross-site` / `same-site`); saying nothing is not saying so.
pub(crate) fn is_cross_site(head: &Parts, tls: bool) -> bool {
    let headers = &head.headers;
    let says = headers.contains_key(header::ORIGIN)
        || headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() != b"none");
    says && !is_same_origin(head, tls)
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Parts {
        let mut request = Request::builder().uri("/x");
        for (name, value) in pairs {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn origins() {
        let same = headers(&[("host", "app.test:8080"), ("origin", "http://app.test:8080")]);
        assert!(is_same_origin(&same, false) && !is_cross_site(&same, false));
        assert!(!is_same_origin(&same, true), "the scheme counts");
        let other = headers(&[("host", "app.test"), ("origin", "http://evil.test")]);
        assert!(!is_same_origin(&other, false) && is_cross_site(&other, false));
        let fetch = headers(&[("host", "app.test"), ("sec-fetch-site", "same-origin")]);
        assert!(is_same_origin(&fetch, false));
        let silent = headers(&[("host", "app.test")]);
        assert!(!is_same_origin(&silent, false) && !is_cross_site(&silent, false));
        let null = headers(&[("host", "app.test"), ("origin", "null")]);
        assert!(is_cross_site(&null, false));
        // HTTP/2: no Host header, the authority is in the request line.
        let mut h2 = headers(&[("origin", "https://app.test")]);
        h2.uri = "https://app.test/x".parse().unwrap();
        assert!(is_same_origin(&h2, true));
        h2.uri = "https://evil.test/x".parse().unwrap();
        assert!(!is_same_origin(&h2, true));
    }
}
