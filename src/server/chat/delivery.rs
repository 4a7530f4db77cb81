//! Getting messages to people: the fan-out of committed messages in id order, history pages
//! (recent on connect, everything after an id on resync), and the emit/broadcast helpers
//! every other part sends with (failures logged and counted, never ignored).

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{BroadcastError, SocketError, SocketIo};
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::metrics::Metrics;
use super::super::store::Committed;
use super::{Chat, user_room};
use crate::protocol::{Conversation, History, MessageUpdated, NewMessage, WireEvent};

/// Messages per `history` event, and how many events one request may take.
const HISTORY_BATCH: usize = 200;
const HISTORY_BATCHES_PER_REQUEST: usize = 25;
/// Changed messages one resync sends at most (as `messageUpdated` events).
const CHANGES_PER_REQUEST: usize = 2000;

impl Chat {
    /// Delivers every new message (`newMessage`) and every change (`messageUpdated`) to this
    /// node's clients, in the order the log committed them (so in id and change order per
    /// room): a room's to its members, a direct conversation's to its two people. `committed`
    /// is the log's feed; with several nodes it carries every node's, so each node delivers
    /// locally. Runs until dropped; must be stopped before `SocketIo::close`.
    pub async fn fan_out<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut committed: UnboundedReceiver<Committed>,
    ) {
        while let Some(committed) = committed.recv().await {
            let message = committed.message();
            let audience = match Conversation::parse(&message.room).and_then(|c| {
                c.parties()
                    .map(|(low, high)| vec![user_room(low), user_room(high)])
            }) {
                Some(people) => people,
                None => vec![message.room.clone()],
            };
            let local = io.local().to(audience);
            let sent = match &committed {
                Committed::New(message) => local.emit(NewMessage::NAME, message).await,
                Committed::Updated(message) => {
                    let updated = MessageUpdated(message.clone());
                    local.emit(MessageUpdated::NAME, &updated).await
                }
            };
            if let Err(e) = sent {
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

    /// Sends `room`'s messages after `after` (or the most recent ones when `after` is None) as
    /// `history` events, in batches, oldest first; then, when the client says which change it
    /// saw last, the messages up to `after` changed since, as `messageUpdated` events.
    pub(super) async fn send_history<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        room: &str,
        after: Option<u64>,
        changes: Option<u64>,
    ) {
        match after {
            None => self.send_recent(s, room).await,
            Some(after) => {
                self.send_after(s, room, after).await;
                if let Some(since) = changes {
                    self.send_changes(s, room, since, after).await;
                }
            }
        }
    }

    /// Sends the messages up to `up_to` whose change number is above `since`, in change
    /// order: what a returning client missed about the messages it holds.
    async fn send_changes<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        room: &str,
        mut since: u64,
        up_to: u64,
    ) {
        let mut sent = 0;
        while sent < CHANGES_PER_REQUEST {
            let changed = match self.0.log.changed(room, since, up_to, HISTORY_BATCH).await {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::error!(sid = %s.id, error = %e, "changes not loaded");
                    return;
                }
            };
            let full = changed.len() == HISTORY_BATCH;
            for message in changed {
                since = since.max(message.rev);
                sent += 1;
                if let Err(e) = s.emit(MessageUpdated::NAME, &MessageUpdated(message)) {
                    tracing::warn!(sid = %s.id, error = %e, "changes cut short");
                    return;
                }
            }
            if !full {
                return;
            }
        }
    }

    async fn send_recent<A: Adapter>(&self, s: &SocketRef<A>, room: &str) {
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
    }

    async fn send_after<A: Adapter>(&self, s: &SocketRef<A>, room: &str, mut after: u64) {
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

/// Sends a typed event to one socket; a failure is logged with the socket and event.
pub(super) fn emit<E: WireEvent, A: Adapter>(s: &SocketRef<A>, event: &E) {
    if let Err(e) = s.emit(E::NAME, event) {
        if let Some(metrics) = s.extensions.get::<Metrics>() {
            metrics.dropped(1);
        }
        tracing::warn!(sid = %s.id, event = E::NAME, error = %e, "emit failed");
    }
}

/// Broadcasts an event to `rooms` (everyone when empty) on every node. When the other nodes
/// cannot be reached (Redis away), this node's clients still get it.
pub(super) async fn broadcast<E: WireEvent, A: Adapter>(
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
pub(super) fn queue_full(error: &BroadcastError) -> bool {
    matches!(error, BroadcastError::Socket(errors)
        if errors.iter().any(|e| matches!(e, SocketError::InternalChannelFull)))
}
