//! The Socket.IO handlers: who connects, what they send, who leaves, and keeping every
//! client's `update-peers` list true.
//!
//! Every client lands in the room [`DEFAULT_ROOM`]; presence, history and broadcasts are keyed
//! by room from here on. Handlers are small async fns with extractors, in the style of
//! socketioxide's examples, but nothing a client sends is dropped silently: every refusal is
//! answered (ack when the client asked for one, a `chat-error` event otherwise) and logged.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, Extension, SocketRef, State, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts, Value};
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide::{BroadcastError, SendError, SocketError, SocketIo};
use tokio::sync::Notify;

use super::config::ChatSection;
use super::names::NameRegistry;
use super::presence::Presence;
use super::store::{Entry, Identities, MessageLog, StoreError};
use crate::protocol::{
    Auth, ChatError, DEFAULT_ROOM, ErrorCode, History, MessageAck, NameGenerated, NewMessage,
    Resync, SendMessage, UpdatePeers, WireEvent, check_client_id, check_token, clean_message,
};

/// Shared chat state, cheap to clone (one `Arc` inside).
#[derive(Clone)]
pub struct Chat(Arc<Inner>);

struct Inner {
    names: Mutex<NameRegistry>,
    presence: Mutex<Presence<Arc<str>>>,
    log: Arc<dyn MessageLog>,
    identities: Arc<dyn Identities>,
    /// Serialises first-time naming of a token, so two tabs opening at once get one name.
    naming: tokio::sync::Mutex<()>,
    dirty_rooms: Mutex<HashSet<String>>,
    peers_changed: Notify,
    config: ChatSection,
}

/// Who a connection is, kept in the socket's extensions.
#[derive(Debug, Clone)]
struct Member {
    /// Stable identity: a hash of the browser's token, or the socket id for the anonymous.
    user: Arc<str>,
    name: Arc<str>,
    room: Arc<str>,
    anonymous: bool,
}

/// Where the client says it stands, from its connect packet; used once, at connect.
#[derive(Debug, Clone)]
struct Resume(std::collections::BTreeMap<String, u64>);

/// Why a connection was refused; the client receives it as `44{"message": ...}`.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Messages per `history` event, and how many events one request may take.
const HISTORY_BATCH: usize = 200;
const HISTORY_BATCHES_PER_REQUEST: usize = 25;

impl Chat {
    /// The chat over `log` and `identities`; names already given to returning people stay
    /// reserved for them.
    pub async fn new(
        log: Arc<dyn MessageLog>,
        identities: Arc<dyn Identities>,
        config: ChatSection,
    ) -> Result<Self, StoreError> {
        let mut names = NameRegistry::default();
        for name in identities.all_names().await? {
            names.reserve(name);
        }
        Ok(Chat(Arc::new(Inner {
            names: Mutex::new(names),
            presence: Mutex::new(Presence::default()),
            log,
            identities,
            naming: tokio::sync::Mutex::new(()),
            dirty_rooms: Mutex::new(HashSet::new()),
            peers_changed: Notify::new(),
            config,
        })))
    }

    /// Registers the handlers on the main namespace.
    pub fn attach(io: &SocketIo) {
        io.ns("/", on_connect.with(admit));
    }

    /// Makes the message log durable and compact; call after the last socket closed.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.0.log.checkpoint().await
    }

    /// Marks a room's member list as changed; [`Chat::sync_peers`] sends it out.
    fn touch(&self, room: &str) {
        lock(&self.0.dirty_rooms).insert(room.to_owned());
        self.0.peers_changed.notify_one();
    }

    /// Sends `update-peers` for changed rooms, at most once per `peer-update-interval` per
    /// round, so N joins in one interval cost one broadcast instead of N. Runs until
    /// dropped; must be stopped before `SocketIo::close`.
    pub async fn sync_peers(self, io: SocketIo) {
        loop {
            self.0.peers_changed.notified().await;
            let rooms: Vec<String> = lock(&self.0.dirty_rooms).drain().collect();
            for room in rooms {
                let names = lock(&self.0.presence).names(&room);
                send_peers(&io, &room, UpdatePeers(names)).await;
            }
            tokio::time::sleep(self.0.config.peer_update_interval()).await;
        }
    }

    /// The name that goes with a token's identity: remembered, or new and remembered.
    async fn name_for(&self, user: &str) -> Result<String, StoreError> {
        let _one_at_a_time = self.0.naming.lock().await;
        if let Some(name) = self.0.identities.name_of(user).await? {
            return Ok(name);
        }
        let name = lock(&self.0.names).assign(&mut rand::rng());
        if let Err(e) = self.0.identities.remember(user, &name).await {
            lock(&self.0.names).release(&name);
            return Err(e);
        }
        Ok(name)
    }

    /// Sends `room`'s messages after `after` (or the most recent ones when `after` is None) as
    /// `history` events, in batches, oldest first.
    async fn send_history<A: Adapter>(&self, s: &SocketRef<A>, room: &str, after: Option<u64>) {
        let Some(mut after) = after else {
            let limit = self.0.config.history_on_connect;
            match self.0.log.recent(room, limit).await {
                Ok(messages) => {
                    let latest = messages.last().map_or(0, |m| m.id);
                    let first = messages.first().map_or(0, |m| m.id.saturating_sub(1));
                    let history = History {
                        room: room.to_owned(),
                        messages,
                        after: first,
                        latest,
                    };
                    emit(s, &history);
                }
                Err(e) => tracing::error!(sid = %s.id, error = %e, "history not loaded"),
            }
            return;
        };
        for _ in 0..HISTORY_BATCHES_PER_REQUEST {
            let messages = match self.0.log.after(room, after, HISTORY_BATCH).await {
                Ok(messages) => messages,
                Err(e) => {
                    tracing::error!(sid = %s.id, error = %e, "history not loaded");
                    return;
                }
            };
            let full = messages.len() == HISTORY_BATCH;
            let latest = messages.last().map_or(after, |m| m.id);
            let history = History {
                room: room.to_owned(),
                messages,
                after,
                latest,
            };
            if let Err(e) = s.emit(History::NAME, &history) {
                // Its queue is full: the client will notice the gap and ask again.
                tracing::warn!(sid = %s.id, error = %e, "resync cut short");
                return;
            }
            if !full {
                return;
            }
            after = latest;
        }
    }
}

/// A token's identity as stored: a hash, so the database never holds a usable token.
fn user_key(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("u:{hex}")
}

/// Runs before the server confirms the connection (`40`): reads the client's identity and
/// registers the handlers, so they are in place before the client can send anything.
async fn admit(
    s: SocketRef,
    State(chat): State<Chat>,
    TryData(auth): TryData<Auth>,
) -> Result<(), Refusal> {
    let auth = auth.map_err(|e| {
        tracing::debug!(sid = %s.id, error = %e, "bad connect payload");
        Refusal("The connect payload must be an object like {\"token\": \"...\"}.".into())
    })?;
    let member = match &auth.token {
        Some(token) => {
            check_token(token).map_err(|e| Refusal(e.message))?;
            let user = user_key(token);
            let name = chat.name_for(&user).await.map_err(|e| {
                tracing::error!(sid = %s.id, error = %e, "identity lookup failed");
                Refusal("The chat is unavailable; try again shortly.".into())
            })?;
            Member {
                user: user.into(),
                name: name.into(),
                room: DEFAULT_ROOM.into(),
                anonymous: false,
            }
        }
        None => Member {
            user: format!("s:{}", s.id).into(),
            name: lock(&chat.0.names).assign(&mut rand::rng()).into(),
            room: DEFAULT_ROOM.into(),
            anonymous: true,
        },
    };
    s.extensions.insert(member);
    s.extensions.insert(Resume(auth.last_seen));
    s.on(SendMessage::NAME, on_message);
    s.on(Resync::NAME, on_resync);
    s.on_fallback(on_unknown_event);
    s.on_disconnect(on_disconnect);
    Ok(())
}

async fn on_connect(s: SocketRef, State(chat): State<Chat>, Extension(member): Extension<Member>) {
    s.join(member.room.to_string());
    let arrived =
        lock(&chat.0.presence).join(&member.room, member.user.clone(), member.name.to_string());
    tracing::info!(sid = %s.id, name = %member.name, "connected");
    emit(&s, &NameGenerated(member.name.to_string()));
    if arrived {
        chat.touch(&member.room);
    } else {
        // Another tab of someone already listed: only this tab needs the list.
        let names = lock(&chat.0.presence).names(&member.room);
        emit(&s, &UpdatePeers(names));
    }
    let resume = s.extensions.remove::<Resume>();
    let after = resume.and_then(|r| r.0.get(&*member.room).copied());
    chat.send_history(&s, &member.room, after).await;
}

async fn on_message(
    s: SocketRef,
    io: SocketIo,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply,
    TryData(sent): TryData<SendMessage>,
) {
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            tracing::debug!(sid = %s.id, error = %e, "message with a bad payload");
            return reply.refuse(ChatError::new(
                ErrorCode::BadPayload,
                "`message` takes a string, or an object {text, clientId}.",
            ));
        }
    };
    if let Some(Err(e)) = sent.client_id().map(check_client_id) {
        return reply.refuse(e);
    }
    let text = match clean_message(sent.text()) {
        Ok(text) => text,
        Err(e) => return reply.refuse(e),
    };
    let entry = Entry {
        room: &member.room,
        author: &member.user,
        sender: &member.name,
        text,
        client_id: sent.client_id(),
    };
    let stored = match chat.0.log.append(entry).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "message not stored");
            return reply.refuse(ChatError::new(
                ErrorCode::Unavailable,
                "The message could not be stored; try again.",
            ));
        }
    };
    // A retry of a stored message is acknowledged again but never broadcast twice.
    if !stored.duplicate {
        broadcast(&io, &member.room, &stored.message).await;
    }
    reply.ack(&MessageAck::accepted(&stored.message));
}

async fn on_resync(
    s: SocketRef,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply,
    TryData(request): TryData<Resync>,
) {
    let request = match request {
        Ok(request) => request,
        Err(_) => {
            return reply.refuse(ChatError::new(
                ErrorCode::BadPayload,
                "`resync` takes {room, after}.",
            ));
        }
    };
    if request.room != *member.room {
        return reply.refuse(ChatError::new(
            ErrorCode::BadPayload,
            format!("You are not in room {:?}.", request.room),
        ));
    }
    chat.send_history(&s, &request.room, Some(request.after))
        .await;
    reply.ack(&serde_json::json!({ "ok": true }));
}

async fn on_unknown_event(s: SocketRef, Event(event): Event, reply: Reply) {
    tracing::debug!(sid = %s.id, %event, "unknown event");
    reply.refuse(ChatError::new(
        ErrorCode::UnknownEvent,
        format!("Unknown event {event:?}."),
    ));
}

async fn on_disconnect(s: SocketRef, State(chat): State<Chat>, reason: DisconnectReason) {
    let Some(member) = s.extensions.get::<Member>() else {
        return;
    };
    if member.anonymous {
        lock(&chat.0.names).release(&member.name);
    }
    if lock(&chat.0.presence).leave(&member.room, &member.user) {
        chat.touch(&member.room);
    }
    tracing::info!(sid = %s.id, name = %member.name, %reason, "disconnected");
}

/// Sends a typed event to one socket; a failure is logged with the socket and event.
fn emit<E: WireEvent, A: Adapter>(s: &SocketRef<A>, event: &E) {
    if let Err(e) = s.emit(E::NAME, event) {
        tracing::warn!(sid = %s.id, event = E::NAME, error = %e, "emit failed");
    }
}

async fn broadcast(io: &SocketIo, room: &str, message: &NewMessage) {
    if let Err(e) = io.to(room.to_owned()).emit(NewMessage::NAME, message).await {
        // A full queue means that client stopped reading; it will miss this message.
        tracing::warn!(room, event = NewMessage::NAME, error = %e, "broadcast incomplete");
    }
}

/// Broadcasts a room's member list. The list is the whole state, so when some clients' queues
/// were full, every member gets it again individually and a client that still cannot take it
/// is disconnected: it reconnects and starts from a fresh list, never from a stale one.
async fn send_peers(io: &SocketIo, room: &str, peers: UpdatePeers) {
    match io.to(room.to_owned()).emit(UpdatePeers::NAME, &peers).await {
        Ok(()) => {}
        Err(BroadcastError::Socket(errors))
            if errors
                .iter()
                .any(|e| matches!(e, SocketError::InternalChannelFull)) =>
        {
            for s in io.to(room.to_owned()).sockets() {
                if let Err(SendError::Socket(SocketError::InternalChannelFull)) =
                    s.emit(UpdatePeers::NAME, &peers)
                {
                    tracing::warn!(sid = %s.id, "slow reader disconnected");
                    if let Err(e) = s.disconnect() {
                        tracing::debug!(error = %e, "disconnect of a slow reader failed");
                    }
                }
            }
        }
        Err(e) => tracing::debug!(room, error = %e, "peer list broadcast incomplete"),
    }
}

/// Answers an event: with an ack when the client sent an ack id, otherwise with a
/// `chat-error` event (refusals only; a plain accepted message needs no answer).
pub struct Reply<A: Adapter = socketioxide::adapter::LocalAdapter> {
    socket: SocketRef<A>,
    ack: AckSender<A>,
    wants_ack: bool,
}

impl<A: Adapter> FromMessageParts<A> for Reply<A> {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(Reply {
            socket: SocketRef::from_message_parts(s, v, ack_id)?,
            ack: AckSender::from_message_parts(s, v, ack_id)?,
            wants_ack: ack_id.is_some(),
        })
    }
}

impl<A: Adapter> Reply<A> {
    /// Acknowledges with `answer` (nothing is sent when the client asked for no ack).
    fn ack<T: serde::Serialize + ?Sized>(self, answer: &T) {
        let sid = self.socket.id;
        if let Err(e) = self.ack.send(answer) {
            tracing::warn!(%sid, error = %e, "ack failed");
        }
    }

    fn refuse(self, error: ChatError) {
        tracing::debug!(sid = %self.socket.id, code = ?error.code, "refused");
        if self.wants_ack {
            self.ack(&MessageAck::refused(error));
        } else {
            emit(&self.socket, &error);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a single map update, so a poisoned lock still holds
    // consistent data; keep serving rather than take the whole chat down.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
