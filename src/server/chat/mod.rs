//! The chat itself: who is connected, in which conversations, and what they say.
//!
//! Conversations are rooms. Everyone is in [`DEFAULT_ROOM`] (so the tutorial's client, which
//! knows nothing of rooms, chats there as before) and may join public rooms by name. A direct
//! conversation (`dm:<id>:<id>` of two public ids) is delivered to each person's own socket
//! room (`user:<id>`), so nobody else can receive it, and only the two may load it.
//!
//! | file | holds |
//! |---|---|
//! | `connect.rs` | admitting a connection (its identity) and what it is sent on arrival |
//! | `handlers.rs` | one small async fn per client event, and the disconnect |
//! | `lifecycle.rs` | a posted message's later life: older pages, edits, deletions, reactions |
//! | `reply.rs` | answering an event: rate check, typed ack or `chat-error`, strikes |
//! | `identity.rs` | a person: user key (secret-derived), public id, display name |
//! | `rooms.rs` | the public rooms: cached from the directory, created, removed, expired |
//! | `notices.rs` | joined/left notices, their grace period and summaries |
//! | `peer_sync.rs` | keeping every client's member lists true, paced |
//! | `delivery.rs` | fan-out of committed messages and changes, emit/broadcast helpers |
//! | `catch_up.rs` | one client's history and missed changes, bounded in bytes, one at a time |
//! | `mentions.rs` | which people a message's `@name`s mean |
//! | `rename.rs` | choosing one's name, and every node learning of it |
//! | `moderation.rs` | reports, and moderators' mutes, bans, room removals and audit log |
//! | `search.rs` | `search`: who may search where, answered from the search index |
//!
//! Nothing a client sends is dropped silently: every refusal is answered (ack when the client
//! asked for one, a `chat-error` event otherwise) and logged.

mod catch_up;
mod connect;
mod delivery;
mod handlers;
mod identity;
mod lifecycle;
mod mentions;
mod moderation;
mod notices;
mod peer_sync;
mod rename;
mod reply;
mod rooms;
mod search;

use std::sync::{Arc, Mutex};

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::Sid;

use super::config::ChatSection;
use super::guard::Guard;
use super::metrics::Metrics;
use super::moderation::Moderation;
use super::presence::Presence;
use super::rate::RoomQuota;
use super::roster::Roster;
use super::search::SearchIndex;
use super::store::{Directory, Ledger, MessageLog, NameHolds, StoreError};
use crate::protocol::DEFAULT_ROOM;

use identity::Identity;
use notices::Notices;
use peer_sync::PeerSync;
use rooms::RoomDirectory;

/// Shared chat state, cheap to clone (one `Arc` inside).
#[derive(Clone)]
pub struct Chat(Arc<Inner>);

/// Each concern owns its own state (and lock); see the module table.
struct Inner {
    identity: Identity,
    /// Room members by public id, connections by socket id.
    presence: Mutex<Presence<Arc<str>, Sid>>,
    rooms: RoomDirectory,
    /// Who moderates, who is muted or banned.
    moderation: Moderation,
    /// This node's search index (it forgets rooms removed anywhere).
    search: SearchIndex,
    /// How many rooms each person and address may still create.
    room_quota: RoomQuota,
    notices: Notices,
    peer_sync: PeerSync,
    log: Arc<dyn MessageLog>,
    /// Everyone's member lists, across nodes.
    roster: Arc<dyn Roster>,
    metrics: Metrics,
    guard: Guard,
    config: ChatSection,
}

/// What a chat is built from: its storage, member lists across nodes, and this node's
/// counters, limits and settings.
pub struct Parts {
    pub log: Arc<dyn MessageLog>,
    pub directory: Arc<dyn Directory>,
    pub holds: Arc<dyn NameHolds>,
    pub ledger: Arc<dyn Ledger>,
    pub search: SearchIndex,
    pub roster: Arc<dyn Roster>,
    pub metrics: Metrics,
    pub guard: Guard,
    pub config: ChatSection,
}

impl Chat {
    /// The chat over its parts; names already given to returning people stay reserved.
    pub async fn new(parts: Parts) -> Result<Self, StoreError> {
        let identity = Identity::load(parts.directory.clone(), parts.holds).await?;
        let rooms = RoomDirectory::load(parts.directory).await?;
        let moderation =
            Moderation::load(parts.config.moderators.iter().cloned(), parts.ledger).await?;
        Ok(Chat(Arc::new(Inner {
            identity,
            presence: Mutex::new(Presence::default()),
            rooms,
            moderation,
            search: parts.search,
            room_quota: RoomQuota::new(&parts.config),
            notices: Notices::default(),
            peer_sync: PeerSync::default(),
            log: parts.log,
            roster: parts.roster,
            metrics: parts.metrics,
            guard: parts.guard,
            config: parts.config,
        })))
    }

    /// Registers the handlers on the main namespace. With a remote adapter the result is a
    /// future to await (it subscribes to the other nodes).
    pub fn attach<A: Adapter + socketioxide_core::adapter::DefinedAdapter>(
        io: &SocketIo<A>,
    ) -> A::InitRes {
        io.ns("/", connect::on_connect::<A>.with(connect::admit::<A>))
    }

    /// After how many days an empty, unused room goes, if ever.
    pub fn room_idle_days(&self) -> Option<f64> {
        Some(self.0.config.room_idle_days).filter(|days| *days > 0.0)
    }

    /// Forgets, now and then, the people not seen for `chat.name-hold-days`, so their names
    /// are free again (hourly, or twice per hold time when that is shorter). A server task.
    pub async fn forget_unseen_regularly(self) {
        let days = self.0.config.name_hold_days;
        if days <= 0.0 {
            return;
        }
        let period = std::time::Duration::from_secs_f64(days * 86_400.0 / 2.0)
            .min(super::store::RETENTION_EVERY)
            .max(std::time::Duration::from_millis(100));
        let mut every = tokio::time::interval(period);
        loop {
            every.tick().await;
            match self.0.identity.forget_unseen(days).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(gone, days, "names of people long gone freed"),
                Err(e) => tracing::warn!(error = %e, "freeing old names failed; trying later"),
            }
        }
    }

    /// Makes the message log durable and compact; call after the last socket closed.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.0.log.checkpoint().await
    }
}

/// The socket room of one person's connections, where their direct messages go.
fn user_room(id: &str) -> String {
    format!("user:{id}")
}

/// `general` always exists; the directory holds the others.
fn with_default_room(mut rooms: Vec<String>) -> Vec<String> {
    if !rooms.iter().any(|r| r == DEFAULT_ROOM) {
        rooms.push(DEFAULT_ROOM.to_owned());
    }
    rooms
}
