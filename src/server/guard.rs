//! What stands between strangers and the chat: rate limits per connection and per IP
//! address, the Origin check on the Socket.IO handshake (cross-site WebSocket hijacking), and
//! the security headers of every page.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::config::ChatSection;

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: rate.max(0.0),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.burst
    }
}

/// One connection's allowance: a token bucket, and how many refusals it has had in a row.
#[derive(Debug)]
pub struct ConnectionLimit {
    bucket: TokenBucket,
    strikes: u32,
    max_strikes: u32,
}

/// What to do with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the rate: refuse this one.
    Limit,
    /// Refused too often in a row: drop the connection.
    Drop,
}

impl ConnectionLimit {
    pub fn new(config: &ChatSection) -> Self {
        Self {
            bucket: TokenBucket::new(config.rate_per_second, config.rate_burst, Instant::now()),
            strikes: 0,
            max_strikes: config.abuse_strikes.max(1),
        }
    }

    /// Counts an incoming event against the rate.
    pub fn check(&mut self, now: Instant) -> Verdict {
        if self.bucket.take(now) {
            Verdict::Allow
        } else {
            self.strike()
        }
    }

    /// Counts a refusal; `Drop` once there were too many in a row.
    pub fn strike(&mut self) -> Verdict {
        self.strikes += 1;
        if self.strikes >= self.max_strikes {
            Verdict::Drop
        } else {
            Verdict::Limit
        }
    }

    /// An accepted event ends the run of refusals.
    pub fn clear(&mut self) {
        self.strikes = 0;
    }
}

/// Per-IP bookkeeping: open Socket.IO connections and the handshake rate.
#[derive(Clone)]
pub struct Guard(Arc<GuardInner>);

struct GuardInner {
    ips: Mutex<HashMap<IpAddr, IpState>>,
    max_connections: usize,
    handshakes_per_minute: u32,
    allowed_origins: Vec<String>,
}

struct IpState {
    connections: usize,
    handshakes: TokenBucket,
}

/// Entries kept before idle ones are forgotten.
const IP_TABLE_PRUNE_AT: usize = 10_000;

impl Guard {
    pub fn new(config: &ChatSection) -> Self {
        Guard(Arc::new(GuardInner {
            ips: Mutex::new(HashMap::new()),
            max_connections: config.max_connections_per_ip.max(1),
            handshakes_per_minute: config.handshakes_per_minute_per_ip.max(1),
            allowed_origins: config.allowed_origins.clone(),
        }))
    }

    fn ips(&self) -> MutexGuard<'_, HashMap<IpAddr, IpState>> {
        super::lock(&self.0.ips)
    }

    /// Whether `ip` may open another session now.
    pub fn allow_handshake(&self, ip: IpAddr, now: Instant) -> Result<(), &'static str> {
        let per_minute = self.0.handshakes_per_minute;
        let mut ips = self.ips();
        if ips.len() >= IP_TABLE_PRUNE_AT {
            ips.retain(|_, s| s.connections > 0 || !s.handshakes.is_full(now));
        }
        let state = ips.entry(ip).or_insert_with(|| IpState {
            connections: 0,
            // The burst is a whole minute's allowance, refilled continuously.
            handshakes: TokenBucket::new(f64::from(per_minute) / 60.0, per_minute, now),
        });
        if state.connections >= self.0.max_connections {
            return Err("Too many connections from your address.");
        }
        if !state.handshakes.take(now) {
            return Err("Too many new connections from your address; wait a minute.");
        }
        Ok(())
    }

    pub fn connected(&self, ip: IpAddr) {
        if let Some(state) = self.ips().get_mut(&ip) {
            state.connections += 1;
        }
    }

    pub fn disconnected(&self, ip: IpAddr) {
        if let Some(state) = self.ips().get_mut(&ip) {
            state.connections = state.connections.saturating_sub(1);
        }
    }

    /// Browsers always send Origin on WebSocket and cross-site requests; it must be the
    /// page's own origin or one configured. Without Origin (curl, Node clients) it is allowed.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let own = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| {
                origin == format!("http://{host}") || origin == format!("https://{host}")
            });
        own || self.0.allowed_origins.iter().any(|o| o == origin)
    }
}

/// The peer address axum recorded for a request or a socket's handshake.
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// In front of everything: checks `/socket.io` requests (Origin, per-IP limits on new
/// sessions) and adds security headers to every other response.
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/socket.io") {
        let mut response = next.run(request).await;
        super::headers::add_security_headers(response.headers_mut());
        return response;
    }
    if !guard.origin_allowed(request.headers()) {
        tracing::warn!(origin = ?request.headers().get(header::ORIGIN), "cross-origin handshake refused");
        return (StatusCode::FORBIDDEN, "This origin may not open the chat.").into_response();
    }
    let new_session = !request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("sid=")));
    if new_session
        && let Some(ip) = peer_ip(request.extensions())
        && let Err(reason) = guard.allow_handshake(ip, Instant::now())
    {
        tracing::warn!(%ip, reason, "handshake refused");
        let mut response = (StatusCode::TOO_MANY_REQUESTS, reason).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        return response;
    }
    next.run(detach_head(request)).await
}

/// Socket.IO keeps every connection's request head (URI, headers, extensions) for the life of
/// the connection. hyper parses the URI and headers as slices of its read buffer (16 KiB per
/// connection by then), and axum keeps a clone of the URI (`OriginalUri`), so keeping the head
/// kept the whole buffer. Copies of the few bytes that matter let it go.
fn detach_head(request: Request) -> Request {
    let (mut head, body) = request.into_parts();
    let mut headers = HeaderMap::with_capacity(head.headers.len());
    for (name, value) in &head.headers {
        let copied = (
            header::HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        );
        if let (Ok(name), Ok(value)) = copied {
            headers.append(name, value);
        }
    }
    head.headers = headers;
    let copy = |uri: &axum::http::Uri| axum::http::Uri::try_from(uri.to_string()).ok();
    if let Some(uri) = copy(&head.uri) {
        head.uri = uri;
    }
    if let Some(uri) = head
        .extensions
        .get::<axum::extract::OriginalUri>()
        .and_then(|original| copy(&original.0))
    {
        head.extensions.insert(axum::extract::OriginalUri(uri));
    }
    Request::from_parts(head, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// What the server keeps of a connection's request must not point into the buffer the
    /// request was parsed from (that pinned 16 KiB per idle connection).
    #[test]
    fn the_kept_request_head_owns_its_bytes() {
        let buffer = axum::body::Bytes::from_static(
            b"/socket.io/?EIO=4&transport=websocket https://chat.example",
        );
        let inside = |bytes: &[u8]| buffer.as_ptr_range().contains(&bytes.as_ptr());
        let uri = axum::http::Uri::from_maybe_shared(buffer.slice(0..37)).unwrap();
        let origin = HeaderValue::from_maybe_shared(buffer.slice(38..)).unwrap();
        let mut request = Request::new(axum::body::Body::empty());
        *request.uri_mut() = uri.clone();
        request.headers_mut().insert(header::ORIGIN, origin);
        request
            .extensions_mut()
            .insert(axum::extract::OriginalUri(uri));
        assert!(inside(request.headers()[header::ORIGIN].as_bytes()));

        let kept = detach_head(request);
        let origin = kept.headers()[header::ORIGIN].as_bytes();
        assert_eq!(origin, b"https://chat.example");
        assert!(!inside(origin));
        assert_eq!(kept.uri().query(), Some("EIO=4&transport=websocket"));
        assert!(!inside(kept.uri().path().as_bytes()));
        let original = kept
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .unwrap();
        assert_eq!(original.0, *kept.uri());
        assert!(!inside(original.0.path().as_bytes()));
    }

    fn config() -> ChatSection {
        ChatSection {
            rate_per_second: 5.0,
            rate_burst: 10,
            abuse_strikes: 3,
            max_connections_per_ip: 2,
            handshakes_per_minute_per_ip: 4,
            allowed_origins: vec!["https://friend.example".into()],
            ..ChatSection::default()
        }
    }

    #[test]
    fn a_bucket_allows_the_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(5.0, 10, t0);
        assert_eq!((0..20).filter(|_| bucket.take(t0)).count(), 10);
        assert!(!bucket.take(t0 + Duration::from_millis(100)));
        assert!(bucket.take(t0 + Duration::from_millis(200)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..20).filter(|_| bucket.take(later)).count(), 10);
    }

    #[test]
    fn a_connection_over_the_rate_is_limited_then_dropped() {
        let mut limit = ConnectionLimit::new(&config());
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(limit.check(now), Verdict::Allow);
        }
        assert_eq!(limit.check(now), Verdict::Limit);
        assert_eq!(limit.check(now), Verdict::Limit);
        assert_eq!(limit.check(now), Verdict::Drop);
        limit.clear();
        assert_eq!(limit.strike(), Verdict::Limit);
    }

    #[test]
    fn an_ip_is_capped_in_connections_and_handshakes() {
        let guard = Guard::new(&config());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let now = Instant::now();
        assert!(guard.allow_handshake(ip, now).is_ok());
        guard.connected(ip);
        assert!(guard.allow_handshake(ip, now).is_ok());
        guard.connected(ip);
        assert!(
            guard.allow_handshake(ip, now).is_err(),
            "two connections open"
        );
        assert!(
            guard.allow_handshake(other, now).is_ok(),
            "others unaffected"
        );
        guard.disconnected(ip);
        assert!(guard.allow_handshake(ip, now).is_ok());
        assert!(guard.allow_handshake(ip, now).is_ok());
        assert!(
            guard.allow_handshake(ip, now).is_err(),
            "four handshakes a minute"
        );
    }

    #[test]
    fn only_the_pages_own_origin_or_configured_ones_may_connect() {
        let guard = Guard::new(&config());
        let headers = |origin: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("chat.example:3000"));
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
            }
            h
        };
        assert!(guard.origin_allowed(&headers(None)));
        assert!(guard.origin_allowed(&headers(Some("http://chat.example:3000"))));
        assert!(guard.origin_allowed(&headers(Some("https://chat.example:3000"))));
        assert!(guard.origin_allowed(&headers(Some("https://friend.example"))));
        assert!(!guard.origin_allowed(&headers(Some("https://evil.example"))));
        assert!(!guard.origin_allowed(&headers(Some("http://chat.example:3001"))));
        assert!(!guard.origin_allowed(&headers(Some("null"))));
    }
}
