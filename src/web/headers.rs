//! Response headers every page server answer carries: a strict content
//! security policy (no script at all, nothing from elsewhere), no sniffing,
//! no referrer, no framing, and no indexing of private pages.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
];

/// Adds the security headers to an answer that does not carry them yet
/// (pages built on [`private_html`] do).
pub async fn add_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        return response;
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The head of every private HTML page: its type, `no-store` (browsers and
/// proxies keep no copy) and the security headers, built once.
pub fn private_html() -> &'static HeaderMap {
    static HEAD: LazyLock<HeaderMap> = LazyLock::new(|| {
        let mut head = HeaderMap::with_capacity(SECURITY_HEADERS.len() + 2);
        head.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        head.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in SECURITY_HEADERS {
            head.insert(name, HeaderValue::from_static(value));
        }
        head
    });
    &HEAD
}
