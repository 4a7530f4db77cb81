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
use socketioxide::socket::{DisconnectReason, Sid, Socket};
use socketioxide::{BroadcastError, SendError, SocketError, SocketIo};
use tokio::sync::Notify;

use super::config::ChatSection;
use super::history::MessageLog;
use super::names::NameRegistry;
use super::presence::Presence;
use crate::protocol::{
    ChatError, DEFAULT_ROOM, ErrorCode, History, MessageAck, NameGenerated, NewMessage,
    SendMessage, UpdatePeers, WireEvent, clean_message,
};

/// Shared chat state, cheap to clone (one `Arc` inside).
#[derive(Clone)]
pub struct Chat(Arc<Inner>);

struct Inner {
    names: Mutex<NameRegistry>,
    presence: Mutex<Presence<Sid>>,
    log: Arc<dyn MessageLog>,
    dirty_rooms: Mutex<HashSet<String>>,
    peers_changed: Notify,
    config: ChatSection,
}

/// Who a connection is, kept in the socket's extensions.
#[derive(Debug, Clone)]
struct Member {
    name: Arc<str>,
    room: Arc<str>,
}

impl Chat {
    pub fn new(log: Arc<dyn MessageLog>, config: ChatSection) -> Self {
        Chat(Arc::new(Inner {
            names: Mutex::new(NameRegistry::default()),
            presence: Mutex::new(Presence::default()),
            log,
            dirty_rooms: Mutex::new(HashSet::new()),
            peers_changed: Notify::new(),
            config,
        }))
    }

    /// Registers the handlers on the main namespace.
    pub fn attach(io: &SocketIo) {
        io.ns("/", on_connect.with(admit));
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
}

/// Runs before the server confirms the connection (`40`), so the handlers are in place
/// before the client can send anything: a message sent right after connecting is never
/// dropped for lack of a handler.
async fn admit(s: SocketRef, State(chat): State<Chat>) -> Result<(), Infallible> {
    let name: Arc<str> = lock(&chat.0.names).assign(&mut rand::rng()).into();
    s.extensions.insert(Member {
        name,
        room: DEFAULT_ROOM.into(),
    });
    s.on(SendMessage::NAME, on_message);
    s.on_fallback(on_unknown_event);
    s.on_disconnect(on_disconnect);
    Ok(())
}

async fn on_connect(s: SocketRef, State(chat): State<Chat>, Extension(member): Extension<Member>) {
    s.join(member.room.to_string());
    lock(&chat.0.presence).join(&member.room, s.id, member.name.to_string());
    tracing::info!(sid = %s.id, name = %member.name, "connected");
    emit(&s, &NameGenerated(member.name.to_string()));
    chat.touch(&member.room);
    let limit = chat.0.config.history_on_connect;
    match chat.0.log.recent(&member.room, limit).await {
        Ok(messages) if !messages.is_empty() => emit(
            &s,
            &History {
                room: member.room.to_string(),
                messages,
            },
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(sid = %s.id, error = %e, "history not loaded"),
    }
}

async fn on_message(
    s: SocketRef,
    io: SocketIo,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply,
    TryData(text): TryData<SendMessage>,
) {
    let text = match text {
        Ok(SendMessage(text)) => text,
        Err(e) => {
            tracing::debug!(sid = %s.id, error = %e, "message with a bad payload");
            return reply.refuse(ChatError::new(
                ErrorCode::BadPayload,
                "`message` takes one string argument.",
            ));
        }
    };
    let text = match clean_message(&text) {
        Ok(text) => text,
        Err(e) => return reply.refuse(e),
    };
    let message = match chat.0.log.append(&member.room, &member.name, text).await {
        Ok(message) => message,
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "message not stored");
            return reply.refuse(ChatError::new(
                ErrorCode::Unavailable,
                "The message could not be stored; try again.",
            ));
        }
    };
    broadcast(&io, &member.room, &message).await;
    reply.accept(&message);
}

async fn on_unknown_event(s: SocketRef, Event(event): Event, reply: Reply) {
    tracing::debug!(sid = %s.id, %event, "unknown event");
    reply.refuse(ChatError::new(
        ErrorCode::UnknownEvent,
        format!("Unknown event {event:?}."),
    ));
}

async fn on_disconnect(s: SocketRef, State(chat): State<Chat>, reason: DisconnectReason) {
    let member = s.extensions.get::<Member>();
    if let Some(member) = &member {
        lock(&chat.0.names).release(&member.name);
    }
    let rooms = lock(&chat.0.presence).leave_all(&s.id);
    for room in &rooms {
        chat.touch(room);
    }
    tracing::info!(sid = %s.id, name = member.as_ref().map(|m| &*m.name), %reason, "disconnected");
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
    fn accept(self, message: &NewMessage) {
        self.send_ack(&MessageAck::accepted(message));
    }

    fn refuse(self, error: ChatError) {
        tracing::debug!(sid = %self.socket.id, code = ?error.code, "refused");
        if self.wants_ack {
            self.send_ack(&MessageAck::refused(error));
        } else {
            emit(&self.socket, &error);
        }
    }

    fn send_ack(self, ack: &MessageAck) {
        let sid = self.socket.id;
        if let Err(e) = self.ack.send(ack) {
            tracing::warn!(%sid, error = %e, "ack failed");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a single map update, so a poisoned lock still holds
    // consistent data; keep serving rather than take the whole chat down.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
