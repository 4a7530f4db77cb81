//! The chat connection, as the UI sees it: signals for the connection state, my name, who is
//! online, the messages and my not-yet-confirmed messages, plus [`Chat::send`] and
//! [`Chat::retry`]. Components never see frames.
//!
//! The protocol state machine ([`session`]) is plain Rust shared with native clients; the
//! browser transport (WebSocket with a long-polling fallback, timers, reconnection, the
//! identity token) exists only in the `hydrate` build and is started by [`Chat::connect`],
//! which does nothing during server rendering.

pub mod ids;
pub mod outbox;
pub mod session;
pub mod state;
pub mod typing;

#[cfg(feature = "hydrate")]
mod browser;

use std::collections::HashMap;

use futures::channel::mpsc;
use leptos::prelude::*;

use crate::protocol::{
    ChatError, DEFAULT_ROOM, NewMessage, Notice, Peer, clean_message, dm_partner,
};

/// Messages kept in memory, over all conversations; the oldest go first.
pub const MAX_SHOWN_MESSAGES: usize = 2000;

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
    /// The conversation: a room name or a `dm:` key.
    pub room: String,
    pub text: String,
    /// Why the server refused it, if it did; it then waits for [`Chat::retry`].
    pub failed: Option<String>,
}

/// What the UI asks of the connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Something was queued to send.
    Wake,
    /// Follow a room (or open a direct-message conversation) and load its history.
    Join(String),
    /// Stop following a room.
    Leave(String),
    /// I am typing in this conversation.
    Typing(String),
}

/// Someone typing, until when (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Typist {
    pub id: String,
    pub name: String,
    pub until: f64,
}

/// The chat's reactive state. `Copy`: pass it into closures freely.
#[derive(Clone, Copy)]
pub struct Chat {
    pub status: RwSignal<Status>,
    pub me: RwSignal<Option<String>>,
    /// My public id (others address direct messages to it).
    pub me_id: RwSignal<Option<String>>,
    /// Every public room.
    pub rooms: RwSignal<Vec<String>>,
    /// The conversations I follow: `general`, joined rooms, direct-message conversations.
    pub joined: RwSignal<Vec<String>>,
    /// The conversation on screen.
    pub active: RwSignal<String>,
    /// Who is in each room I follow.
    pub room_peers: RwSignal<HashMap<String, Vec<Peer>>>,
    /// Messages that arrived in a conversation while it was not on screen.
    pub unread: RwSignal<HashMap<String, u32>>,
    /// The other person's name in each direct-message conversation.
    pub dm_names: RwSignal<HashMap<String, String>>,
    /// Messages of every conversation, each list ordered by id.
    pub messages: RwSignal<Vec<NewMessage>>,
    /// My messages not confirmed yet, oldest first; they go out in this order.
    pub outgoing: RwSignal<Vec<Outgoing>>,
    /// Whether the connection fell back to HTTP long-polling.
    pub polling: RwSignal<bool>,
    /// The last refusal or problem to show next to the composer.
    pub error: RwSignal<Option<String>>,
    /// Arrivals and departures, oldest first (the last few hundred).
    pub notices: RwSignal<Vec<Notice>>,
    /// Who is typing, per conversation (never me).
    pub typists: RwSignal<HashMap<String, Vec<Typist>>>,
    /// Messages from others that arrived while the tab was hidden (shown in its title).
    pub unseen: RwSignal<u32>,
    /// True for a few seconds after the connection came back.
    pub back_online: RwSignal<bool>,
    /// Tells the connection task what the UI wants.
    commands: StoredValue<Option<mpsc::UnboundedSender<Command>>>,
    next_id: StoredValue<u64>,
}

impl Chat {
    pub fn new() -> Self {
        Chat {
            status: RwSignal::new(Status::Connecting),
            me: RwSignal::new(None),
            me_id: RwSignal::new(None),
            rooms: RwSignal::new(vec![DEFAULT_ROOM.to_owned()]),
            joined: RwSignal::new(vec![DEFAULT_ROOM.to_owned()]),
            active: RwSignal::new(DEFAULT_ROOM.to_owned()),
            room_peers: RwSignal::new(HashMap::new()),
            unread: RwSignal::new(HashMap::new()),
            dm_names: RwSignal::new(HashMap::new()),
            messages: RwSignal::new(Vec::new()),
            outgoing: RwSignal::new(Vec::new()),
            polling: RwSignal::new(false),
            error: RwSignal::new(None),
            notices: RwSignal::new(Vec::new()),
            typists: RwSignal::new(HashMap::new()),
            unseen: RwSignal::new(0),
            back_online: RwSignal::new(false),
            commands: StoredValue::new(None),
            next_id: StoredValue::new(0),
        }
    }

    pub fn is_online(&self) -> bool {
        self.status.get() == Status::Online
    }

    /// Queues a message to the conversation on screen, after checking it with the server's
    /// own rules. It goes out at once when online, or in order after the next reconnection.
    pub fn send(&self, text: &str) -> Result<(), ChatError> {
        let text = clean_message(text)?;
        self.error.set(None);
        let n = self.next_id.with_value(|n| *n + 1);
        self.next_id.set_value(n);
        let client_id = format!("{}-{n}", page_nonce());
        let room = self.active.get_untracked();
        self.outgoing.update(|list| {
            list.push(Outgoing {
                client_id,
                room,
                text,
                failed: None,
            })
        });
        self.command(Command::Wake);
        Ok(())
    }

    /// Puts a conversation on screen: following it if new, and clearing its unread count.
    pub fn focus(&self, room: &str) {
        if self.active.with_untracked(|a| a != room) {
            self.active.set(room.to_owned());
        }
        if self.unread.with_untracked(|u| u.contains_key(room)) {
            self.unread.update(|u| {
                u.remove(room);
            });
        }
        if !self.joined.with_untracked(|j| j.iter().any(|r| r == room)) {
            self.joined.update(|j| j.push(room.to_owned()));
            self.command(Command::Join(room.to_owned()));
        }
    }

    /// Says that I am typing in the conversation on screen (the connection task throttles).
    pub fn typing(&self) {
        self.command(Command::Typing(self.active.get_untracked()));
    }

    /// Who is typing in `room`, as a sentence, or `None`.
    pub fn typing_line(&self, room: &str) -> Option<String> {
        let names: Vec<String> = self.typists.with(|t| {
            t.get(room)
                .map(|list| list.iter().map(|t| t.name.clone()).collect())
                .unwrap_or_default()
        });
        match names.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            many => Some(format!("{} people are typing…", many.len())),
        }
    }

    /// Stops following a room (everyone stays in `general`).
    pub fn leave(&self, room: &str) {
        if room == DEFAULT_ROOM {
            return;
        }
        self.joined.update(|j| j.retain(|r| r != room));
        self.command(Command::Leave(room.to_owned()));
    }

    /// The people in a room I follow.
    pub fn peers_in(&self, room: &str) -> Vec<Peer> {
        self.room_peers
            .with(|p| p.get(room).cloned().unwrap_or_default())
    }

    /// How a conversation is shown: `#room`, or the other person's name for a direct one.
    pub fn title(&self, room: &str) -> String {
        if room.starts_with("dm:") {
            self.dm_names
                .with(|n| n.get(room).cloned())
                .unwrap_or_else(|| "Direct message".into())
        } else {
            format!("#{room}")
        }
    }

    /// The person a direct-message conversation is with (their public id).
    pub fn partner(&self, room: &str) -> Option<String> {
        let me = self.me_id.get_untracked()?;
        dm_partner(room, &me).map(str::to_owned)
    }

    /// Sends a refused message again.
    pub fn retry(&self, client_id: &str) {
        self.outgoing.update(|list| {
            if let Some(item) = list.iter_mut().find(|o| o.client_id == client_id) {
                item.failed = None;
            }
        });
        self.command(Command::Wake);
    }

    /// Gives up on a refused message.
    pub fn discard(&self, client_id: &str) {
        self.outgoing
            .update(|list| list.retain(|o| o.client_id != client_id));
    }

    fn command(&self, command: Command) {
        self.commands.with_value(|commands| {
            if let Some(commands) = commands {
                // Fails only once the connection task has ended (page unloading).
                let _ = commands.unbounded_send(command);
            }
        });
    }

    /// Opens the connection for the page's lifetime, reconnecting as needed (browser only).
    #[cfg(feature = "hydrate")]
    pub fn connect(&self) {
        if self.commands.with_value(Option::is_some) {
            return;
        }
        let (commands, received) = mpsc::unbounded();
        self.commands.set_value(Some(commands));
        browser::start(*self, received);
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

/// Adds messages to the list, keeping each conversation ordered by id, without duplicates
/// (history and live broadcasts can overlap), and at most [`MAX_SHOWN_MESSAGES`] long (the
/// oldest messages go first).
pub fn merge_messages(list: &mut Vec<NewMessage>, incoming: impl IntoIterator<Item = NewMessage>) {
    for message in incoming {
        let key = |m: &NewMessage| (m.room.clone(), m.id);
        match list.binary_search_by_key(&key(&message), key) {
            Ok(_) => {}
            Err(at) => list.insert(at, message),
        }
    }
    while list.len() > MAX_SHOWN_MESSAGES {
        let oldest = list
            .iter()
            .enumerate()
            .min_by_key(|(_, m)| m.ts)
            .map_or(0, |(i, _)| i);
        list.remove(oldest);
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
            from: String::new(),
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
    fn conversations_are_kept_apart_each_in_order() {
        let mut list = Vec::new();
        let mut other = msg(1);
        other.room = "rust".into();
        merge_messages(&mut list, [msg(2), other.clone(), msg(1)]);
        let keys: Vec<(String, u64)> = list.iter().map(|m| (m.room.clone(), m.id)).collect();
        assert_eq!(
            keys,
            [
                ("general".into(), 1),
                ("general".into(), 2),
                ("rust".into(), 1)
            ]
        );
        merge_messages(&mut list, [other]);
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn the_typing_line_names_one_typist_or_counts_several() {
        Owner::new().with(|| {
            let chat = Chat::new();
            assert_eq!(chat.typing_line("general"), None);
            let typist = |name: &str| Typist {
                id: name.into(),
                name: name.into(),
                until: 0.0,
            };
            chat.typists.update(|t| {
                t.insert("general".into(), vec![typist("blue-fish")]);
            });
            assert_eq!(
                chat.typing_line("general").as_deref(),
                Some("blue-fish is typing…")
            );
            chat.typists.update(|t| {
                t.insert(
                    "general".into(),
                    vec![typist("blue-fish"), typist("red-fox")],
                );
            });
            assert_eq!(
                chat.typing_line("general").as_deref(),
                Some("2 people are typing…")
            );
            assert_eq!(chat.typing_line("rust"), None);
        });
    }

    #[test]
    fn focusing_a_room_follows_it_and_clears_its_unread_count() {
        Owner::new().with(|| {
            let chat = Chat::new();
            chat.unread.update(|u| {
                u.insert("rust".into(), 3);
            });
            chat.focus("rust");
            assert_eq!(chat.active.get_untracked(), "rust");
            assert!(chat.unread.get_untracked().is_empty());
            assert_eq!(chat.joined.get_untracked(), ["general", "rust"]);
            chat.leave("rust");
            chat.leave("general");
            assert_eq!(chat.joined.get_untracked(), ["general"]);
        });
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

/// Local wall-clock formatting of server timestamps (milliseconds since the epoch).
pub mod clock {
    /// "14:05", and the full local date and time for a tooltip.
    #[cfg(feature = "hydrate")]
    pub fn local_time(ts: u64) -> (String, String, String) {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
        let short = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
        let full =
            String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED));
        let day = String::from(date.to_date_string());
        (short, full, day)
    }

    /// Native builds (server rendering, tests) format in UTC.
    #[cfg(not(feature = "hydrate"))]
    pub fn local_time(ts: u64) -> (String, String, String) {
        let secs = ts / 1000;
        let (h, m) = ((secs / 3600) % 24, (secs / 60) % 60);
        let days = secs / 86_400;
        (
            format!("{h:02}:{m:02}"),
            format!("day {days}, {h:02}:{m:02} UTC"),
            format!("day {days}"),
        )
    }

    /// Now, in milliseconds since the epoch.
    #[cfg(feature = "hydrate")]
    pub fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn now_ms() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    }
}
