//! What stands between strangers and the chat: rate limits per connection and per IP
//! address, the Origin check on the Socket.IO handshake (cross-site WebSocket hijacking), and
//! the security headers of every page.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::RateLimiter;
use governor::clock::{Clock, DefaultClock, Reference};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::config::ChatSection;
use super::rate::{KeyedLimiter, quota};

/// Per-IP bookkeeping: open Socket.IO connections and the handshake rate.
pub struct Guard<C: Clock = DefaultClock>(Arc<GuardInner<C>>);

impl<C: Clock> Clone for Guard<C> {
    fn clone(&self) -> Self {
        Guard(self.0.clone())
    }
}

struct GuardInner<C: Clock> {
    /// Connections per address, open or on their way (addresses with none are not kept).
    connections: Mutex<HashMap<IpAddr, Slots<C::Instant>>>,
    handshakes: KeyedLimiter<C>,
    clock: C,
    max_connections: usize,
    /// How long a handshake holds its slot while the client has not joined yet.
    reservation: Duration,
    allowed_origins: Vec<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-For` say who the client is.
    trusted_proxies: Vec<super::proxy::Cidr>,
}

/// One address's connections: joined ones, and handshakes not joined yet (when each came).
/// A handshake takes its slot at once, so a burst of parallel attempts cannot all pass the
/// check before any of them is counted; a slot never joined is freed when its time is up.
struct Slots<I> {
    open: usize,
    pending: std::collections::VecDeque<I>,
}

impl<I: Reference> Slots<I> {
    fn taken(&mut self, now: I, reservation: Duration) -> usize {
        while self
            .pending
            .front()
            .is_some_and(|at| Duration::from(now.duration_since(*at)) > reservation)
        {
            self.pending.pop_front();
        }
        self.open + self.pending.len()
    }

    fn is_empty(&self) -> bool {
        self.open == 0 && self.pending.is_empty()
    }
}

/// Addresses the handshake limiter remembers before idle ones are forgotten.
const IP_TABLE_PRUNE_AT: usize = 10_000;

impl Guard {
    pub fn new(config: &ChatSection) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Guard<C> {
    pub fn with_clock(config: &ChatSection, clock: C) -> Self {
        let per_minute = config.handshakes_per_minute_per_ip.max(1);
        // The burst is a whole minute's allowance, refilled continuously.
        let handshakes = quota(f64::from(per_minute) / 60.0, per_minute);
        Guard(Arc::new(GuardInner {
            connections: Mutex::new(HashMap::new()),
            handshakes: RateLimiter::dashmap_with_clock(handshakes, clock.clone()),
            clock,
            max_connections: config.max_connections_per_ip.max(1),
            // A client has `connect-timeout` to join after its handshake; then a little slack.
            reservation: config.connect_timeout() + Duration::from_secs(1),
            allowed_origins: config.allowed_origins.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
        }))
    }

    fn connections(&self) -> MutexGuard<'_, HashMap<IpAddr, Slots<C::Instant>>> {
        super::lock(&self.0.connections)
    }

    /// Whether `ip` may open another session now; when it may, the session holds one of the
    /// address's slots until it joins ([`Guard::connected`]) or its time to join is up.
    pub fn allow_handshake(&self, ip: IpAddr) -> Result<(), &'static str> {
        if self.0.handshakes.len() >= IP_TABLE_PRUNE_AT {
            self.0.handshakes.retain_recent();
        }
        let now = self.0.clock.now();
        let mut connections = self.connections();
        let slots = connections.entry(ip).or_insert_with(|| Slots {
            open: 0,
            pending: Default::default(),
        });
        if slots.taken(now, self.0.reservation) >= self.0.max_connections {
            return Err("Too many connections from your address.");
        }
        if self.0.handshakes.check_key(&ip).is_err() {
            return Err("Too many new connections from your address; wait a minute.");
        }
        slots.pending.push_back(now);
        Ok(())
    }

    /// A connection from `ip` joined: it takes over its handshake's slot.
    pub fn connected(&self, ip: IpAddr) {
        let mut connections = self.connections();
        let slots = connections.entry(ip).or_insert_with(|| Slots {
            open: 0,
            pending: Default::default(),
        });
        slots.pending.pop_front();
        slots.open += 1;
    }

    pub fn disconnected(&self, ip: IpAddr) {
        let mut connections = self.connections();
        if let Some(slots) = connections.get_mut(&ip) {
            slots.open = slots.open.saturating_sub(1);
            if slots.is_empty() {
                connections.remove(&ip);
            }
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

    /// The request's Origin when it is one of the configured other origins: their pages
    /// read `/socket.io` responses (long-polling) only when the response names them.
    pub fn cors_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0
            .allowed_origins
            .iter()
            .any(|o| o == text)
            .then(|| origin.clone())
    }
}

/// The address a request or socket is counted under for per-address limits: the peer
/// address axum recorded, an IPv6 one cut to its /64 (one subscriber's network: a single
/// host often has all of it, so per-address caps on full IPv6 addresses cap nothing), and an
/// IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    let client = match extensions.get::<ClientAddr>() {
        Some(ClientAddr(ip)) => Some(*ip),
        None => extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip()),
    };
    client.map(address_key)
}

/// The client's address as the trusted proxy in front recorded it (see [`super::proxy`]);
/// put on the request by [`guard`], so every limit reads the same address.
#[derive(Debug, Clone, Copy)]
struct ClientAddr(IpAddr);

/// See [`peer_ip`].
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// In front of everything: checks `/socket.io` requests (Origin, per-IP limits on new
/// sessions) and adds security headers to every other response. The client bundles under
/// `/socket.io/` are static files: any page may load them, and they open no session. Pages
/// of the configured other origins get CORS on `/socket.io`, to read polling responses.
pub async fn guard(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    if !guard.0.trusted_proxies.is_empty()
        && let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
    {
        let client =
            super::proxy::client_address(peer.ip(), request.headers(), &guard.0.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    let path = request.uri().path();
    let socket_io = path.starts_with("/socket.io");
    let bundle = super::client_bundle::serves(path);
    let cors = guard.cors_origin(request.headers());
    let mut response = if socket_io && !bundle {
        admit(&guard, request, next).await
    } else {
        let mut response = next.run(request).await;
        super::headers::add_security_headers(response.headers_mut());
        response
    };
    if socket_io {
        let headers = response.headers_mut();
        // The answer depends on Origin (refused, or readable by that origin's page).
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        if let Some(origin) = cors {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
    }
    response
}

/// A Socket.IO request: refused from a foreign origin or past the address's limits.
async fn admit(guard: &Guard, request: Request, next: Next) -> Response {
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
        && let Err(reason) = guard.allow_handshake(ip)
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
    use governor::clock::FakeRelativeClock;

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
    fn an_ip_is_capped_in_connections_and_handshakes() {
        let clock = FakeRelativeClock::default();
        let guard = Guard::with_clock(&config(), clock.clone());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(guard.allow_handshake(ip).is_ok());
        guard.connected(ip);
        assert!(guard.allow_handshake(ip).is_ok());
        guard.connected(ip);
        assert!(guard.allow_handshake(ip).is_err(), "two connections open");
        assert!(guard.allow_handshake(other).is_ok(), "others unaffected");
        guard.disconnected(ip);
        guard.disconnected(ip);
        assert!(guard.allow_handshake(ip).is_ok());
        assert!(guard.allow_handshake(ip).is_ok());
        assert!(
            guard.allow_handshake(ip).is_err(),
            "two handshakes in flight fill the cap"
        );
        guard.connected(ip);
        guard.connected(ip);
        guard.disconnected(ip);
        guard.disconnected(ip);
        assert!(
            guard.allow_handshake(ip).is_err(),
            "four handshakes a minute"
        );
        clock.advance(Duration::from_secs(15));
        assert!(guard.allow_handshake(ip).is_ok(), "one more each 15 s");
        assert!(guard.allow_handshake(ip).is_err());
    }

    #[test]
    fn an_ipv6_network_of_64_bits_is_one_address() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        // So one host rotating through its /64 meets one cap.
        let guard = Guard::new(&config());
        let granted = (1..=10u16)
            .map(|n| guard.allow_handshake(key(&format!("2001:db8:1:2::{n:x}"))))
            .filter(Result::is_ok)
            .count();
        assert_eq!(granted, config().max_connections_per_ip);
    }

    #[test]
    fn a_handshake_holds_its_slot_until_it_joins_or_its_time_is_up() {
        let clock = FakeRelativeClock::default();
        let config = ChatSection {
            handshakes_per_minute_per_ip: 100,
            connect_timeout_ms: 10_000,
            ..config()
        };
        let guard = Guard::with_clock(&config, clock.clone());
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(guard.allow_handshake(ip).is_ok());
        assert!(guard.allow_handshake(ip).is_ok());
        assert!(
            guard.allow_handshake(ip).is_err(),
            "two handshakes in flight fill a cap of two before either joined"
        );
        guard.connected(ip);
        assert!(guard.allow_handshake(ip).is_err(), "joining keeps the slot");
        clock.advance(Duration::from_secs(12));
        assert!(
            guard.allow_handshake(ip).is_ok(),
            "the one that never joined gave its slot back"
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

        let cors = |origin| guard.cors_origin(&headers(origin));
        assert_eq!(
            cors(Some("https://friend.example")).unwrap(),
            "https://friend.example"
        );
        assert_eq!(
            cors(Some("http://chat.example:3000")),
            None,
            "its own needs none"
        );
        assert_eq!(cors(Some("https://evil.example")), None);
        assert_eq!(cors(None), None);
    }
}
