//! What an application may log of a request: its URI without the API key a client may send
//! in the query (`?api-key=…`), which request logs (tower-http's `TraceLayer`, access logs)
//! would otherwise keep in plain text.

use axum::http::Uri;

use crate::authn::API_KEY_QUERY_PARAM;

/// `uri` for a log: path and query, with the value of every `api-key` parameter (however it
/// is percent-encoded) replaced by `<redacted>`.
///
/// ```
/// use axum::http::Uri;
///
/// let uri: Uri = "/secure?page=2&api-key=gk_secret&x=1".parse().unwrap();
/// assert_eq!(guard_axum::loggable_uri(&uri), "/secure?page=2&api-key=<redacted>&x=1");
/// ```
pub fn loggable_uri(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded: String = form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(name, _)| name.into_owned())
                .unwrap_or_default();
            if decoded == API_KEY_QUERY_PARAM {
                format!("{name}=<redacted>")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_redacted_however_it_is_written() {
        let logged = |uri: &str| loggable_uri(&uri.parse().unwrap());
        assert_eq!(logged("/a"), "/a");
        assert_eq!(logged("/a?b=1"), "/a?b=1");
        assert_eq!(logged("/a?api-key=gk_x"), "/a?api-key=<redacted>");
        assert_eq!(
            logged("/a?api%2Dkey=gk_x&api-key=gk_y"),
            "/a?api%2Dkey=<redacted>&api-key=<redacted>"
        );
        assert_eq!(logged("/a?api-key"), "/a?api-key=<redacted>");
        assert!(!logged("/a?x=1&api-key=gk_secret#f").contains("gk_secret"));
    }
}
