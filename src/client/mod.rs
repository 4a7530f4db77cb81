//! The chat connection, as the UI sees it: signals for the connection state, my name, who is
//! online, the messages and my not-yet-confirmed messages, plus [`Chat::send`] and
//! [`Chat::retry`]. Components never see frames.
//!
//! The protocol state machine ([`session`]) is plain Rust shared with native clients; the
//! browser transport (WebSocket with a long-polling fallback, timers, reconnection, the
//! identity token) exists only in the `hydrate` build and is started by [`Chat::connect`],
//! which does nothing during server rendering.

pub mod session;

#[cfg(feature = "hydrate")]
mod browser;

use futures::channel::mpsc;
use leptos::prelude::*;

use crate::protocol::{ChatError, NewMessage, clean_message};

/// Messages kept on screen; older ones scroll out of memory.
pub const MAX_SHOWN_MESSAGES: usize = 500;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// First attempt under way.
    Connecting,
    /// Joined: messages go out at once.
    Online,
    /// Lost; the next attempt starts after `delay_ms`. Messages typed now wait for it.
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

/// A message I sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Sent with the message; a resend with the same id is stored once.
    pub client_id: String,
    pub text: String,
    /// Why the server refused it, if it did; it then waits for [`Chat::retry`].
    pub failed: Option<String>,
}

/// The chat's reactive state. `Copy`: pass it into closures freely.
#[derive(Clone, Copy)]
pub struct Chat {
    pub status: RwSignal<Status>,
    pub me: RwSignal<Option<String>>,
    pub peers: RwSignal<Vec<String>>,
    pub messages: RwSignal<Vec<NewMessage>>,
    /// My messages not confirmed yet, oldest first; they go out in this order.
    pub outgoing: RwSignal<Vec<Outgoing>>,
    /// Whether the connection fell back to HTTP long-polling.
    pub polling: RwSignal<bool>,
    /// The last refusal or problem to show next to the composer.
    pub error: RwSignal<Option<String>>,
    /// Wakes the connection task when there is something new to send.
    kick: StoredValue<Option<mpsc::UnboundedSender<()>>>,
    next_id: StoredValue<u64>,
}

impl Chat {
    pub fn new() -> Self {
        Chat {
            status: RwSignal::new(Status::Connecting),
            me: RwSignal::new(None),
            peers: RwSignal::new(Vec::new()),
            messages: RwSignal::new(Vec::new()),
            outgoing: RwSignal::new(Vec::new()),
            polling: RwSignal::new(false),
            error: RwSignal::new(None),
            kick: StoredValue::new(None),
            next_id: StoredValue::new(0),
        }
    }

    pub fn is_online(&self) -> bool {
        self.status.get() == Status::Online
    }

    /// Queues a message after checking it with the server's own rules. It goes out at once
    /// when online, or in order after the next reconnection.
    pub fn send(&self, text: &str) -> Result<(), ChatError> {
        let text = clean_message(text)?;
        self.error.set(None);
        let n = self.next_id.with_value(|n| *n + 1);
        self.next_id.set_value(n);
        let client_id = format!("{}-{n}", page_nonce());
        self.outgoing.update(|list| {
            list.push(Outgoing {
                client_id,
                text,
                failed: None,
            })
        });
        self.wake();
        Ok(())
    }

    /// Sends a refused message again.
    pub fn retry(&self, client_id: &str) {
        self.outgoing.update(|list| {
            if let Some(item) = list.iter_mut().find(|o| o.client_id == client_id) {
                item.failed = None;
            }
        });
        self.wake();
    }

    /// Gives up on a refused message.
    pub fn discard(&self, client_id: &str) {
        self.outgoing
            .update(|list| list.retain(|o| o.client_id != client_id));
    }

    fn wake(&self) {
        self.kick.with_value(|kick| {
            if let Some(kick) = kick {
                // Fails only once the connection task has ended (page unloading).
                let _ = kick.unbounded_send(());
            }
        });
    }

    /// Opens the connection for the page's lifetime, reconnecting as needed (browser only).
    #[cfg(feature = "hydrate")]
    pub fn connect(&self) {
        if self.kick.with_value(Option::is_some) {
            return;
        }
        let (kick, woken) = mpsc::unbounded();
        self.kick.set_value(Some(kick));
        browser::start(*self, woken);
    }

    /// During server rendering there is no connection: the page renders its initial state.
    #[cfg(not(feature = "hydrate"))]
    pub fn connect(&self) {}
}

impl Default for Chat {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes this page's client ids unique among every page of the same identity, past and
/// future: the server keeps each id for good, so a reused one would be taken for a retry.
#[cfg(feature = "hydrate")]
fn page_nonce() -> &'static str {
    browser::page_nonce()
}

/// Native builds (tests) only need ids unique within the process.
#[cfg(not(feature = "hydrate"))]
fn page_nonce() -> &'static str {
    "native"
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

    #[test]
    fn messages_queue_in_order_and_a_refused_one_can_be_retried_or_dropped() {
        let owner = Owner::new();
        owner.with(|| {
            let chat = Chat::new();
            chat.send(" first ").unwrap();
            chat.send("second").unwrap();
            assert!(chat.send("   ").is_err());
            let queued = chat.outgoing.get_untracked();
            assert_eq!(
                queued.iter().map(|o| o.text.as_str()).collect::<Vec<_>>(),
                ["first", "second"]
            );
            assert_ne!(queued[0].client_id, queued[1].client_id);

            let id = queued[0].client_id.clone();
            chat.outgoing
                .update(|l| l[0].failed = Some("too fast".into()));
            chat.retry(&id);
            assert_eq!(chat.outgoing.get_untracked()[0].failed, None);
            chat.discard(&id);
            assert_eq!(chat.outgoing.get_untracked().len(), 1);
        });
    }
}
