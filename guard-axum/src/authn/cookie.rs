//! The session cookie: finding it in a request, setting and clearing it.

use axum::http::{HeaderMap, HeaderValue, header};

/// The cookie's name over plain HTTP.
pub const COOKIE: &str = "guard_session";
/// The cookie's name over TLS: the `__Host-` prefix makes browsers insist on `Secure`, `Path=/`
/// and no `Domain`, so no other host or path can set it.
pub const SECURE_COOKIE: &str = "__Host-guard_session";

/// The value of the cookie `name` in the request, read as bytes (a header need not be UTF-8).
/// `Err` if it is there more than once: a request carrying two sessions is refused rather than
/// guessed at.
pub(crate) fn find<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a [u8]>, ()> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let bytes = value.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            // On the path of every request with cookies: memchr finds the separators.
            let end = memchr::memchr(b';', &bytes[start..]).map_or(bytes.len(), |at| start + at);
            let pair = bytes[start..end].trim_ascii_start();
            start = end + 1;
            let Some(value) = pair.strip_prefix(name.as_bytes()).and_then(|v| v.strip_prefix(b"="))
            else {
                continue;
            };
            if found.is_some() {
                return Err(());
            }
            let value = value.trim_ascii_end();
            // A value may be quoted (RFC 6265).
            found = Some(
                value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(value),
            );
        }
    }
    Ok(found)
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Path=/, Secure over TLS; it lasts
/// as long as the session can.
pub(crate) fn set(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the cookie.
pub(crate) fn clear(name: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::COOKIE, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn finds_the_cookie_and_refuses_two() {
        let one = headers(&[b"a=1; guard_session=gs_x; b=2"]);
        assert_eq!(find(&one, COOKIE), Ok(Some(&b"gs_x"[..])));
        assert_eq!(find(&headers(&[b"a=1"]), COOKIE), Ok(None));
        assert_eq!(find(&headers(&[b"guard_session=\"q\""]), COOKIE), Ok(Some(&b"q"[..])));
        assert_eq!(find(&headers(&[b"guard_session=a", b"guard_session=b"]), COOKIE), Err(()));
        assert_eq!(find(&headers(&[b"x=\xff\xfe; guard_session=v"]), COOKIE), Ok(Some(&b"v"[..])));
        assert_eq!(find(&headers(&[b"xguard_session=v"]), COOKIE), Ok(None));
        assert_eq!(find(&headers(&[b"guard_sessionx=v"]), COOKIE), Ok(None));
        assert_eq!(find(&headers(&[b"a=1;guard_session=v ;b"]), COOKIE), Ok(Some(&b"v"[..])));
        assert_eq!(find(&headers(&[b";;guard_session=;"]), COOKIE), Ok(Some(&b""[..])));
    }
}
