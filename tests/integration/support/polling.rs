//! A chat client over Engine.IO long-polling (no WebSocket at all), driving the crate's own
//! protocol session: every request is a fresh HTTP connection from a chosen loopback
//! address, carrying the session id, as a browser's polling transport behind a proxy would.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chat::client::session::{Action, Session};
use chat::protocol::{Auth, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::connect_from;

/// Longest a GET may wait for something to say (the server answers one at once when it has
/// packets queued, and the tests only poll when they expect one).
const POLL_WAIT: Duration = Duration::from_secs(10);

/// Engine.IO's separator between packets of one polling body.
const SEPARATOR: char = '\u{1e}';

pub struct Polling {
    addr: SocketAddr,
    source: IpAddr,
    sid: String,
    session: Session,
    pub name: String,
    /// Texts of live `newMessage` events, in arrival order.
    pub texts: Vec<String>,
    acks: Vec<u64>,
    /// HTTP requests made in this session (any answer but 200 fails the test).
    pub round_trips: usize,
}

impl Polling {
    /// Opens a polling session from `source` through `addr` and waits to be named.
    pub async fn connect(addr: SocketAddr, source: IpAddr) -> Polling {
        let (status, body) = request(addr, source, "GET", "", "").await;
        assert_eq!(status, 200, "polling handshake: {body}");
        let open = body.strip_prefix('0').expect("an Engine.IO open packet");
        let sid =
            serde_json::from_str::<serde_json::Value>(open).expect("open packet is JSON")["sid"]
                .as_str()
                .expect("open packet has a sid")
                .to_owned();
        let mut client = Polling {
            addr,
            source,
            sid,
            session: Session::new(Auth {
                room_peers: true,
                ..Auth::default()
            }),
            name: String::new(),
            texts: Vec::new(),
            acks: Vec::new(),
            round_trips: 0,
        };
        client.handle(&body).await;
        while client.name.is_empty() {
            client.poll().await;
        }
        client
    }

    /// Says `text` in `general` and polls until the server acknowledged it.
    pub async fn say(&mut self, text: &str) {
        let client_id = format!("{}-{}", self.name, self.round_trips);
        let (ack, frame) = self
            .session
            .send_message(text, &client_id)
            .expect("a valid message");
        self.post(&frame).await;
        while !self.acks.contains(&ack) {
            self.poll().await;
        }
    }

    /// Polls until a live message with `text` arrived.
    pub async fn until_text(&mut self, text: &str) {
        while !self.texts.iter().any(|t| t == text) {
            self.poll().await;
        }
    }

    /// One long-polling GET, its packets handled.
    async fn poll(&mut self) {
        let (status, body) = self.exchange("GET", "").await;
        assert_eq!(
            status, 200,
            "poll {} of sid {}: {body}",
            self.round_trips, self.sid
        );
        self.handle(&body).await;
    }

    async fn post(&mut self, packet: &str) {
        let (status, body) = self.exchange("POST", packet).await;
        assert_eq!(
            status, 200,
            "post {} of sid {}: {body}",
            self.round_trips, self.sid
        );
    }

    async fn exchange(&mut self, method: &str, body: &str) -> (u16, String) {
        self.round_trips += 1;
        let query = format!("&sid={}", self.sid);
        request(self.addr, self.source, method, &query, body).await
    }

    async fn handle(&mut self, body: &str) {
        for packet in body.split(SEPARATOR).filter(|p| !p.is_empty()) {
            match self.session.on_frame(packet).expect("a valid packet") {
                Action::Send(reply) => self.post(&reply).await,
                Action::Event(ServerEvent::NameGenerated(name)) => self.name = name.0,
                Action::Event(ServerEvent::NewMessage(m)) => self.texts.push(m.message),
                Action::Acked { ack, result } => {
                    result.unwrap_or_else(|e| panic!("message refused: {e:?}"));
                    self.acks.push(ack);
                }
                Action::Refused(reason) => panic!("polling session refused: {reason}"),
                Action::Closed => panic!("the server closed polling session {}", self.sid),
                _ => {}
            }
        }
    }
}

/// One HTTP/1.0 request on a fresh connection (so the answer ends when the connection does);
/// the status and body.
async fn request(
    addr: SocketAddr,
    source: IpAddr,
    method: &str,
    query: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = connect_from(source, addr).await;
    let head = format!(
        "{method} /socket.io/?EIO=4&transport=polling{query} HTTP/1.0\r\nHost: {addr}\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(format!("{head}{body}").as_bytes())
        .await
        .expect("request written");
    let mut response = Vec::new();
    tokio::time::timeout(POLL_WAIT, stream.read_to_end(&mut response))
        .await
        .unwrap_or_else(|_| panic!("{method} {query}: no answer within {POLL_WAIT:?}"))
        .expect("response read");
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
