//! Getting messages to people: the fan-out of committed messages and changes in commit order,
//! and the emit/broadcast helpers every other part sends with (failures logged and counted,
//! never ignored). Catching one client up is `catch_up.rs`.

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{BroadcastError, SocketError, SocketIo};
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::metrics::Metrics;
use super::super::store::Committed;
use super::{Chat, user_room};
use crate::protocol::{Conversation, MessageUpdated, NewMessage, WireEvent};

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
