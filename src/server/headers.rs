//! Every response header the server sets, in one place: the security headers of every
//! response, each page's Content-Security-Policy (with the script nonce Leptos rendered it
//! with), and the caching policy of the static site.

use axum::http::{HeaderMap, HeaderValue, header};

/// Hashed file names never change content, so browsers may keep them for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed files and pages must be revalidated (ServeDir answers If-Modified-Since).
pub const REVALIDATE: &str = "no-cache";

/// On every response: no sniffing, no referrer, no framing.
pub fn add_security_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name, value| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // Pages add their own policy with the script nonce; this one only forbids framing, and
    // covers every response (browsers enforce both policies).
    headers.append(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
}

/// A page's policy: only the hydration scripts Leptos marks with `nonce` may run, plus
/// WebAssembly (`'wasm-unsafe-eval'`); everything else from this origin only.
/// `cargo leptos watch` reloads the page over a WebSocket on its own port (`watching`).
pub fn page_policy(nonce: &str, watching: bool) -> String {
    let connect = if watching { "'self' ws:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called while Leptos renders a page: sends that response's policy with its nonce.
pub fn send_page_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        tracing::warn!("page rendered without a nonce or response options: no CSP sent");
        return;
    };
    let policy = page_policy(&nonce, std::env::var_os("LEPTOS_WATCH").is_some());
    match HeaderValue::from_str(&policy) {
        Ok(value) => response.insert_header(header::CONTENT_SECURITY_POLICY, value),
        Err(e) => tracing::error!(error = %e, "page policy is not a header value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_its_own_nonced_scripts_and_wasm() {
        let policy = page_policy("abc123", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(policy.contains("connect-src 'self';") && policy.contains("object-src 'none'"));
        assert!(page_policy("n", true).contains("connect-src 'self' ws:;"));
        let mut headers = HeaderMap::new();
        add_security_headers(&mut headers);
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "frame-ancestors 'none'"
        );
    }
}
