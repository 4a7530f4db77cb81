//! The stock `socket.io-client` bundles at `/socket.io/…`, as the Node server serves them:
//! the very files npm installed for the version package.json pins, with their type, caching
//! and compression, while every other `/socket.io/` request still reaches Socket.IO; and the
//! CORS a page of an allowed origin needs to use them (long-polling, module scripts).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::support::{http_get, start_server, start_server_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A GET with extra request headers; header names lower-cased, the body as bytes.
async fn get(addr: SocketAddr, path: &str, extra: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let extra: String = extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Repeated headers (Vary) joined, as a list.
    let mut headers = HashMap::<String, String>::new();
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let joined = headers.entry(name.trim().to_lowercase()).or_default();
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(value.trim());
    }
    Reply {
        status,
        headers,
        body: response[split + 4..].to_vec(),
    }
}

fn dist(name: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "node_modules/socket.io-client/dist",
        name,
    ]
    .iter()
    .collect();
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/setup.sh installs it with npm ci)",
            path.display()
        )
    })
}

/// The version of socket.io-client package.json pins for the tests.
fn pinned_version() -> String {
    let package: serde_json::Value =
        serde_json::from_str(include_str!("../../package.json")).unwrap();
    package["devDependencies"]["socket.io-client"]
        .as_str()
        .expect("package.json pins socket.io-client")
        .to_owned()
}

#[tokio::test]
async fn the_client_bundle_is_the_one_npm_installed_for_the_pinned_version() {
    let addr = start_server().await;
    let js = get(addr, "/socket.io/socket.io.js", &[]).await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.headers["content-type"],
        "application/javascript; charset=utf-8"
    );
    assert!(!js.headers.contains_key("content-encoding"));
    assert!(
        js.body == dist("socket.io.js"),
        "served {} bytes that are not node_modules' socket.io.js",
        js.body.len()
    );
    let banner = format!("Socket.IO v{}\n", pinned_version());
    assert!(
        String::from_utf8_lossy(&js.body[..200]).contains(&banner),
        "not the pinned version ({banner:?}): {:?}",
        String::from_utf8_lossy(&js.body[..200])
    );
    // The response headers every other response carries.
    assert_eq!(js.headers["x-content-type-options"], "nosniff");
    assert_eq!(js.headers["cache-control"], "no-cache");

    // A query string (cache busters) changes nothing, as in Node.
    let busted = get(addr, "/socket.io/socket.io.js?v=1", &[]).await;
    assert_eq!((busted.status, busted.body == js.body), (200, true));

    let map = get(addr, "/socket.io/socket.io.js.map", &[]).await;
    assert_eq!(map.status, 200);
    assert_eq!(
        map.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert!(map.body == dist("socket.io.js.map"));
}

#[tokio::test]
async fn the_minified_bundles_go_out_in_brotli_and_a_cached_copy_is_revalidated() {
    let addr = start_server().await;
    for name in ["socket.io.min.js", "socket.io.esm.min.js"] {
        let path = format!("/socket.io/{name}");
        let reply = get(addr, &path, &[("Accept-Encoding", "gzip, deflate, br")]).await;
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(reply.headers["content-encoding"], "br", "{name}");
        assert!(reply.headers["vary"].contains("accept-encoding"), "{name}");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut reply.body.as_slice(), &mut decoded).unwrap();
        assert!(decoded == dist(name), "{name} decodes to other bytes");
        assert!(
            reply.body.len() < decoded.len() / 3,
            "{name} barely compressed"
        );

        let etag = reply.headers["etag"].clone();
        let again = get(addr, &path, &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, 304, "{name}");
        assert!(again.body.is_empty());
        assert_eq!(again.headers["etag"], etag);
        let stale = get(addr, &path, &[("If-None-Match", "W/\"old\"")]).await;
        assert_eq!(stale.status, 200);
    }
    let gzip = get(
        addr,
        "/socket.io/socket.io.min.js",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gzip.headers["content-encoding"], "gzip");
}

/// Loading the client is not opening a session: it takes none of the address's handshakes,
/// and any page may load it (as from Node). The other paths still reach Socket.IO.
#[tokio::test]
async fn loading_the_bundle_opens_no_session_and_socket_io_still_answers_the_rest() {
    let addr = start_server_with(|c| c.chat.handshakes_per_minute_per_ip = 2).await;
    for _ in 0..5 {
        let reply = get(addr, "/socket.io/socket.io.min.js", &[]).await;
        assert_eq!(
            reply.status, 200,
            "loading the bundle counted as a handshake"
        );
    }
    let elsewhere = [("Origin", "https://elsewhere.example")];
    let reply = get(addr, "/socket.io/socket.io.min.js", &elsewhere).await;
    assert_eq!(reply.status, 200, "a page of another origin may load it");
    let (status, body) = http_get(addr, "/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 200, "the bundle used up the handshakes: {body}");
    assert!(body.starts_with('0'), "not an open packet: {body}");
    // A file Node serves that this server does not (msgpack): Socket.IO's answer, not a file.
    let msgpack = get(addr, "/socket.io/socket.io.msgpack.min.js", &[]).await;
    assert_ne!(msgpack.status, 200);
}

/// A page of a configured origin reads polling responses and the module bundle (CORS names
/// it); a page of any other origin is not told it may.
#[tokio::test]
async fn a_page_of_an_allowed_origin_may_read_what_socket_io_answers() {
    let friend = "http://friend.example:8080";
    let addr = start_server_with(|c| c.chat.allowed_origins = vec![friend.into()]).await;
    for path in [
        "/socket.io/?EIO=4&transport=polling",
        "/socket.io/socket.io.esm.min.js",
    ] {
        let reply = get(addr, path, &[("Origin", friend)]).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply
                .headers
                .get("access-control-allow-origin")
                .map(String::as_str),
            Some(friend),
            "{path}"
        );
        assert!(reply.headers["vary"].contains("origin"), "{path}");
        let stranger = get(addr, path, &[("Origin", "http://stranger.example")]).await;
        assert!(
            !stranger.headers.contains_key("access-control-allow-origin"),
            "{path}"
        );
    }
    let page = get(addr, "/healthz", &[("Origin", friend)]).await;
    assert!(!page.headers.contains_key("access-control-allow-origin"));
}
