//! Catching one client up: the recent page of a room on connect or join, or what changed since
//! the change number it saw and then everything after the id it holds. Bounded, so that asking
//! cannot pin much memory: each `history` event holds at most [`EVENT_BYTES`] of messages, one
//! request sends at most [`REQUEST_BYTES`] (the last event then says `more`, and the client
//! asks again from there), and a connection has one catch-up composing at a time (the next
//! waits). A connection's queue holds a bounded number of packets, so its catch-ups can hold
//! at most that many bounded events.

use std::sync::Arc;

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::Chat;
use super::delivery::emit;
use crate::protocol::{History, MessageUpdated, NewMessage, WireEvent};

/// Messages read from the log at a time.
const READ_BATCH: usize = 200;
/// Largest `history` event, in (estimated) bytes of JSON.
pub(super) const EVENT_BYTES: usize = 32 * 1024;
/// Most bytes one request sends (history and changes together).
pub(super) const REQUEST_BYTES: usize = 512 * 1024;

/// One catch-up at a time per connection (in its extensions from admission on).
#[derive(Debug, Clone, Default)]
pub(super) struct CatchUpTurn(Arc<tokio::sync::Mutex<()>>);

/// About what a message takes as JSON: its text and names, and the fixed fields around them.
fn size_of(message: &NewMessage) -> usize {
    const FIELDS: usize = 160;
    message.message.len()
        + message.sender.len()
        + message.room.len()
        + message.client_id.as_ref().map_or(0, String::len)
        + message
            .reactions
            .iter()
            .map(|r| r.emoji.len() + 20 * r.ids.len() + 20)
            .sum::<usize>()
        + FIELDS
}

/// The next messages that fit in one event (at least one, when there is one).
fn next_event(
    pending: &mut std::iter::Peekable<impl Iterator<Item = NewMessage>>,
) -> Vec<NewMessage> {
    let mut messages = Vec::new();
    let mut bytes = 0;
    while let Some(size) = pending.peek().map(size_of) {
        if !messages.is_empty() && bytes + size > EVENT_BYTES {
            break;
        }
        bytes += size;
        messages.extend(pending.next());
    }
    messages
}

impl Chat {
    /// Sends `room`'s messages after `after` (or the most recent ones when `after` is None) as
    /// `history` events, oldest first; then, when the client says which change it saw last,
    /// the messages up to `after` changed since, as `messageUpdated` events.
    pub(super) async fn send_history<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        room: &str,
        after: Option<u64>,
        changes: Option<u64>,
    ) {
        let turn = s.extensions.get::<CatchUpTurn>().unwrap_or_default();
        let _turn = turn.0.lock().await;
        match after {
            None => self.send_recent(s, room).await,
            Some(after) => {
                // Changes first, in change order, then what came after: a client raises its
                // change cursor with every message it receives, so the history's newer
                // change numbers must not arrive before the changes they would skip.
                let mut budget = REQUEST_BYTES;
                if let Some(since) = changes
                    && !self.send_changes(s, room, since, after, &mut budget).await
                {
                    // Cut at the size limit: the client asks again from its new cursor.
                    let history = History {
                        room: room.to_owned(),
                        messages: Vec::new(),
                        after,
                        latest: after,
                        more: true,
                    };
                    emit(s, &history);
                    return;
                }
                self.send_after(s, room, after, &mut budget).await;
            }
        }
    }

    /// The most recent page (`history-on-connect` messages), in as many bounded events as
    /// it takes.
    async fn send_recent<A: Adapter>(&self, s: &SocketRef<A>, room: &str) {
        let limit = self.0.config.history_on_connect;
        match self.0.log.recent(room, limit).await {
            Ok(messages) => {
                let mut after = messages.first().map_or(0, |m| m.id.saturating_sub(1));
                let mut pending = messages.into_iter().peekable();
                loop {
                    let messages = next_event(&mut pending);
                    let latest = messages.last().map_or(after, |m| m.id);
                    let history = History {
                        room: room.to_owned(),
                        messages,
                        after,
                        latest,
                        more: false,
                    };
                    emit(s, &history);
                    after = latest;
                    if pending.peek().is_none() {
                        return;
                    }
                }
            }
            Err(e) => tracing::error!(sid = %s.id, error = %e, "history not loaded"),
        }
    }

    /// Sends everything after `after` within `budget` bytes, in events of at most
    /// [`EVENT_BYTES`] (at least one message each); true when it all went. When the budget
    /// runs out first, the last event says `more`.
    async fn send_after<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        room: &str,
        mut after: u64,
        budget: &mut usize,
    ) -> bool {
        let mut events = 0;
        loop {
            let read = match self.0.log.after(room, after, READ_BATCH).await {
                Ok(read) => read,
                Err(e) => {
                    tracing::error!(sid = %s.id, error = %e, "history not loaded");
                    return false;
                }
            };
            let exhausted = read.len() < READ_BATCH;
            if read.is_empty() && events > 0 {
                return true;
            }
            let mut pending = read.into_iter().peekable();
            loop {
                let messages = next_event(&mut pending);
                let bytes: usize = messages.iter().map(size_of).sum();
                events += 1;
                *budget = budget.saturating_sub(bytes.max(EVENT_BYTES / 8));
                let left = pending.peek().is_some() || !exhausted;
                let more = left && *budget < EVENT_BYTES;
                let latest = messages.last().map_or(after, |m| m.id);
                let history = History {
                    room: room.to_owned(),
                    messages,
                    after,
                    latest,
                    more,
                };
                if let Err(e) = s.emit(History::NAME, &history) {
                    // Its queue is full: the client will notice the gap and ask again.
                    tracing::warn!(sid = %s.id, error = %e, "resync cut short");
                    return false;
                }
                after = latest;
                if more {
                    return false;
                }
                if pending.peek().is_none() {
                    break;
                }
            }
            if exhausted {
                return true;
            }
        }
    }

    /// Sends the messages up to `up_to` whose change number is above `since`, in change
    /// order, within `budget` bytes: what a returning client missed about the messages it
    /// holds. False when the budget ran out (or sending failed) before the last one.
    async fn send_changes<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        room: &str,
        mut since: u64,
        up_to: u64,
        budget: &mut usize,
    ) -> bool {
        loop {
            let changed = match self.0.log.changed(room, since, up_to, READ_BATCH).await {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::error!(sid = %s.id, error = %e, "changes not loaded");
                    return false;
                }
            };
            let exhausted = changed.len() < READ_BATCH;
            for message in changed {
                let size = size_of(&message);
                if size > *budget {
                    return false;
                }
                *budget -= size;
                since = since.max(message.rev);
                if let Err(e) = s.emit(MessageUpdated::NAME, &MessageUpdated(message)) {
                    tracing::warn!(sid = %s.id, error = %e, "changes cut short");
                    return false;
                }
            }
            if exhausted {
                return true;
            }
        }
    }
}
