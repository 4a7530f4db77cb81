//! A chat client over a real WebSocket, built on the crate's own protocol session, and ways
//! to start the server: in this process on port 0, or as the real binary (to kill it).
//! `nginx` puts Debian's nginx in front of nodes; `polling` is a long-polling client.
#![allow(dead_code)] // not every helper is used by a suite today

pub mod nginx;
pub mod polling;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chat::client::session::{Action, Cursor, Session};
use chat::protocol::{
    Auth, ChatError, ClientEvent, DEFAULT_ROOM, Draft, JoinRoom, NewMessage, Peer, Request,
    RoomDone, SendMessage, ServerEvent, Stored,
};
use chat::server::{Config, Server};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(5);

/// The server in this process, on port 0, keeping everything in memory.
pub async fn start_server() -> SocketAddr {
    start_server_with(|_| {}).await
}

/// Like [`start_server`], with the configuration adjusted by `adjust` first.
pub async fn start_server_with(adjust: impl FnOnce(&mut Config)) -> SocketAddr {
    let mut config = Config::default();
    config.leptos.site_addr = "127.0.0.1:0".parse().unwrap();
    config.leptos.hash_files = false;
    config.chat.peer_update_interval_ms = 20;
    config.chat.storage = chat::server::config::Storage::Memory;
    // These tests are about chat behaviour, from one address, faster than a person types;
    // the limits have tests of their own.
    config.chat.rate_per_second = 10_000.0;
    config.chat.rate_burst = 10_000;
    config.chat.max_connections_per_ip = 100_000;
    config.chat.handshakes_per_minute_per_ip = 100_000;
    config.chat.rooms_per_person_per_hour = 0;
    config.chat.rooms_per_address_per_day = 0;
    adjust(&mut config);
    let server = Server::bind(config).await.expect("server binds port 0");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// The real server binary, on a port of its own, storing in `dir`.
pub struct Process {
    pub addr: SocketAddr,
    pub database: PathBuf,
    child: Option<Child>,
}

impl Process {
    pub fn free_port() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    }

    pub async fn start(addr: SocketAddr, database: &Path) -> Process {
        Process::start_with(addr, database, &[]).await
    }

    /// Like [`Process::start`], with more environment (configuration overrides).
    pub async fn start_with(addr: SocketAddr, database: &Path, env: &[(&str, &str)]) -> Process {
        let child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .envs(env.iter().copied())
            .env(
                "CHAT_CONFIG",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
            )
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_HASH_FILES", "false")
            .env("CHAT_DATABASE", database)
            .env("CHAT_PEER_UPDATE_INTERVAL_MS", "20")
            .env("CHAT_RATE_PER_SECOND", "10000")
            .env("CHAT_RATE_BURST", "10000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server binary starts");
        let deadline = tokio::time::Instant::now() + WAIT;
        while TcpStream::connect(addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server did not listen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Process {
            addr,
            database: database.to_owned(),
            child: Some(child),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill");
            child.wait().expect("reaped");
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        child.wait().expect("exits")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// The real server binary on `addr`, storing under `dir`, with `env` on top and its stdout
/// piped so a test can read its logs (the caller kills it).
pub fn spawn_with_logs(addr: SocketAddr, dir: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chat"))
        .env(
            "CHAT_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("CHAT_DATABASE", dir.join("chat.sqlite3"))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server binary starts")
}

/// A plain HTTP/1.1 GET; returns the status and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

/// A valid identity token, distinct per `tag`.
pub fn token(tag: &str) -> String {
    format!("test-token-{tag}-0123456789abcdef")
}

/// A directory of the test's own, removed (with its database) when the test ends.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "chat-it-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A TCP connection to `addr` from `source`, an address of this machine (any of 127.0.0.0/8).
pub async fn connect_from(source: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .unwrap_or_else(|e| panic!("cannot bind {source}: {e}"));
    socket
        .connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect from {source} to {addr}: {e}"))
}

/// A chat client over a real WebSocket, recording everything the server tells it.
pub struct Client {
    ws: Ws,
    session: Session,
    token: Option<String>,
    pub name: String,
    /// My public id, from `welcome`.
    pub id: String,
    pub peers: Vec<String>,
    /// Member lists by room, (id, name) pairs: from `room-peers`, kept up to date by
    /// `peers-changed` as our browser client does.
    pub room_peers: BTreeMap<String, Vec<(String, String)>>,
    /// Per room, everyone in it (`total` of the last `room-peers` or `peers-changed`).
    pub room_totals: BTreeMap<String, usize>,
    /// How many whole `room-peers` lists and how many `peers-changed` arrived.
    pub whole_lists_seen: usize,
    pub peer_changes_seen: usize,
    pub rooms: Vec<String>,
    /// Live `newMessage` events, in arrival order.
    pub messages: Vec<NewMessage>,
    /// Messages from `history` events, in arrival order.
    pub history: Vec<NewMessage>,
    /// Everything seen, by id: what a person would have on screen.
    pub view: BTreeMap<u64, NewMessage>,
    /// Where this client stands in the room's ids.
    pub cursor: Cursor,
    pub errors: Vec<ChatError>,
    pub typing: Vec<chat::protocol::Typing>,
    pub notices: Vec<chat::protocol::Notice>,
    pub acks: Vec<(u64, Result<serde_json::Value, ChatError>)>,
    pub refused: Option<String>,
    pub closed: bool,
    /// Speaks only the tutorial's protocol (gets `update-peers`, not `room-peers`).
    tutorial: bool,
    /// How many `update-peers` arrived.
    pub update_peers_seen: usize,
    next_client_id: u64,
    next_request: u64,
    /// Resync position per room other than `general` (which `cursor` follows).
    pub cursors: BTreeMap<String, Cursor>,
    /// `history` events as they came (without their messages' effect on `view`).
    pub history_events: Vec<chat::protocol::History>,
    /// `messageUpdated` events, in arrival order.
    pub updates: Vec<NewMessage>,
    /// Per room, the highest change number received (live or history): what a returning
    /// client says it has seen.
    pub changes: BTreeMap<String, u64>,
    /// The last `standing` received.
    pub standing: Option<chat::protocol::Standing>,
    /// `reported` events (to moderators), in arrival order.
    pub reports: Vec<chat::protocol::Report>,
    /// `renamed` events, in arrival order.
    pub renames: Vec<chat::protocol::PersonRenamed>,
}

impl Client {
    /// Connects anonymously and waits to be named. Like our browser client, it reads
    /// `room-peers`; its `peers` are the names in `general`'s.
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::connect_as(addr, None).await
    }

    /// Connects as the tutorial's client does: no connect payload at all, so the server sends
    /// it `update-peers` (which fill `peers`) and no `room-peers`.
    pub async fn connect_tutorial(addr: SocketAddr) -> Client {
        let mut client = Client::open(addr, None, Auth::default()).await;
        client.tutorial = true;
        client
            .until(|c| !c.name.is_empty() && !c.id.is_empty())
            .await;
        client
    }

    /// Connects with an identity token and waits to be named.
    pub async fn connect_as(addr: SocketAddr, token: Option<&str>) -> Client {
        let mut client = Client::open(addr, token.map(str::to_owned), Client::auth()).await;
        client
            .until(|c| !c.name.is_empty() && !c.id.is_empty())
            .await;
        client
    }

    /// Opens a connection presenting `token` without waiting for anything.
    pub async fn connect_as_unchecked(addr: SocketAddr, token: &str) -> Client {
        Client::open(addr, Some(token.to_owned()), Client::auth()).await
    }

    /// What our browser client says when connecting (before its token and position).
    fn auth() -> Auth {
        Auth {
            room_peers: true,
            peer_changes: true,
            ..Auth::default()
        }
    }

    /// Connects anonymously as a client that reads whole `room-peers` lists on every change
    /// (`roomPeers` without `peerChanges`, as bots written before `peers-changed` do).
    pub async fn connect_whole_lists(addr: SocketAddr) -> Client {
        let auth = Auth {
            room_peers: true,
            ..Auth::default()
        };
        let mut client = Client::open(addr, None, auth).await;
        client
            .until(|c| !c.name.is_empty() && !c.id.is_empty())
            .await;
        client
    }

    /// Drops the connection, as a network failure would.
    pub async fn close(&mut self) {
        let _ = self.ws.close(None).await;
        self.closed = true;
    }

    /// Connects anonymously from the loopback address `source` (one test can be many
    /// client addresses: all of 127.0.0.0/8 is this machine) with extra request headers, and
    /// waits to be named; when the handshake is refused, its HTTP status.
    pub async fn try_connect_from(
        addr: SocketAddr,
        source: IpAddr,
        headers: &[(&str, &str)],
    ) -> Result<Client, u16> {
        use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http};
        let mut request = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
            .into_client_request()
            .expect("a valid URL");
        for (name, value) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                value.parse().expect("a header value"),
            );
        }
        let stream = MaybeTlsStream::Plain(connect_from(source, addr).await);
        match tokio_tungstenite::client_async(request, stream).await {
            Ok((ws, _)) => {
                let mut client = Client::with_ws(ws, None, Client::auth());
                client
                    .until(|c| !c.name.is_empty() && !c.id.is_empty())
                    .await;
                Ok(client)
            }
            Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(e) => panic!("websocket handshake from {source} to {addr} failed: {e}"),
        }
    }

    async fn open(addr: SocketAddr, token: Option<String>, auth: Auth) -> Client {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket opens");
        Client::with_ws(ws, token, auth)
    }

    fn with_ws(ws: Ws, token: Option<String>, mut auth: Auth) -> Client {
        auth.token = token.clone();
        Client {
            ws,
            session: Session::new(auth),
            token,
            name: String::new(),
            id: String::new(),
            peers: Vec::new(),
            room_peers: BTreeMap::new(),
            room_totals: BTreeMap::new(),
            whole_lists_seen: 0,
            peer_changes_seen: 0,
            rooms: Vec::new(),
            messages: Vec::new(),
            history: Vec::new(),
            view: BTreeMap::new(),
            cursor: Cursor::default(),
            errors: Vec::new(),
            typing: Vec::new(),
            notices: Vec::new(),
            acks: Vec::new(),
            refused: None,
            closed: false,
            tutorial: false,
            update_peers_seen: 0,
            next_client_id: 0,
            next_request: 1_000_000,
            cursors: BTreeMap::new(),
            history_events: Vec::new(),
            updates: Vec::new(),
            changes: BTreeMap::new(),
            standing: None,
            reports: Vec::new(),
            renames: Vec::new(),
        }
    }

    /// Opens a fresh connection with the same token, telling the server the last id it has.
    pub async fn reconnect(&mut self, addr: SocketAddr) {
        let mut auth = Auth {
            room_peers: !self.tutorial,
            peer_changes: !self.tutorial,
            ..Auth::default()
        };
        // A new connection gets every list afresh.
        self.room_peers.clear();
        auth.last_seen
            .insert(DEFAULT_ROOM.into(), self.last_contiguous());
        auth.changes = self.changes.clone();
        let fresh = Client::open(addr, self.token.clone(), auth).await;
        self.ws = fresh.ws;
        self.session = fresh.session;
        self.name.clear();
        self.closed = false;
        self.id.clear();
        self.until(|c| !c.name.is_empty() && !c.id.is_empty()).await;
    }

    /// The highest id up to which this client has every message.
    pub fn last_contiguous(&self) -> u64 {
        self.cursor.position().unwrap_or(0)
    }

    /// Handles frames until `done` holds; panics after [`WAIT`].
    pub async fn until(&mut self, done: impl Fn(&Client) -> bool) {
        self.until_for(WAIT, done).await
    }

    pub async fn until_for(&mut self, wait: Duration, done: impl Fn(&Client) -> bool) {
        if !self.within(wait, done).await {
            panic!("{}: timed out waiting", self.name);
        }
    }

    /// Handles frames until `done` holds or the link closed; false when `wait` ran out first.
    pub async fn within(&mut self, wait: Duration, done: impl Fn(&Client) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !done(self) {
            let Ok(frame) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return false;
            };
            match frame {
                Some(Ok(Message::Text(text))) => self.handle(&text).await,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    self.closed = true;
                    return true;
                }
            }
        }
        true
    }

    async fn handle(&mut self, text: &str) {
        match self.session.on_frame(text).expect("valid frame") {
            Action::Send(reply) => self.send_raw(&reply).await,
            Action::Event(ServerEvent::NameGenerated(n)) => self.name = n.0,
            Action::Event(ServerEvent::UpdatePeers(p)) => {
                self.update_peers_seen += 1;
                self.peers = p.0;
            }
            Action::Event(ServerEvent::MessageUpdated(u)) => {
                let m = u.0;
                self.saw_change(&m);
                if m.room == DEFAULT_ROOM
                    && self.view.get(&m.id).is_none_or(|held| held.rev < m.rev)
                {
                    self.view.insert(m.id, m.clone());
                }
                self.updates.push(m);
            }
            Action::Event(ServerEvent::NewMessage(m)) => {
                self.saw_change(&m);
                let room = m.room.clone();
                let gap = self.cursor_of(&room).on_message(m.id);
                if room == DEFAULT_ROOM {
                    self.view.insert(m.id, m.clone());
                }
                self.messages.push(m);
                if let Some(after) = gap {
                    let frame = self.session.resync(&room, after).expect("a resync encodes");
                    self.send_raw(&frame).await;
                }
            }
            Action::Event(ServerEvent::History(h)) => {
                self.history_events.push(h.clone());
                let room = h.room.clone();
                let gap = self
                    .cursor_of(&room)
                    .on_history(h.after, h.messages.iter().map(|m| m.id));
                for m in &h.messages {
                    self.saw_change(m);
                    if room == DEFAULT_ROOM {
                        self.view.insert(m.id, m.clone());
                    }
                }
                self.history.extend(h.messages);
                if let Some(after) = gap {
                    let frame = self.session.resync(&room, after).expect("a resync encodes");
                    self.send_raw(&frame).await;
                }
            }
            Action::Event(ServerEvent::Welcome(w)) => self.id = w.id,
            Action::Event(ServerEvent::Typing(t)) => self.typing.push(t),
            Action::Event(ServerEvent::Notice(n)) => self.notices.push(n),
            Action::Event(ServerEvent::Rooms(r)) => self.rooms = r.rooms,
            Action::Event(ServerEvent::RoomsChanged(c)) => {
                self.rooms.retain(|r| !c.removed.contains(r));
                self.rooms.extend(c.added);
                self.rooms.sort();
                self.rooms.dedup();
            }
            Action::Event(ServerEvent::Standing(s)) => self.standing = Some(s),
            Action::Event(ServerEvent::Reported(r)) => self.reports.push(r),
            Action::Event(ServerEvent::Renamed(r)) => self.renames.push(r),
            Action::Event(ServerEvent::RoomPeers(p)) => {
                self.whole_lists_seen += 1;
                self.room_totals.insert(p.room.clone(), p.total);
                self.set_room_peers(p.room, p.peers);
            }
            Action::Event(ServerEvent::PeersChanged(change)) => {
                self.peer_changes_seen += 1;
                let Some(listed) = self.room_peers.get(&change.room) else {
                    return; // no list for that room yet: its `room-peers` is on the way
                };
                let mut peers: Vec<Peer> = listed
                    .iter()
                    .map(|(id, name)| Peer {
                        id: id.clone(),
                        name: name.clone(),
                    })
                    .collect();
                change.apply_to(&mut peers);
                self.room_totals.insert(change.room.clone(), change.total);
                self.set_room_peers(change.room, peers);
            }
            Action::Event(ServerEvent::ChatError(e)) => self.errors.push(e),
            Action::Acked { ack, result } => self.acks.push((ack, result)),
            Action::Joined | Action::Nothing => {}
            Action::Refused(r) => {
                self.refused = Some(r);
                self.closed = true;
            }
            Action::Closed => self.closed = true,
        }
    }

    fn set_room_peers(&mut self, room: String, peers: Vec<Peer>) {
        if room == DEFAULT_ROOM {
            self.peers = peers.iter().map(|p| p.name.clone()).collect();
        }
        let peers = peers.into_iter().map(|p| (p.id, p.name)).collect();
        self.room_peers.insert(room, peers);
    }

    fn saw_change(&mut self, m: &NewMessage) {
        let seen = self.changes.entry(m.room.clone()).or_default();
        *seen = (*seen).max(m.rev);
    }

    /// The newest `messageUpdated` received about message `id` of `room`.
    pub fn update_of(&self, room: &str, id: u64) -> Option<&NewMessage> {
        self.updates
            .iter()
            .rev()
            .find(|m| m.room == room && m.id == id)
    }

    fn cursor_of(&mut self, room: &str) -> &mut Cursor {
        if room == DEFAULT_ROOM {
            &mut self.cursor
        } else {
            self.cursors.entry(room.to_owned()).or_default()
        }
    }

    /// Sends a typed request with an ack id and waits for its typed answer.
    pub async fn request<R>(&mut self, request: R) -> Result<R::Accepted, ChatError>
    where
        R: Request + Into<ClientEvent>,
    {
        let name = R::NAME;
        let payload = serde_json::to_value(&request).expect("requests serialise");
        let answer = self.raw_request(name, payload).await?;
        Ok(serde_json::from_value(answer)
            .unwrap_or_else(|e| panic!("{name}: ack of the wrong shape: {e}")))
    }

    /// Sends any event name with any payload (what a hostile or buggy client might) and an
    /// ack id, and waits for the answer's fields.
    pub async fn raw_request(
        &mut self,
        event: &str,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, ChatError> {
        self.next_request += 1;
        let ack = self.next_request;
        let frame = chat::protocol::Frame::event(event, vec![payload], Some(ack)).encode();
        self.send_raw(&frame).await;
        self.until(|c| c.closed || c.acks.iter().any(|(a, _)| *a == ack))
            .await;
        let pos = self
            .acks
            .iter()
            .position(|(a, _)| *a == ack)
            .expect("answered before the link closed");
        self.acks.remove(pos).1
    }

    /// Joins a room; returns once the server has answered.
    pub async fn join(&mut self, room: &str) -> Result<RoomDone, ChatError> {
        let after = self.cursors.get(room).and_then(Cursor::position);
        self.request(JoinRoom {
            room: room.to_owned(),
            after,
            changes: None,
        })
        .await
    }

    /// Says something in a room (or, with `to`, to a person); the stored message's id.
    pub async fn say_in(&mut self, room: &str, text: &str) -> Result<u64, ChatError> {
        self.send_draft(text, Some(room), None).await
    }

    pub async fn dm(&mut self, to: &str, text: &str) -> Result<u64, ChatError> {
        self.send_draft(text, None, Some(to)).await
    }

    async fn send_draft(
        &mut self,
        text: &str,
        room: Option<&str>,
        to: Option<&str>,
    ) -> Result<u64, ChatError> {
        let draft = Draft {
            text: text.to_owned(),
            client_id: Some(self.fresh_client_id()),
            room: room.map(str::to_owned),
            to: to.map(str::to_owned),
            reply_to: None,
        };
        let stored = self.request(SendMessage::Draft(draft)).await?;
        Ok(stored.id)
    }

    /// Messages received (live or history) in `room`.
    pub fn texts_in(&self, room: &str) -> Vec<&str> {
        self.messages
            .iter()
            .chain(self.history.iter())
            .filter(|m| m.room == room)
            .map(|m| m.message.as_str())
            .collect()
    }

    /// Names listed in `room`'s `room-peers`.
    pub fn names_in(&self, room: &str) -> std::collections::BTreeSet<String> {
        self.room_peers
            .get(room)
            .map(|p| p.iter().map(|(_, n)| n.clone()).collect())
            .unwrap_or_default()
    }

    pub async fn send_raw(&mut self, text: &str) {
        // A send on a dead link shows up as `closed` on the next read.
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// Sends a message with a fresh client id and waits for the server's answer.
    pub async fn say(&mut self, text: &str) -> Result<u64, ChatError> {
        let cid = self.fresh_client_id();
        self.say_with_id(text, &cid).await.expect("still connected")
    }

    /// A client id this client has not used yet.
    fn fresh_client_id(&mut self) -> String {
        self.next_client_id += 1;
        format!("{}-{}", self.name, self.next_client_id)
    }

    /// Sends a message with the given client id; `None` when the link dropped before the ack.
    pub async fn say_with_id(&mut self, text: &str, cid: &str) -> Option<Result<u64, ChatError>> {
        let (ack, frame) = self.session.send_message(text, cid).expect("valid message");
        self.send_raw(&frame).await;
        self.until(|c| c.closed || c.acks.iter().any(|(a, _)| *a == ack))
            .await;
        let pos = self.acks.iter().position(|(a, _)| *a == ack)?;
        let answer = self.acks.remove(pos).1;
        Some(answer.map(|fields| {
            serde_json::from_value::<Stored>(fields)
                .expect("a message ack carries id and ts")
                .id
        }))
    }

    pub fn peer_set(&self) -> std::collections::BTreeSet<String> {
        self.peers.iter().cloned().collect()
    }

    /// Live messages received in `general`.
    pub fn texts(&self) -> Vec<&str> {
        self.messages
            .iter()
            .filter(|m| m.room == DEFAULT_ROOM)
            .map(|m| m.message.as_str())
            .collect()
    }
}

/// A real redis-server (from Debian, installed by `scripts/setup.sh`) on a loopback port of
/// its own, persisting to a temporary directory with AOF, as the chat requires.
pub struct Redis {
    pub port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl Redis {
    pub async fn start() -> Redis {
        let port = Process::free_port().port();
        let mut redis = Redis {
            port,
            dir: temp_dir("redis"),
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port and data (after [`Redis::stop`]).
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &self.dir.to_string_lossy()])
            .args(["--appendonly", "yes", "--save", ""])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/setup.sh installs it)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis did not listen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: Redis gets no chance to write anything more.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9 redis");
            child.wait().expect("redis exits");
        }
    }

    /// SIGTERM (Redis writes its AOF and exits), then waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill -TERM");
            child.wait().expect("redis exits");
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A chat node sharing `redis`, with a short heartbeat TTL so tests see failover quickly.
pub async fn start_node(redis: &Redis, dir: &Path, ttl_ms: u64) -> Process {
    start_node_with(redis, dir, ttl_ms, &[]).await
}

/// Like [`start_node`], with more environment (configuration overrides).
pub async fn start_node_with(
    redis: &Redis,
    dir: &Path,
    ttl_ms: u64,
    env: &[(&str, &str)],
) -> Process {
    let addr = Process::free_port();
    let ttl = ttl_ms.to_string();
    let url = redis.url();
    let mut env = env.to_vec();
    env.extend([
        ("CHAT_REDIS_URL", url.as_str()),
        ("CHAT_NODE_TTL_MS", ttl.as_str()),
    ]);
    Process::start_with(
        addr,
        &dir.join(format!("unused-{}.sqlite3", addr.port())),
        &env,
    )
    .await
}
