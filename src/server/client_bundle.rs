//! The stock JavaScript client's browser bundles at `/socket.io/<file>`, as the Node server
//! serves them by default (`serveClient`): pages written for a Socket.IO server load their
//! client from it. The files are `socket.io-client`'s `dist/` at the version package.json
//! pins, as `npm ci` (scripts/setup.sh) installed them, built into the binary: nothing is read
//! from disk at run time. The msgpack bundle is left out: it speaks a parser this server does
//! not.

use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use tower_http::compression::CompressionLayer;

use super::headers::REVALIDATE;
use super::precompress;

/// Where the Socket.IO layer listens (socketioxide's default path), and the bundles with it.
const PREFIX: &str = "/socket.io/";

const JS: &str = "application/javascript; charset=utf-8";
const MAP: &str = "application/json; charset=utf-8";

/// One file of `socket.io-client/dist`, with what is derived from it on first use.
struct Bundled {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: OnceLock<HeaderValue>,
    /// At the quality of the site's own assets; made when first asked for (up to half a
    /// second of CPU per file, which a server whose bundles nobody loads never spends).
    brotli: OnceCell<Bytes>,
}

macro_rules! dist {
    ($name:literal, $content_type:expr) => {
        Bundled {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/node_modules/socket.io-client/dist/",
                $name
            )),
            etag: OnceLock::new(),
            brotli: OnceCell::const_new(),
        }
    };
}

static FILES: [Bundled; 6] = [
    dist!("socket.io.js", JS),
    dist!("socket.io.js.map", MAP),
    dist!("socket.io.min.js", JS),
    dist!("socket.io.min.js.map", MAP),
    dist!("socket.io.esm.min.js", JS),
    dist!("socket.io.esm.min.js.map", MAP),
];

/// Whether `path` is one of the bundles (the guard treats them as static files, not as
/// Socket.IO requests).
pub fn serves(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|name| FILES.iter().any(|f| f.name == name))
}

/// A route per bundle. Merged beside the Socket.IO layer, not under it, so these paths are
/// answered here and every other `/socket.io/` request still reaches socketioxide.
pub fn router() -> Router {
    FILES
        .iter()
        .fold(Router::new(), |router, file| {
            router.route(
                &format!("{PREFIX}{}", file.name),
                get(move |headers: HeaderMap| serve(file, headers)),
            )
        })
        // gzip, on the fly, for clients without brotli (browsers offer it over HTTPS only).
        .layer(CompressionLayer::new())
}

async fn serve(file: &'static Bundled, request: HeaderMap) -> Response {
    let etag = file.etag();
    let mut response = if is_cached(&request, etag) {
        reply(StatusCode::NOT_MODIFIED, Body::empty())
    } else if accepts_brotli(&request)
        && let Some(compressed) = file.brotli().await
    {
        let mut response = reply(StatusCode::OK, Body::from(compressed));
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        response
    } else {
        reply(StatusCode::OK, Body::from(file.bytes))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

fn reply(status: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

impl Bundled {
    /// Weak, since the bytes sent differ by encoding; derived from the content, so a new
    /// client version is fetched again.
    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.bytes);
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("W/\"{hex}\""))
                .unwrap_or(HeaderValue::from_static("W/\"socket.io\""))
        })
    }

    async fn brotli(&'static self) -> Option<Bytes> {
        let made = self
            .brotli
            .get_or_try_init(|| async {
                let bytes = self.bytes;
                tokio::task::spawn_blocking(move || Bytes::from(precompress::compress(bytes))).await
            })
            .await;
        match made {
            Ok(compressed) => Some(compressed.clone()),
            Err(e) => {
                tracing::error!(file = self.name, error = %e, "compressing the client bundle failed");
                None
            }
        }
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, as for any GET) or is `*`.
fn is_cached(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = etag.to_str().map(strip).unwrap_or_default();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == "*" || strip(tag) == ours)
}

/// Whether `Accept-Encoding` lists `br` without `q=0`.
fn accepts_brotli(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            name.eq_ignore_ascii_case("br") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn the_bundles_are_the_files_and_nothing_else_under_the_socket_io_path() {
        assert!(serves("/socket.io/socket.io.js"));
        assert!(serves("/socket.io/socket.io.min.js.map"));
        assert!(serves("/socket.io/socket.io.esm.min.js"));
        assert!(!serves("/socket.io/"));
        assert!(!serves("/socket.io/socket.io.msgpack.min.js"));
        assert!(!serves("/socket.io/../socket.io.js"));
        assert!(!serves("/socket.io.js"));
        for file in &FILES {
            assert!(!file.bytes.is_empty(), "{} is empty", file.name);
        }
    }

    #[test]
    fn a_cached_copy_is_recognised_by_its_etag_weak_or_strong() {
        let etag = HeaderValue::from_static("W/\"0123abcd\"");
        let asks = |v| is_cached(&headers(header::IF_NONE_MATCH, v), &etag);
        assert!(asks("W/\"0123abcd\""));
        assert!(asks("\"0123abcd\""));
        assert!(asks("\"other\", W/\"0123abcd\""));
        assert!(asks("*"));
        assert!(!asks("\"other\""));
        assert!(!is_cached(&HeaderMap::new(), &etag));
    }

    #[test]
    fn brotli_is_sent_only_to_clients_that_take_it() {
        let takes = |v| accepts_brotli(&headers(header::ACCEPT_ENCODING, v));
        assert!(takes("gzip, deflate, br, zstd"));
        assert!(takes("BR;q=0.5"));
        assert!(!takes("gzip, deflate"));
        assert!(!takes("br;q=0, gzip"));
        assert!(!takes("brotli"));
        assert!(!accepts_brotli(&HeaderMap::new()));
    }

    #[test]
    fn each_file_has_its_own_etag() {
        let tags: std::collections::HashSet<_> = FILES.iter().map(|f| f.etag().clone()).collect();
        assert_eq!(tags.len(), FILES.len());
        assert!(FILES[0].etag().to_str().unwrap().starts_with("W/\""));
    }
}
