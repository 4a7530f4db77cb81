//! The chat connection, as the UI sees it: signals for the connection state, my name, who is
//! online and the messages, plus [`Chat::send`]. Components never see frames.
//!
//! The protocol state machine ([`session`]) is plain Rust shared with native clients; the
//! browser transport (gloo-net WebSocket, timers, reconnection) exists only in the `hydrate`
//! build and is started by [`Chat::connect`], which does nothing during server rendering.

pub mod session;

#[cfg(feature = "hydrate")]
mod browser;

use futures::channel::mpsc;
use leptos::prelude::*;

use crate::protocol::{ChatError, ErrorCode, NewMessage, clean_message};

/// Messages kept on screen; older ones scroll out of memory.
pub const MAX_SHOWN_MESSAGES: usize = 500;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// First attempt under way.
    Connecting,
    /// Joined: messages can be sent.
    Online,
    /// Lost; the next attempt starts after `delay_ms`.
    Reconnecting { attempt: u32, delay_ms: u32 },
}

impl Status {
    pub fn label(self) -> String {
        match self {
            Status::Connecting => "Connecting…".into(),
            Status::Online => "Online".into(),
            Status::Reconnecting { delay_ms, .. } => {
                format!("Offline, retrying in {} s…", delay_ms.div_ceil(1000))
            }
        }
    }
}

/// The chat's reactive state. `Copy`: pass it into closures freely.
#[derive(Clone, Copy)]
pub struct Chat {
    pub status: RwSignal<Status>,
    pub me: RwSignal<Option<String>>,
    pub peers: RwSignal<Vec<String>>,
    pub messages: RwSignal<Vec<NewMessage>>,
    /// The last refusal or problem to show next to the composer.
    pub error: RwSignal<Option<String>>,
    /// Feeds the connection task; `None` until [`Chat::connect`] (and always during SSR).
    outbox: StoredValue<Option<mpsc::UnboundedSender<String>>>,
}

impl Chat {
    pub fn new() -> Self {
        Chat {
            status: RwSignal::new(Status::Connecting),
            me: RwSignal::new(None),
            peers: RwSignal::new(Vec::new()),
            messages: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            outbox: StoredValue::new(None),
        }
    }

    pub fn is_online(&self) -> bool {
        self.status.get() == Status::Online
    }

    /// Queues a message for sending after checking it with the server's own rules.
    pub fn send(&self, text: &str) -> Result<(), ChatError> {
        let text = clean_message(text)?;
        self.error.set(None);
        let queued = self.outbox.with_value(|tx| {
            tx.as_ref()
                .is_some_and(|tx| tx.unbounded_send(text).is_ok())
        });
        if queued {
            Ok(())
        } else {
            Err(ChatError::new(ErrorCode::Unavailable, "Not connected."))
        }
    }

    /// Opens the connection for the page's lifetime, reconnecting as needed (browser only).
    #[cfg(feature = "hydrate")]
    pub fn connect(&self) {
        if self.outbox.with_value(Option::is_some) {
            return;
        }
        let (tx, rx) = mpsc::unbounded();
        self.outbox.set_value(Some(tx));
        browser::start(*self, rx);
    }

    /// During server rendering there is no connection: the page renders its initial state.
    #[cfg(not(feature = "hydrate"))]
    pub fn connect(&self) {}
}

/// Adds messages to a room's list, keeping it ordered by id, without duplicates (history and
/// live broadcasts can overlap), and at most [`MAX_SHOWN_MESSAGES`] long.
pub fn merge_messages(list: &mut Vec<NewMessage>, incoming: impl IntoIterator<Item = NewMessage>) {
    for message in incoming {
        match list.binary_search_by_key(&message.id, |m| m.id) {
            Ok(_) => {}
            Err(at) => list.insert(at, message),
        }
    }
    if list.len() > MAX_SHOWN_MESSAGES {
        let excess = list.len() - MAX_SHOWN_MESSAGES;
        list.drain(..excess);
    }
}

impl Default for Chat {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64) -> NewMessage {
        NewMessage {
            sender: "red-fox".into(),
            message: format!("m{id}"),
            room: "general".into(),
            id,
            ts: id,
            client_id: None,
        }
    }

    fn ids(list: &[NewMessage]) -> Vec<u64> {
        list.iter().map(|m| m.id).collect()
    }

    #[test]
    fn history_and_live_messages_merge_in_order_without_duplicates() {
        let mut list = vec![msg(5)];
        merge_messages(&mut list, [msg(2), msg(3), msg(5), msg(4)]);
        assert_eq!(ids(&list), [2, 3, 4, 5]);
        merge_messages(&mut list, [msg(6), msg(3)]);
        assert_eq!(ids(&list), [2, 3, 4, 5, 6]);
    }

    #[test]
    fn only_the_newest_messages_are_kept() {
        let mut list = Vec::new();
        merge_messages(&mut list, (1..=MAX_SHOWN_MESSAGES as u64 + 10).map(msg));
        assert_eq!(list.len(), MAX_SHOWN_MESSAGES);
        assert_eq!(list[0].id, 11);
    }
}
