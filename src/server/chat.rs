//! The Socket.IO handlers: who connects, what they send, which rooms they are in, who
//! leaves, and keeping every client's view of who is online true.
//!
//! Conversations are rooms. Everyone is in [`DEFAULT_ROOM`] (so the tutorial's client, which
//! knows nothing of rooms, chats there as before) and may join public rooms by name. A direct
//! message conversation is the room `dm:<id>:<id>` of two people's public ids; it is delivered
//! to each person's own socket room (`user:<id>`), so nobody else can receive it, and only the
//! two may load it. History, presence and resync are keyed by room.
//!
//! Handlers are small async fns with extractors, in the style of socketioxide's examples, but
//! nothing a client sends is dropped silently: every refusal is answered (ack when the client
//! asked for one, a `chat-error` event otherwise) and logged.

use std::collections::{BTreeSet, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, Extension, SocketRef, State, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts, Value};
use socketioxide::socket::{DisconnectReason, Sid, Socket};
use socketioxide::{BroadcastError, SendError, SocketError, SocketIo};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;

use super::config::ChatSection;
use super::guard::{ConnectionLimit, Guard, Verdict, peer_ip};
use super::lock;
use super::metrics::Metrics;
use super::names::NameRegistry;
use super::presence::Presence;
use super::roster::Roster;
use super::store::{Directory, Entry, MessageLog, StoreError};
use crate::protocol::{
    Auth, ChatError, DEFAULT_ROOM, ErrorCode, History, JoinRoom, LeaveRoom, MessageAck,
    NameGenerated, NewMessage, Notice, NoticeKind, Peer, Resync, RoomList, RoomPeers, SendMessage,
    Typing, TypingIn, UpdatePeers, Welcome, WireEvent, check_client_id, check_token, clean_message,
    dm_parties, dm_partner, dm_room, is_public_id, normalize_room,
};

/// Shared chat state, cheap to clone (one `Arc` inside).
#[derive(Clone)]
pub struct Chat(Arc<Inner>);

struct Inner {
    names: Mutex<NameRegistry>,
    /// Room members by public id, connections by socket id.
    presence: Mutex<Presence<Arc<str>, Sid>>,
    /// Public rooms that exist, and when the directory was last asked (other nodes may have
    /// created some since).
    rooms: Mutex<BTreeSet<String>>,
    rooms_read: Mutex<Instant>,
    log: Arc<dyn MessageLog>,
    directory: Arc<dyn Directory>,
    /// Everyone's member lists, across nodes.
    roster: Arc<dyn Roster>,
    metrics: Metrics,
    /// Serialises first-time naming of a token, so two tabs opening at once get one name.
    naming: tokio::sync::Mutex<()>,
    /// Rooms whose member list changed on this node, to publish to the roster.
    dirty_rooms: Mutex<HashSet<String>>,
    peers_changed: Notify,
    /// When someone's last connection left a room: a return within [`LEFT_GRACE`] (a reload,
    /// a network blip) announces neither the leaving nor the coming back.
    recently_left: Mutex<std::collections::HashMap<(String, Arc<str>), Instant>>,
    /// Arrivals and departures waiting for the next sync round, per room.
    pending_notices: Mutex<std::collections::HashMap<String, Vec<Notice>>>,
    guard: Guard,
    config: ChatSection,
}

/// Who a connection is, kept in the socket's extensions.
#[derive(Debug, Clone)]
struct Member {
    /// Stable identity: a hash of the browser's token, or the socket id for the anonymous.
    /// Never sent to anyone.
    user: Arc<str>,
    /// What others may know and address: derived from `user`, not reversible.
    id: Arc<str>,
    name: Arc<str>,
    anonymous: bool,
    /// Reads `room-peers` instead of the tutorial's `update-peers` (see [`Auth::room_peers`]).
    room_peers: bool,
    /// Where it connected from, for the per-IP connection count.
    ip: Option<std::net::IpAddr>,
}

/// A connection's rate allowance (shared by all its handlers).
#[derive(Debug, Clone)]
struct Limit(Arc<Mutex<ConnectionLimit>>);

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

/// More arrivals (or departures) than this in one sync round are announced as one summary
/// ("12 people joined"): a join storm must not cost a notice per person per member.
const NOTICES_PER_ROUND: usize = 3;
/// How long a departure waits to be announced, in case the person comes right back.
const LEFT_GRACE: Duration = Duration::from_secs(3);
/// Shortest gap between two typing signals relayed for one connection.
const TYPING_GAP: Duration = Duration::from_millis(1000);
/// How long the list of rooms is served without asking the directory again.
const ROOMS_FRESH_FOR: Duration = Duration::from_secs(1);
/// Names tried for a new person before giving up (only a shared directory can refuse one).
const NAMING_ATTEMPTS: usize = 8;

/// When this connection last had a typing signal relayed.
#[derive(Debug, Clone, Default)]
struct TypingClock(Arc<Mutex<Option<Instant>>>);

/// Messages per `history` event, and how many events one request may take.
const HISTORY_BATCH: usize = 200;
const HISTORY_BATCHES_PER_REQUEST: usize = 25;

/// Socket rooms by which member list a connection reads: the tutorial's names (`update-peers`)
/// or ours (`room-peers`). Each list goes to its readers only.
const READS_NAMES: &str = "reads:update-peers";
const READS_ROOM_PEERS: &str = "reads:room-peers";
/// Member lists sent per second at most, in bytes (all rooms, all of this node's clients):
/// when a round sent more, the next one waits longer than `peer-update-interval`. Lists are
/// whole states, so fewer rounds lose nothing; in a join storm of N people this keeps the
/// cost from growing with N² per interval.
const STATE_BYTES_PER_SEC: f64 = 256.0 * 1024.0 * 1024.0;

/// The socket room of one person's connections, where their direct messages go.
fn user_room(id: &str) -> String {
    format!("user:{id}")
}

impl Chat {
    /// The chat over `log` and `directory`; names already given to returning people stay
    /// reserved for them.
    pub async fn new(
        log: Arc<dyn MessageLog>,
        directory: Arc<dyn Directory>,
        roster: Arc<dyn Roster>,
        metrics: Metrics,
        guard: Guard,
        config: ChatSection,
    ) -> Result<Self, StoreError> {
        let mut names = NameRegistry::default();
        for name in directory.all_names().await? {
            names.reserve(name);
        }
        let mut rooms: BTreeSet<String> = directory.rooms().await?.into_iter().collect();
        rooms.insert(DEFAULT_ROOM.to_owned());
        Ok(Chat(Arc::new(Inner {
            names: Mutex::new(names),
            presence: Mutex::new(Presence::default()),
            rooms: Mutex::new(rooms),
            rooms_read: Mutex::new(Instant::now()),
            log,
            directory,
            roster,
            metrics,
            naming: tokio::sync::Mutex::new(()),
            dirty_rooms: Mutex::new(HashSet::new()),
            peers_changed: Notify::new(),
            recently_left: Mutex::new(std::collections::HashMap::new()),
            pending_notices: Mutex::new(std::collections::HashMap::new()),
            guard,
            config,
        })))
    }

    /// Registers the handlers on the main namespace. With a remote adapter the result is a
    /// future to await (it subscribes to the other nodes).
    pub fn attach<A: Adapter + socketioxide_core::adapter::DefinedAdapter>(
        io: &SocketIo<A>,
    ) -> A::InitRes {
        io.ns("/", on_connect::<A>.with(admit::<A>))
    }

    /// Makes the message log durable and compact; call after the last socket closed.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.0.log.checkpoint().await
    }

    /// Marks a room's member list on this node as changed; [`Chat::sync_peers`] publishes it.
    fn touch(&self, room: &str) {
        lock(&self.0.dirty_rooms).insert(room.to_owned());
        self.0.peers_changed.notify_one();
    }

    /// Delivers every new message to this node's clients, in the order the log committed them
    /// (so in id order per room): a room's messages to its members, a direct message to its
    /// two people. `committed` is the log's feed; with several nodes it carries every node's
    /// messages, so each node delivers locally. Runs until dropped; must be stopped before
    /// `SocketIo::close`.
    pub async fn fan_out<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut committed: UnboundedReceiver<NewMessage>,
    ) {
        while let Some(message) = committed.recv().await {
            let audience = match dm_parties(&message.room) {
                Some((a, b)) => vec![user_room(a), user_room(b)],
                None => vec![message.room.clone()],
            };
            if let Err(e) = io
                .local()
                .to(audience)
                .emit(NewMessage::NAME, &message)
                .await
            {
                // A full queue means that client stopped reading. Sending the room's member
                // list finds and drops whoever still cannot take it; the rest resync.
                tracing::warn!(room = %message.room, error = %e, "broadcast incomplete");
                self.0.metrics.broadcast_failed(&e);
                if queue_full(&e) {
                    self.touch(&message.room);
                }
            }
        }
    }

    /// Keeps every client's member lists true, at most one round per `peer-update-interval`,
    /// so N joins in one interval cost one list per member instead of N: publishes the rooms
    /// that changed on this node to the roster, then sends the lists of the rooms that changed
    /// anywhere (`changed`, from the roster) to this node's clients, then the round's
    /// join/leave notices. What fails (Redis away) is tried again next round. Runs until
    /// dropped; must be stopped before `SocketIo::close`.
    pub async fn sync_peers<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut changed: UnboundedReceiver<String>,
    ) {
        let mut stale: HashSet<String> = HashSet::new();
        loop {
            let idle = stale.is_empty() && lock(&self.0.dirty_rooms).is_empty();
            if idle {
                tokio::select! {
                    () = self.0.peers_changed.notified() => {}
                    room = changed.recv() => match room {
                        Some(room) => { stale.insert(room); }
                        None => return,
                    },
                }
            }
            let mut notices = Vec::new();
            let rooms: Vec<String> = lock(&self.0.dirty_rooms).drain().collect();
            for room in rooms {
                let members = self.local_members(&room);
                if let Err(e) = self.0.roster.publish(&room, members).await {
                    tracing::warn!(%room, error = %e, "member list not published; will retry");
                    lock(&self.0.dirty_rooms).insert(room);
                    continue;
                }
                if let Some(pending) = lock(&self.0.pending_notices).remove(&room) {
                    notices.extend(summarize(pending));
                }
            }
            while let Ok(room) = changed.try_recv() {
                stale.insert(room);
            }
            let mut sent_bytes = 0;
            if self.0.config.peer_list_limit == 0 {
                stale.clear();
            }
            for room in std::mem::take(&mut stale) {
                match self.listed_members(&room).await {
                    Ok(peers) => {
                        let readers = lock(&self.0.presence).count(&room);
                        sent_bytes += readers * list_bytes(&peers);
                        let (names, peers) = peer_lists(&room, peers);
                        if let Some(names) = names {
                            self.send_state(&io, &room, READS_ROOM_PEERS, &names).await;
                        }
                        self.send_state(&io, &room, READS_NAMES, &peers).await;
                    }
                    Err(e) => {
                        tracing::warn!(%room, error = %e, "member list not read; will retry");
                        stale.insert(room);
                    }
                }
            }
            for notice in notices {
                let room = notice.room.clone();
                broadcast(&io, &self.0.metrics, vec![room], &notice).await;
            }
            let paced = Duration::from_secs_f64(sent_bytes as f64 / STATE_BYTES_PER_SEC);
            tokio::time::sleep(paced.max(self.0.config.peer_update_interval())).await;
        }
    }

    /// This node's members of `room`, in the order they joined.
    fn local_members(&self, room: &str) -> Vec<Peer> {
        lock(&self.0.presence)
            .members(room)
            .into_iter()
            .map(|(id, name)| Peer {
                id: id.to_string(),
                name,
            })
            .collect()
    }

    /// A room's member list as sent: everyone on every node, at most `peer-list-limit`.
    async fn listed_members(&self, room: &str) -> Result<Vec<Peer>, StoreError> {
        let mut peers = self.0.roster.members(room).await?;
        peers.truncate(self.0.config.peer_list_limit);
        Ok(peers)
    }

    /// Sends one socket the member list of a room it joined while already listed there.
    async fn send_peers_to<A: Adapter>(&self, s: &SocketRef<A>, member: &Member, room: &str) {
        if self.0.config.peer_list_limit == 0 {
            return;
        }
        match self.listed_members(room).await {
            Ok(peers) => match peer_lists(room, peers) {
                (_, peers) if member.room_peers => emit(s, &peers),
                (Some(names), _) => emit(s, &names),
                (None, _) => {}
            },
            // The next sync round of the room sends it.
            Err(e) => tracing::warn!(sid = %s.id, error = %e, "member list not read"),
        }
    }

    /// Sends a whole-state event (a member list) to this node's members of a room. Being the
    /// whole state, it may be sent again: when some clients' queues were full, every member
    /// gets it individually, and a client whose queue is still full is asked to disconnect.
    /// (socketioxide refuses that while the queue is full; such a client is dropped at its
    /// next heartbeat, which cannot be queued either, and comes back to a fresh state rather
    /// than keep a stale one.)
    async fn send_state<E: WireEvent, A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
        except: &str,
        state: &E,
    ) {
        let readers = || io.local().to(room.to_owned()).except(except.to_owned());
        let Err(e) = readers().emit(E::NAME, state).await else {
            return;
        };
        self.0.metrics.broadcast_failed(&e);
        if !queue_full(&e) {
            tracing::debug!(room, error = %e, "state broadcast incomplete");
            return;
        }
        for s in readers().sockets() {
            if let Err(SendError::Socket(SocketError::InternalChannelFull)) = s.emit(E::NAME, state)
            {
                tracing::warn!(sid = %s.id, "slow reader disconnected");
                if let Err(e) = s.disconnect() {
                    tracing::debug!(error = %e, "disconnect of a slow reader failed");
                }
            }
        }
    }

    fn notice(&self, room: &str, member: &Member, kind: NoticeKind) -> Notice {
        Notice {
            room: room.to_owned(),
            kind,
            id: member.id.to_string(),
            name: member.name.to_string(),
            ts: super::store::now_ms(),
        }
    }

    /// Queues a notice for the room's next sync round.
    fn announce(&self, notice: Notice) {
        let room = notice.room.clone();
        lock(&self.0.pending_notices)
            .entry(room.clone())
            .or_default()
            .push(notice);
        self.touch(&room);
    }

    /// Someone's last connection left `room`: tell the room after [`LEFT_GRACE`], unless they
    /// came back by then.
    fn departed(&self, room: &str, member: &Member) {
        let key = (room.to_owned(), member.id.clone());
        let left_at = Instant::now();
        lock(&self.0.recently_left).insert(key.clone(), left_at);
        let notice = self.notice(room, member, NoticeKind::Left);
        let chat = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LEFT_GRACE).await;
            let still_gone = !lock(&chat.0.presence).contains(&key.0, &key.1);
            let ours = lock(&chat.0.recently_left).get(&key) == Some(&left_at);
            if still_gone && ours {
                lock(&chat.0.recently_left).remove(&key);
                chat.announce(notice);
            }
        });
    }

    /// Every public room. The directory is asked at most once per [`ROOMS_FRESH_FOR`] (other
    /// nodes may have created rooms); a join storm must not cost a query per connection.
    async fn room_list(&self) -> Result<RoomList, StoreError> {
        if lock(&self.0.rooms_read).elapsed() > ROOMS_FRESH_FOR {
            let known = self.0.directory.rooms().await?;
            lock(&self.0.rooms).extend(known);
            *lock(&self.0.rooms_read) = Instant::now();
        }
        Ok(RoomList {
            rooms: lock(&self.0.rooms).iter().cloned().collect(),
        })
    }

    /// The name that goes with a token's identity: remembered, or new and remembered.
    async fn name_for(&self, user: &str) -> Result<String, StoreError> {
        let _one_at_a_time = self.0.naming.lock().await;
        for _ in 0..NAMING_ATTEMPTS {
            if let Some(name) = self.0.directory.name_of(user).await? {
                return Ok(name);
            }
            let name = lock(&self.0.names).assign(&mut rand::rng());
            match self.0.directory.remember(user, &name).await {
                Ok(()) => return Ok(name),
                // Given on another node meanwhile: it stays reserved here too; ask again.
                Err(StoreError::Taken(name)) => {
                    tracing::debug!(%name, "name taken elsewhere; trying another");
                }
                Err(e) => {
                    lock(&self.0.names).release(&name);
                    return Err(e);
                }
            }
        }
        Err(StoreError::Unavailable("no free name found".into()))
    }

    /// Makes a public room exist; tells everyone when it is new.
    async fn create_room<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
    ) -> Result<(), StoreError> {
        if lock(&self.0.rooms).contains(room) {
            return Ok(());
        }
        let added = self.0.directory.add_room(room).await?;
        lock(&self.0.rooms).insert(room.to_owned());
        if added {
            let list = self.room_list().await?;
            broadcast(io, &self.0.metrics, Vec::new(), &list).await;
        }
        Ok(())
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
    format!("u:{}", hex_digest(token, 16))
}

/// The public id that goes with an identity; others cannot get the identity back from it.
fn public_id(user: &str) -> String {
    hex_digest(
        &format!("public:{user}"),
        crate::protocol::PUBLIC_ID_LEN / 2,
    )
}

fn hex_digest(text: &str, bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..bytes]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether this connection may read `room`: a public room it joined, or a direct-message
/// conversation its person is part of.
fn may_read<A: Adapter>(s: &SocketRef<A>, member: &Member, room: &str) -> bool {
    if dm_partner(room, &member.id).is_some() {
        return true;
    }
    s.rooms().iter().any(|r| r == room)
}

fn not_yours(room: &str) -> ChatError {
    ChatError::new(
        ErrorCode::BadPayload,
        format!("You are not in {room:?}: join it first."),
    )
}

/// Runs before the server confirms the connection (`40`): reads the client's identity and
/// registers the handlers, so they are in place before the client can send anything.
async fn admit<A: Adapter>(
    s: SocketRef<A>,
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
                id: public_id(&user).into(),
                user: user.into(),
                name: name.into(),
                anonymous: false,
                room_peers: auth.room_peers,
                ip: peer_ip(&s.req_parts().extensions),
            }
        }
        None => {
            let user = format!("s:{}", s.id);
            Member {
                id: public_id(&user).into(),
                user: user.into(),
                name: lock(&chat.0.names).assign(&mut rand::rng()).into(),
                anonymous: true,
                room_peers: auth.room_peers,
                ip: peer_ip(&s.req_parts().extensions),
            }
        }
    };
    if let Some(ip) = member.ip {
        chat.0.guard.connected(ip);
    }
    chat.0.metrics.connected();
    s.extensions.insert(chat.0.metrics.clone());
    s.extensions.insert(member);
    s.extensions.insert(Resume(auth.last_seen));
    s.extensions
        .insert(Limit(Arc::new(Mutex::new(ConnectionLimit::new(
            &chat.0.config,
        )))));
    s.on(SendMessage::NAME, on_message::<A>);
    s.on(Resync::NAME, on_resync::<A>);
    s.on(JoinRoom::NAME, on_join::<A>);
    s.on(LeaveRoom::NAME, on_leave::<A>);
    s.on(TypingIn::NAME, on_typing::<A>);
    s.on_fallback(on_unknown_event::<A>);
    s.on_disconnect(on_disconnect::<A>);
    Ok(())
}

async fn on_connect<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
) {
    let reads = if member.room_peers {
        READS_ROOM_PEERS
    } else {
        READS_NAMES
    };
    s.join([
        DEFAULT_ROOM.to_owned(),
        user_room(&member.id),
        reads.to_owned(),
    ]);
    tracing::info!(sid = %s.id, name = %member.name, "connected");
    emit(&s, &NameGenerated(member.name.to_string()));
    emit(
        &s,
        &Welcome {
            id: member.id.to_string(),
            name: member.name.to_string(),
        },
    );
    match chat.room_list().await {
        Ok(list) => emit(&s, &list),
        Err(e) => tracing::warn!(sid = %s.id, error = %e, "room list not read"),
    }
    enter(&chat, &s, &member, DEFAULT_ROOM).await;
    let resume = s.extensions.remove::<Resume>();
    let after = resume.and_then(|r| r.0.get(DEFAULT_ROOM).copied());
    chat.send_history(&s, DEFAULT_ROOM, after).await;
}

/// Counts a connection into a public room's presence, brings member lists up to date, and
/// announces the arrival unless the person was there moments ago.
async fn enter<A: Adapter>(chat: &Chat, s: &SocketRef<A>, member: &Member, room: &str) {
    let arrived =
        lock(&chat.0.presence).join(room, member.id.clone(), s.id, member.name.to_string());
    if !s.connected() {
        // Gone while joining: its disconnect may have been handled already; undo.
        if lock(&chat.0.presence).leave(room, &member.id, &s.id) {
            chat.touch(room);
        }
        return;
    }
    if !arrived {
        // Another tab of someone already listed: only this tab needs the list.
        chat.send_peers_to(s, member, room).await;
        return;
    }
    chat.touch(room);
    let returned = lock(&chat.0.recently_left)
        .remove(&(room.to_owned(), member.id.clone()))
        .is_some_and(|left| left.elapsed() < LEFT_GRACE);
    if !returned {
        chat.announce(chat.notice(room, member, NoticeKind::Joined));
    }
}

/// A round's notices as sent: each one when there are few, else one summary per kind.
fn summarize(notices: Vec<Notice>) -> Vec<Notice> {
    if notices.len() <= NOTICES_PER_ROUND {
        return notices;
    }
    let mut summaries = Vec::new();
    for kind in [NoticeKind::Joined, NoticeKind::Left] {
        let of_kind: Vec<&Notice> = notices.iter().filter(|n| n.kind == kind).collect();
        if let Some(last) = of_kind.last() {
            summaries.push(Notice {
                name: format!("{} people", of_kind.len()),
                id: String::new(),
                kind,
                ..(*last).clone()
            });
        }
    }
    summaries
}

async fn on_join<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A>,
    TryData(request): TryData<JoinRoom>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(ChatError::new(
            ErrorCode::BadPayload,
            "`join` takes {room, after?}.",
        ));
    };
    if request.room.starts_with("dm:") {
        // A direct-message conversation: only its two people may open it.
        if dm_partner(&request.room, &member.id).is_none() {
            return reply.refuse(not_yours(&request.room));
        }
        reply.ack(&serde_json::json!({ "ok": true, "room": request.room }));
        return chat.send_history(&s, &request.room, request.after).await;
    }
    let room = match normalize_room(&request.room) {
        Ok(room) => room,
        Err(e) => return reply.refuse(e),
    };
    if let Err(e) = chat.create_room(&io, &room).await {
        tracing::error!(sid = %s.id, error = %e, "room not created");
        return reply.refuse(ChatError::new(
            ErrorCode::Unavailable,
            "The room could not be created; try again.",
        ));
    }
    if !s.rooms().iter().any(|r| *r == room) {
        s.join(room.clone());
        enter(&chat, &s, &member, &room).await;
    }
    reply.ack(&serde_json::json!({ "ok": true, "room": room }));
    chat.send_history(&s, &room, request.after).await;
}

async fn on_leave<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A>,
    TryData(request): TryData<LeaveRoom>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(ChatError::new(
            ErrorCode::BadPayload,
            "`leave` takes {room}.",
        ));
    };
    if request.room == DEFAULT_ROOM {
        return reply.refuse(ChatError::new(
            ErrorCode::BadPayload,
            "Everyone stays in general.",
        ));
    }
    if s.rooms().iter().any(|r| *r == request.room) {
        s.leave(request.room.clone());
        if lock(&chat.0.presence).leave(&request.room, &member.id, &s.id) {
            chat.touch(&request.room);
            chat.departed(&request.room, &member);
        }
    }
    reply.ack(&serde_json::json!({ "ok": true, "room": request.room }));
}

async fn on_message<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A>,
    TryData(sent): TryData<SendMessage>,
) {
    let Some(reply) = reply.admit() else { return };
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            tracing::debug!(sid = %s.id, error = %e, "message with a bad payload");
            return reply.refuse(ChatError::new(
                ErrorCode::BadPayload,
                "`message` takes a string, or an object {text, clientId, room, to}.",
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
    let room = match (sent.to(), sent.room()) {
        (Some(to), _) => {
            if !is_public_id(to) || to == &*member.id {
                return reply.refuse(ChatError::new(
                    ErrorCode::BadPayload,
                    "`to` must be another person's id.",
                ));
            }
            dm_room(&member.id, to)
        }
        (None, room) => {
            let room = room.unwrap_or(DEFAULT_ROOM).to_owned();
            if !may_read(&s, &member, &room) {
                return reply.refuse(not_yours(&room));
            }
            room
        }
    };
    let entry = Entry {
        room: &room,
        author: &member.user,
        sender: &member.name,
        from: &member.id,
        text,
        client_id: sent.client_id(),
    };
    let started = Instant::now();
    let stored = match chat.0.log.append(entry).await {
        Ok(stored) => {
            if !stored.duplicate {
                chat.0.metrics.message_stored(started.elapsed());
            }
            stored
        }
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "message not stored");
            return reply.refuse(ChatError::new(
                ErrorCode::Unavailable,
                "The message could not be stored; try again.",
            ));
        }
    };
    // Broadcast by the fan-out task, in id order; a retry of a stored message is acked
    // again but never broadcast twice.
    reply.ack(&MessageAck::accepted(&stored.message));
}

async fn on_resync<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A>,
    TryData(request): TryData<Resync>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(ChatError::new(
            ErrorCode::BadPayload,
            "`resync` takes {room, after}.",
        ));
    };
    if !may_read(&s, &member, &request.room) {
        return reply.refuse(not_yours(&request.room));
    }
    chat.0.metrics.resync();
    chat.send_history(&s, &request.room, Some(request.after))
        .await;
    reply.ack(&serde_json::json!({ "ok": true }));
}

/// Relays "typing…" to the others in the conversation, as a volatile event (a lost one just
/// means the indicator shows a little later). At most one per [`TYPING_GAP`] per connection;
/// the rest are dropped here, logged at trace level.
async fn on_typing<A: Adapter>(
    s: SocketRef<A>,
    Extension(member): Extension<Member>,
    TryData(request): TryData<TypingIn>,
) {
    let Ok(request) = request else {
        tracing::debug!(sid = %s.id, "bad typing payload ignored");
        return;
    };
    let clock = s.extensions.get::<TypingClock>().unwrap_or_default();
    {
        let mut last = lock(&clock.0);
        if last.is_some_and(|t| t.elapsed() < TYPING_GAP) {
            tracing::trace!(sid = %s.id, "typing signal throttled");
            return;
        }
        *last = Some(Instant::now());
    }
    s.extensions.insert(clock);
    let audience = match dm_partner(&request.room, &member.id) {
        Some(partner) => user_room(partner),
        None if s.rooms().iter().any(|r| *r == request.room) => request.room.clone(),
        None => {
            tracing::debug!(sid = %s.id, room = %request.room, "typing outside own rooms ignored");
            return;
        }
    };
    let typing = Typing {
        room: request.room,
        id: member.id.to_string(),
        name: member.name.to_string(),
    };
    if let Err(e) = s.volatile().to(audience).emit(Typing::NAME, &typing).await {
        tracing::trace!(error = %e, "typing relay incomplete");
    }
}

async fn on_unknown_event<A: Adapter>(s: SocketRef<A>, Event(event): Event, reply: Reply<A>) {
    let Some(reply) = reply.admit() else { return };
    tracing::debug!(sid = %s.id, %event, "unknown event");
    reply.refuse(ChatError::new(
        ErrorCode::UnknownEvent,
        format!("Unknown event {event:?}."),
    ));
}

async fn on_disconnect<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    reason: DisconnectReason,
) {
    let Some(member) = s.extensions.get::<Member>() else {
        return;
    };
    chat.0.metrics.disconnected();
    if member.anonymous {
        lock(&chat.0.names).release(&member.name);
    }
    if let Some(ip) = member.ip {
        chat.0.guard.disconnected(ip);
    }
    for room in s.rooms() {
        if lock(&chat.0.presence).leave(&room, &member.id, &s.id) {
            chat.touch(&room);
            if reason != DisconnectReason::ClosingServer {
                chat.departed(&room, &member);
            }
        }
    }
    tracing::info!(sid = %s.id, name = %member.name, %reason, "disconnected");
}

/// Sends a typed event to one socket; a failure is logged with the socket and event.
fn emit<E: WireEvent, A: Adapter>(s: &SocketRef<A>, event: &E) {
    if let Err(e) = s.emit(E::NAME, event) {
        if let Some(metrics) = s.extensions.get::<Metrics>() {
            metrics.dropped(1);
        }
        tracing::warn!(sid = %s.id, event = E::NAME, error = %e, "emit failed");
    }
}

/// Broadcasts an event to `rooms` (everyone when empty) on every node. When the other nodes
/// cannot be reached (Redis away), this node's clients still get it.
async fn broadcast<E: WireEvent, A: Adapter>(
    io: &SocketIo<A>,
    metrics: &Metrics,
    rooms: Vec<String>,
    event: &E,
) {
    let sent = io.to(rooms.clone()).emit(E::NAME, event).await;
    let sent = match sent {
        Err(BroadcastError::Adapter(e)) => {
            tracing::warn!(event = E::NAME, error = %e, "other nodes unreachable; sent here only");
            io.local().to(rooms).emit(E::NAME, event).await
        }
        other => other,
    };
    if let Err(e) = sent {
        metrics.broadcast_failed(&e);
        tracing::debug!(event = E::NAME, error = %e, "broadcast incomplete");
    }
}

/// Whether a broadcast failed because some client's queue was full (it stopped reading).
fn queue_full(error: &BroadcastError) -> bool {
    matches!(error, BroadcastError::Socket(errors)
        if errors.iter().any(|e| matches!(e, SocketError::InternalChannelFull)))
}

/// Roughly what one copy of a room's member list costs on the wire.
fn list_bytes(peers: &[Peer]) -> usize {
    peers.iter().map(|p| p.name.len() + p.id.len() + 20).sum()
}

/// A room's member lists as sent: `room-peers` always, and the tutorial's `update-peers`
/// (names only) for `general`.
fn peer_lists(room: &str, peers: Vec<Peer>) -> (Option<UpdatePeers>, RoomPeers) {
    let names =
        (room == DEFAULT_ROOM).then(|| UpdatePeers(peers.iter().map(|p| p.name.clone()).collect()));
    let peers = RoomPeers {
        room: room.to_owned(),
        peers,
    };
    (names, peers)
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
    /// Counts the event against the connection's rate: `None` (after answering) when it is
    /// over, and the connection is dropped when it keeps going.
    fn admit(self) -> Option<Self> {
        let verdict = match self.socket.extensions.get::<Limit>() {
            Some(limit) => lock(&limit.0).check(std::time::Instant::now()),
            None => Verdict::Allow,
        };
        if verdict == Verdict::Allow {
            return Some(self);
        }
        let error = ChatError::new(
            ErrorCode::RateLimited,
            "You are sending too fast; wait a moment.",
        );
        self.answer_refusal(error, verdict);
        None
    }

    /// Acknowledges with `answer` (nothing is sent when the client asked for no ack).
    fn ack<T: serde::Serialize + ?Sized>(self, answer: &T) {
        if let Some(limit) = self.socket.extensions.get::<Limit>() {
            lock(&limit.0).clear();
        }
        self.send_ack(answer);
    }

    fn send_ack<T: serde::Serialize + ?Sized>(self, answer: &T) {
        let sid = self.socket.id;
        if let Err(e) = self.ack.send(answer) {
            tracing::warn!(%sid, error = %e, "ack failed");
        }
    }

    /// Refuses the event; a connection refused too often in a row is dropped.
    fn refuse(self, error: ChatError) {
        let verdict = match self.socket.extensions.get::<Limit>() {
            Some(limit) => lock(&limit.0).strike(),
            None => Verdict::Limit,
        };
        self.answer_refusal(error, verdict);
    }

    fn answer_refusal(self, error: ChatError, verdict: Verdict) {
        tracing::debug!(sid = %self.socket.id, code = ?error.code, "refused");
        if let Some(metrics) = self.socket.extensions.get::<Metrics>() {
            metrics.refused();
        }
        let socket = self.socket.clone();
        if self.wants_ack {
            self.send_ack(&MessageAck::refused(error));
        } else {
            emit(&socket, &error);
        }
        if verdict == Verdict::Drop {
            tracing::warn!(sid = %socket.id, "dropped for abuse");
            if let Err(e) = socket.disconnect() {
                tracing::debug!(error = %e, "disconnect failed");
            }
        }
    }
}
