//! The browser transport: Socket.IO over a gloo-net WebSocket to `/socket.io/` on the page's
//! own host, falling back to Engine.IO HTTP long-polling when WebSocket cannot be opened
//! (and trying WebSocket again every minute), driven by [`Session`], with liveness checks,
//! reconnection with backoff, the identity token, and gapless resync through [`Cursor`].
//!
//! My messages go out one at a time, each waiting for its ack, so they reach the room in the
//! order they were typed; one still unconfirmed when the link drops is sent again with the
//! same client id after reconnecting, which the server stores only once.

use std::sync::OnceLock;
use std::time::Duration;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{AbortHandle, Abortable, Fuse, FusedFuture};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::http::Request;
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use std::collections::HashMap;

use super::session::{Action, Cursor, Session, backoff};
use super::{Chat, Command, Status, merge_messages};
use crate::protocol::{Auth, DEFAULT_ROOM, ErrorCode, ServerEvent};

/// While on long-polling, how often to check whether WebSocket works again.
const WEBSOCKET_RETRY: Duration = Duration::from_secs(60);
/// How long to wait before sending again after the server said "too fast".
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(400);
/// Shortest gap between two "typing" signals for one conversation.
const TYPING_EVERY_MS: f64 = 2000.0;
/// How long someone counts as typing after their last signal.
const TYPING_SHOWN_MS: f64 = 3000.0;
/// Where the identity token is kept.
const TOKEN_KEY: &str = "chat.token";
/// Where the followed conversations are kept (a JSON list), and the names of direct ones.
const ROOMS_KEY: &str = "chat.rooms";
const DM_NAMES_KEY: &str = "chat.dm-names";
/// Engine.IO's separator between packets in one polling body.
const RECORD_SEPARATOR: char = '\u{1e}';

/// Starts the connection task; it ends when the owning component is cleaned up.
pub fn start(chat: Chat, woken: UnboundedReceiver<Command>) {
    let (abort, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(run(chat, woken), registration).await;
    });
    on_cleanup(move || abort.abort());
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSocket,
    Polling,
}

/// How one connection ended.
enum End {
    /// The page is going away: stop for good.
    Stopped,
    /// The link was lost. `opened`: the server's handshake arrived; `joined`: chatting worked.
    Lost { opened: bool, joined: bool },
    /// On long-polling, and WebSocket works again: reconnect over it.
    Upgrade,
}

/// Per conversation, where this page stands in its message ids.
type Cursors = HashMap<String, Cursor>;

async fn run(chat: Chat, mut woken: UnboundedReceiver<Command>) {
    let Some(base) = page_base() else {
        chat.error
            .set(Some("Cannot tell this page's address.".into()));
        return;
    };
    let token = identity_token();
    restore_conversations(chat);
    watch_visibility(chat);
    let mut cursor = Cursors::new();
    let mut transport = Transport::WebSocket;
    let mut attempt = 0u32;
    loop {
        chat.polling.set(transport == Transport::Polling);
        let was_lost = attempt > 0;
        match connect_once(
            &base,
            &token,
            transport,
            was_lost,
            chat,
            &mut woken,
            &mut cursor,
        )
        .await
        {
            End::Stopped => return,
            End::Upgrade => {
                // Not a loss: the polling session worked, only the transport changes.
                attempt = 0;
                transport = Transport::WebSocket;
                continue;
            }
            End::Lost { opened: false, .. } if transport == Transport::WebSocket => {
                // WebSocket did not get through (a proxy, a firewall): try long-polling now.
                transport = Transport::Polling;
                continue;
            }
            End::Lost { joined, .. } => {
                if joined {
                    attempt = 0;
                }
                transport = Transport::WebSocket;
            }
        }
        attempt += 1;
        let delay = backoff(attempt, js_sys::Math::random());
        let delay_ms = millis(delay);
        chat.status.set(Status::Reconnecting { attempt, delay_ms });
        TimeoutFuture::new(delay_ms).await;
        chat.status.set(Status::Connecting);
    }
}

#[allow(clippy::too_many_arguments)]
async fn connect_once(
    base: &Base,
    token: &str,
    transport: Transport,
    was_lost: bool,
    chat: Chat,
    woken: &mut UnboundedReceiver<Command>,
    cursor: &mut Cursors,
) -> End {
    let link = match transport {
        Transport::WebSocket => Link::websocket(&base.websocket_url()),
        Transport::Polling => Link::polling(&base.polling_url()).await,
    };
    let Some(mut link) = link else {
        return End::Lost {
            opened: false,
            joined: false,
        };
    };
    let mut auth = Auth {
        token: Some(token.to_owned()),
        room_peers: true,
        ..Auth::default()
    };
    if let Some(position) = cursor.get(DEFAULT_ROOM).and_then(Cursor::position) {
        auth.last_seen.insert(DEFAULT_ROOM.into(), position);
    }
    let mut session = Session::new(auth);
    let mut in_flight: Option<(u64, String)> = None;
    let mut last_typing: HashMap<String, f64> = HashMap::new();
    let mut deadline = sleep(session.liveness());
    let mut probe = match transport {
        Transport::Polling => sleep(WEBSOCKET_RETRY),
        Transport::WebSocket => Fuse::terminated(),
    };
    // After a "too fast" answer, sending pauses until this fires.
    let mut paused: Fuse<TimeoutFuture> = Fuse::terminated();
    let lost = |s: &Session| End::Lost {
        opened: s.is_open(),
        joined: s.is_joined(),
    };

    loop {
        futures::select! {
            text = link.incoming.next() => {
                let Some(text) = text else { return lost(&session) };
                deadline = sleep(session.liveness());
                let action = match session.on_frame(&text) {
                    Ok(action) => action,
                    Err(e) => {
                        leptos::logging::warn!("ignored a frame from the server: {e}");
                        continue;
                    }
                };
                match action {
                    Action::Send(reply) => link.send(reply),
                    Action::Joined => {
                        if was_lost {
                            flash_back_online(chat);
                        }
                        chat.status.set(Status::Online);
                        // Back in every conversation followed, from where this page stands.
                        for room in chat.joined.get_untracked() {
                            if room != DEFAULT_ROOM {
                                let after = cursor.get(&room).and_then(Cursor::position);
                                link.send(session.join(&room, after));
                            }
                        }
                    }
                    Action::Refused(reason) => {
                        chat.error.set(Some(format!("The server refused the connection: {reason}")));
                        return End::Lost { opened: true, joined: false };
                    }
                    Action::Event(event) => {
                        if let Some((room, after)) = apply(chat, cursor, event) {
                            link.send(session.resync(&room, after));
                        }
                    }
                    Action::Acked { ack, result } => {
                        if let Some((_, client_id)) = in_flight.take_if(|(a, _)| *a == ack) {
                            match result {
                                // Not refused, only early: the same message goes again shortly.
                                Err(e) if e.code == ErrorCode::RateLimited => {
                                    paused = sleep(RATE_LIMIT_PAUSE);
                                }
                                result => settle(chat, &client_id, result.map(|_| ())),
                            }
                        }
                    }
                    Action::Closed => return lost(&session),
                    Action::Nothing => {}
                }
            }
            command = woken.next() => match command {
                None => return End::Stopped,
                Some(Command::Wake) => {}
                Some(Command::Join(room)) => {
                    save_conversations(chat);
                    if session.is_joined() {
                        let after = cursor.get(&room).and_then(Cursor::position);
                        link.send(session.join(&room, after));
                    }
                }
                Some(Command::Typing(room)) => {
                    let now = super::clock::now_ms();
                    let due = last_typing.get(&room).is_none_or(|t| now - t >= TYPING_EVERY_MS);
                    if session.is_joined() && due {
                        last_typing.insert(room.clone(), now);
                        link.send(session.typing(&room));
                    }
                }
                Some(Command::Leave(room)) => {
                    save_conversations(chat);
                    cursor.remove(&room);
                    if session.is_joined() {
                        link.send(session.leave(&room));
                    }
                }
            },
            () = deadline => return lost(&session),
            () = probe => {
                if websocket_works(&base.websocket_url()).await {
                    return End::Upgrade;
                }
                probe = sleep(WEBSOCKET_RETRY);
            }
            () = paused => {}
        }
        if session.is_joined() && in_flight.is_none() && paused.is_terminated() {
            let next = chat
                .outgoing
                .with_untracked(|list| list.iter().find(|o| o.failed.is_none()).cloned());
            if let Some(item) = next {
                let client_id = item.client_id.clone();
                let partner = chat.partner(&item.room);
                let sent = match &partner {
                    Some(to) => session.send_to(&item.text, &client_id, None, Some(to)),
                    None => session.send_to(&item.text, &client_id, Some(&item.room), None),
                };
                match sent {
                    Ok((ack, frame)) => {
                        link.send(frame);
                        in_flight = Some((ack, client_id));
                    }
                    Err(e) => settle(chat, &client_id, Err(e)),
                }
            }
        }
    }
}

/// Applies a server event to the signals; returns the room and id to resync from when a
/// conversation's ids jumped.
fn apply(chat: Chat, cursors: &mut Cursors, event: ServerEvent) -> Option<(String, u64)> {
    match event {
        ServerEvent::NameGenerated(name) => chat.me.set(Some(name.0)),
        ServerEvent::Welcome(welcome) => {
            chat.me_id.set(Some(welcome.id));
            chat.me.set(Some(welcome.name));
        }
        // `room-peers` carries the same list for every room, with ids.
        ServerEvent::UpdatePeers(_) => {}
        ServerEvent::RoomPeers(peers) => chat.room_peers.update(|all| {
            all.insert(peers.room, peers.peers);
        }),
        ServerEvent::Rooms(list) => chat.rooms.set(list.rooms),
        ServerEvent::NewMessage(message) => {
            let room = message.room.clone();
            let gap = cursors
                .entry(room.clone())
                .or_default()
                .on_message(message.id);
            let mine = chat
                .me_id
                .with_untracked(|me| me.as_deref() == Some(message.from.as_str()));
            if let Some(client_id) = &message.client_id {
                // My own message came back: it is no longer pending.
                chat.outgoing
                    .update(|list| list.retain(|o| &o.client_id != client_id));
            }
            if room.starts_with("dm:") {
                note_direct_conversation(chat, &room, (!mine).then_some(&message.sender));
            }
            if !mine && chat.active.with_untracked(|a| a != &room) {
                chat.unread
                    .update(|u| *u.entry(room.clone()).or_default() += 1);
            }
            if !mine && page_hidden() {
                chat.unseen.update(|n| *n += 1);
            }
            // Whoever just sent a message has stopped typing it.
            chat.typists.update(|all| {
                if let Some(list) = all.get_mut(&room) {
                    list.retain(|t| t.id != message.from);
                }
            });
            chat.messages.update(|list| merge_messages(list, [message]));
            return gap.map(|after| (room, after));
        }
        ServerEvent::History(history) => {
            let room = history.room.clone();
            let cursor = cursors.entry(room.clone()).or_default();
            let gap = cursor.on_history(history.after, history.messages.iter().map(|m| m.id));
            if room.starts_with("dm:") {
                let me = chat.me_id.get_untracked().unwrap_or_default();
                let theirs = history.messages.iter().rev().find(|m| m.from != me);
                note_direct_conversation(chat, &room, theirs.map(|m| &m.sender));
            }
            chat.messages
                .update(|list| merge_messages(list, history.messages));
            return gap.map(|after| (room, after));
        }
        ServerEvent::ChatError(error) => chat.error.set(Some(error.message)),
        ServerEvent::Typing(typing) => {
            if chat
                .me_id
                .with_untracked(|me| me.as_deref() != Some(typing.id.as_str()))
            {
                let until = super::clock::now_ms() + TYPING_SHOWN_MS;
                chat.typists.update(|all| {
                    let list = all.entry(typing.room).or_default();
                    list.retain(|t| t.id != typing.id);
                    list.push(super::Typist {
                        id: typing.id,
                        name: typing.name,
                        until,
                    });
                });
                spawn_local(async move {
                    TimeoutFuture::new(TYPING_SHOWN_MS as u32 + 50).await;
                    let now = super::clock::now_ms();
                    chat.typists.update(|all| {
                        all.values_mut().for_each(|l| l.retain(|t| t.until > now));
                        all.retain(|_, l| !l.is_empty());
                    });
                });
            }
        }
        ServerEvent::Notice(notice) => chat.notices.update(|list| {
            list.push(notice);
            if list.len() > MAX_NOTICES {
                list.remove(0);
            }
        }),
    }
    None
}

/// Notices kept on screen.
const MAX_NOTICES: usize = 300;

/// Shows "Back online" for a few seconds.
fn flash_back_online(chat: Chat) {
    chat.back_online.set(true);
    spawn_local(async move {
        TimeoutFuture::new(3000).await;
        chat.back_online.set(false);
    });
}

/// Follows a direct-message conversation (someone wrote to me) and learns their name.
fn note_direct_conversation(chat: Chat, room: &str, their_name: Option<&String>) {
    let mut changed = false;
    if !chat.joined.with_untracked(|j| j.iter().any(|r| r == room)) {
        chat.joined.update(|j| j.push(room.to_owned()));
        changed = true;
    }
    if let Some(name) = their_name
        && chat.dm_names.with_untracked(|n| n.get(room) != Some(name))
    {
        chat.dm_names.update(|n| {
            n.insert(room.to_owned(), name.clone());
        });
        changed = true;
    }
    if changed {
        save_conversations(chat);
    }
}

fn page_hidden() -> bool {
    document().hidden()
}

/// Clears the title's unseen count when the tab comes back into view.
fn watch_visibility(chat: Chat) {
    let handle = window_event_listener_untyped("visibilitychange", move |_| {
        if !page_hidden() {
            chat.unseen.set(0);
        }
    });
    // `visibilitychange` fires on document; it bubbles to window in every browser we target.
    on_cleanup(move || handle.remove());
}

/// Loads the conversations this browser follows (so a reload keeps them).
fn restore_conversations(chat: Chat) {
    let Some(storage) = window().local_storage().ok().flatten() else {
        return;
    };
    let read = |key| storage.get_item(key).ok().flatten();
    if let Some(rooms) = read(ROOMS_KEY).and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
    {
        chat.joined.update(|joined| {
            for room in rooms {
                if !joined.contains(&room) {
                    joined.push(room);
                }
            }
        });
    }
    if let Some(names) =
        read(DM_NAMES_KEY).and_then(|t| serde_json::from_str::<HashMap<String, String>>(&t).ok())
    {
        chat.dm_names.update(|n| n.extend(names));
    }
}

fn save_conversations(chat: Chat) {
    let Some(storage) = window().local_storage().ok().flatten() else {
        return;
    };
    if let Ok(rooms) = serde_json::to_string(&chat.joined.get_untracked()) {
        let _ = storage.set_item(ROOMS_KEY, &rooms);
    }
    if let Ok(names) = serde_json::to_string(&chat.dm_names.get_untracked()) {
        let _ = storage.set_item(DM_NAMES_KEY, &names);
    }
}

/// Records the server's answer to one of my messages.
fn settle(chat: Chat, client_id: &str, result: Result<(), crate::protocol::ChatError>) {
    match result {
        Ok(()) => chat
            .outgoing
            .update(|list| list.retain(|o| o.client_id != client_id)),
        Err(e) => {
            let reason = if e.code == ErrorCode::Unavailable {
                format!("{} (not sent)", e.message)
            } else {
                e.message
            };
            chat.error.set(Some(reason.clone()));
            chat.outgoing.update(|list| {
                if let Some(item) = list.iter_mut().find(|o| o.client_id == client_id) {
                    item.failed = Some(reason);
                }
            });
        }
    }
}

/// Text frames to and from the server, whatever carries them; the helper tasks stop when the
/// link is dropped.
struct Link {
    incoming: futures::stream::Fuse<UnboundedReceiver<String>>,
    outgoing: UnboundedSender<String>,
    tasks: Vec<AbortHandle>,
    /// Long-polling only: says goodbye when the page goes away (see [`Link::polling`]).
    farewell: Option<WindowListenerHandle>,
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(listener) = self.farewell.take() {
            listener.remove();
        }
    }
}

impl Link {
    fn send(&self, text: String) {
        // A closed link shows up as the end of `incoming`.
        let _ = self.outgoing.unbounded_send(text);
    }

    fn websocket(url: &str) -> Option<Link> {
        let socket = match WebSocket::open(url) {
            Ok(socket) => socket,
            Err(e) => {
                leptos::logging::warn!("cannot open {url}: {e}");
                return None;
            }
        };
        let (mut write, mut read) = socket.split();
        let (to_page, incoming) = mpsc::unbounded();
        let (outgoing, mut to_server) = mpsc::unbounded::<String>();
        let reader = spawn_abortable(async move {
            while let Some(Ok(message)) = read.next().await {
                if let Message::Text(text) = message
                    && to_page.unbounded_send(text).is_err()
                {
                    break;
                }
            }
        });
        let writer = spawn_abortable(async move {
            while let Some(text) = to_server.next().await {
                if write.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            let _ = write.close().await;
        });
        Some(Link {
            incoming: incoming.fuse(),
            outgoing,
            tasks: vec![reader, writer],
            farewell: None,
        })
    }

    /// Engine.IO long-polling: a GET that the server holds until it has packets, and a POST
    /// per batch of packets to send.
    async fn polling(url: &str) -> Option<Link> {
        let first = poll(&format!("{url}&t={}", random_token(8))).await?;
        let (to_page, incoming) = mpsc::unbounded();
        let mut sid = None;
        for packet in first {
            if let Some(open) = packet.strip_prefix('0') {
                sid = serde_json::from_str::<serde_json::Value>(open)
                    .ok()
                    .and_then(|v| v["sid"].as_str().map(str::to_owned));
            }
            let _ = to_page.unbounded_send(packet);
        }
        let session_url = format!("{url}&sid={}", sid?);
        let (outgoing, mut to_server) = mpsc::unbounded::<String>();
        // A closed tab cannot finish a long-poll, so without this the server would list this
        // person until the heartbeat timed out (45 s). A beacon survives the page: it posts
        // Engine.IO's close packet.
        let farewell_url = session_url.clone();
        let farewell = window_event_listener_untyped("pagehide", move |_| {
            let _ = window()
                .navigator()
                .send_beacon_with_opt_str(&farewell_url, Some("1"));
        });

        let get_url = session_url.clone();
        let reader = spawn_abortable(async move {
            while let Some(packets) = poll(&format!("{get_url}&t={}", random_token(8))).await {
                for packet in packets {
                    if to_page.unbounded_send(packet).is_err() {
                        return;
                    }
                }
            }
        });
        let writer = spawn_abortable(async move {
            while let Some(text) = to_server.next().await {
                let mut batch = vec![text];
                while let Ok(more) = to_server.try_recv() {
                    batch.push(more);
                }
                let body = batch.join(&RECORD_SEPARATOR.to_string());
                let sent = Request::post(&format!("{session_url}&t={}", random_token(8)))
                    .header("Content-Type", "text/plain;charset=UTF-8")
                    .body(body);
                let ok = match sent {
                    Ok(request) => request.send().await.is_ok_and(|r| r.ok()),
                    Err(_) => false,
                };
                if !ok {
                    break;
                }
            }
        });
        Some(Link {
            incoming: incoming.fuse(),
            outgoing,
            tasks: vec![reader, writer],
            farewell: Some(farewell),
        })
    }
}

/// One long-poll GET: the packets in its body, or `None` when the session is over.
async fn poll(url: &str) -> Option<Vec<String>> {
    let response = Request::get(url).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let body = response.text().await.ok()?;
    Some(
        body.split(RECORD_SEPARATOR)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether a WebSocket to the server gets as far as the server's handshake.
async fn websocket_works(url: &str) -> bool {
    let Ok(socket) = WebSocket::open(url) else {
        return false;
    };
    let (_, mut read) = socket.split();
    let first = futures::future::select(read.next(), TimeoutFuture::new(5_000)).await;
    matches!(
        first,
        futures::future::Either::Left((Some(Ok(Message::Text(text))), _)) if text.starts_with('0')
    )
}

fn spawn_abortable(task: impl std::future::Future<Output = ()> + 'static) -> AbortHandle {
    let (handle, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(task, registration).await;
    });
    handle
}

fn sleep(duration: Duration) -> Fuse<TimeoutFuture> {
    TimeoutFuture::new(millis(duration)).fuse()
}

fn millis(duration: Duration) -> u32 {
    duration.as_millis().min(u32::MAX as u128) as u32
}

/// The page's origin, as the two transports address it.
struct Base {
    secure: bool,
    host: String,
}

impl Base {
    fn websocket_url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!(
            "{scheme}://{}/socket.io/?EIO=4&transport=websocket",
            self.host
        )
    }

    fn polling_url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!(
            "{scheme}://{}/socket.io/?EIO=4&transport=polling",
            self.host
        )
    }
}

fn page_base() -> Option<Base> {
    let location = window().location();
    Some(Base {
        secure: location.protocol().ok()? == "https:",
        host: location.host().ok()?,
    })
}

/// This browser's identity token: kept in localStorage so a reload or another tab is the same
/// person; a fresh one (for this page only) when storage is unavailable.
fn identity_token() -> String {
    let storage = window().local_storage().ok().flatten();
    if let Some(token) = storage
        .as_ref()
        .and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
        .filter(|t| crate::protocol::check_token(t).is_ok())
    {
        return token;
    }
    let token = random_token(32);
    if let Some(storage) = storage {
        let _ = storage.set_item(TOKEN_KEY, &token);
    }
    token
}

/// A random id unique to this page load.
pub fn page_nonce() -> &'static str {
    static NONCE: OnceLock<String> = OnceLock::new();
    NONCE.get_or_init(|| random_token(16))
}

/// `len` random characters from `[A-Za-z0-9_-]`, from the browser's CSPRNG.
fn random_token(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = vec![0u8; len];
    let filled = window()
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes))
        .is_ok();
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect()
}
