//! What the page knows, as signals: written only by [`ChatState`]'s methods, read by the UI
//! through [`ChatClient`](super::ChatClient). Plain Rust, no I/O, so every rule has a native
//! test. What needs the outside world (a frame, a timer, storage) comes back as an
//! [`Effect`] for the browser shell to carry out.
//!
//! - here: the signals, and what the page does (open, leave, queue, retry, restore);
//! - `events`: the server's events (the reducer, [`ChatState::apply`]);
//! - `messages`: the message stream (merging, cursors and resyncs, unread, direct ones);
//! - `lifecycle`: posted messages changing (updates, change cursors, older pages);
//! - `connection`: what the connection reports (status, joined, timers, acks);
//! - `moderation`: my standing (moderator, muted, banned) and the room list's changes;
//! - `records`: the reports and audit log pages a moderator loaded;
//! - `people`: names by id, my rename, mentions of me and the alerts they raise.

mod connection;
mod events;
mod lifecycle;
mod messages;
mod moderation;
mod people;
mod records;

use std::collections::HashMap;

use leptos::prelude::*;

use super::outbox::Outgoing;
use super::session::Cursor;
use super::typing::Typists;
use crate::protocol::{
    AuditEntry, Conversation, DEFAULT_ROOM, NewMessage, Notice, Peer, Report, Standing,
};

pub use moderation::{is_ban, muted_line};
pub use people::{Alert, RenameNote};
pub use records::{Log, Pages, merged};

/// Messages kept in memory, over all conversations; the oldest of those not on screen go
/// first.
pub const MAX_SHOWN_MESSAGES: usize = 2000;
/// Arrivals and departures kept.
pub const MAX_NOTICES: usize = 300;
/// How long "Back online" shows after a reconnection.
pub const BACK_ONLINE_MS: u32 = 3000;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// First attempt under way.
    Connecting,
    /// Joined: messages go out at once.
    Online,
    /// Lost; the next attempt starts after `delay_ms`. Messages typed now wait for it.
    Reconnecting { attempt: u32, delay_ms: u32 },
    /// This page cannot connect at all (the reason is in [`ChatState::error`]).
    Unavailable,
    /// A moderator banned me: no more attempts (the server's words are in the ban signal).
    Banned,
}

impl Status {
    pub fn label(self) -> String {
        match self {
            Status::Connecting => "Connecting…".into(),
            Status::Online => "Online".into(),
            Status::Reconnecting { delay_ms, .. } => {
                format!("Offline, retrying in {} s…", delay_ms.div_ceil(1000))
            }
            Status::Unavailable => "Cannot connect".into(),
            Status::Banned => "Banned".into(),
        }
    }
}

/// The page around an event: when it happens, and whether the tab is out of view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Env {
    /// Milliseconds since the epoch.
    pub now_ms: f64,
    pub tab_hidden: bool,
}

/// What the state asks of the outside world after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Ask for the messages of `room` after `after`: its ids jumped, something was missed.
    Resync { room: String, after: u64 },
    /// Join `room` (again), with its messages after `after`.
    Join { room: String, after: Option<u64> },
    /// The followed conversations or their names changed: keep them for the next visit.
    SaveConversations,
    /// Call [`ChatState::on_timer`] with `timer` in `ms` milliseconds.
    Later { ms: u32, timer: Timer },
    /// A message for me arrived while the tab was hidden: a notification, if allowed.
    Notify(Alert),
}

/// Something that happens a while after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Typists whose signal is old stop showing.
    ExpireTypists,
    /// My mute may be over.
    MuteEnds,
    /// "Back online" gives way to "Online".
    HideBackOnline,
}

/// What this browser remembers of its conversations between visits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remembered {
    /// The conversations followed besides `general`: public rooms and direct conversations.
    pub followed: Vec<String>,
    /// The other person's display name in each direct conversation.
    pub dm_names: HashMap<String, String>,
}

/// The chat's reactive state. `Copy`: pass it into closures freely.
#[derive(Clone, Copy)]
pub struct ChatState {
    pub(super) status: RwSignal<Status>,
    /// Whether the connection fell back to HTTP long-polling.
    pub(super) polling: RwSignal<bool>,
    /// True for a few seconds after the connection came back.
    pub(super) back_online: RwSignal<bool>,
    /// My display name and public id (others address direct messages to the id).
    pub(super) my_name: RwSignal<Option<String>>,
    pub(super) my_id: RwSignal<Option<String>>,
    /// Every public room.
    pub(super) rooms: RwSignal<Vec<String>>,
    /// The conversations I follow: `general`, joined rooms, direct conversations.
    pub(super) followed: RwSignal<Vec<String>>,
    /// The conversation on screen.
    pub(super) active: RwSignal<String>,
    /// Who is in each room I follow.
    pub(super) room_peers: RwSignal<HashMap<String, Vec<Peer>>>,
    /// How many people are in each room I follow (its list may name only the first of them).
    pub(super) room_totals: RwSignal<HashMap<String, usize>>,
    /// Messages that arrived in a conversation while it was not on screen.
    pub(super) unread: RwSignal<HashMap<String, u32>>,
    /// The other person's display name in each direct conversation.
    pub(super) dm_names: RwSignal<HashMap<String, String>>,
    /// Messages of every conversation, each conversation's ordered by id.
    pub(super) messages: RwSignal<Vec<NewMessage>>,
    /// My messages not confirmed yet, oldest first; they go out in this order.
    pub(super) outgoing: RwSignal<Vec<Outgoing>>,
    /// The last refusal or problem, shown next to the composer.
    pub(super) error: RwSignal<Option<String>>,
    /// The last request that was done and says so ("Reported — …"), shown in the same place.
    pub(super) done: RwSignal<Option<String>>,
    /// Arrivals and departures, oldest first (the last [`MAX_NOTICES`]).
    pub(super) notices: RwSignal<Vec<Notice>>,
    pub(super) typists: RwSignal<Typists>,
    /// Messages from others that arrived while the tab was hidden (shown in its title).
    pub(super) unseen: RwSignal<u32>,
    /// Those of them that mention me.
    pub(super) unseen_mentions: RwSignal<u32>,
    /// Per conversation, the unread messages that mention me.
    pub(super) mentioned: RwSignal<HashMap<String, u32>>,
    /// Everyone's latest display name, by public id.
    pub(super) names: RwSignal<HashMap<String, String>>,
    /// Where my last rename stands.
    pub(super) rename: RwSignal<Option<RenameNote>>,
    /// The notification someone clicked last (the page opens its conversation).
    pub(super) opened: RwSignal<Option<Alert>>,
    /// Per conversation, where this page stands in its message ids (across connections).
    cursors: StoredValue<HashMap<String, Cursor>>,
    /// Per conversation, the highest change number seen live or in history (across
    /// connections): the server sends what changed after it when the page comes back.
    changes: StoredValue<HashMap<String, u64>>,
    /// Per conversation, how far back its history is loaded.
    pub(super) older: RwSignal<HashMap<String, lifecycle::Backlog>>,
    /// Moderator or not, muted or not.
    pub(super) standing: RwSignal<Standing>,
    /// Reports that reached this moderator's page live, newest first.
    pub(super) reports: RwSignal<Vec<Report>>,
    /// The server's words when a moderator banned me (then the page stops connecting).
    pub(super) ban: RwSignal<Option<String>>,
    /// Followed rooms a moderator removed while this page was open (the page leaves them).
    pub(super) removed: RwSignal<Vec<String>>,
    /// The pages of reports and of the audit log loaded by this moderator.
    pub(super) report_pages: RwSignal<Pages<Report>>,
    pub(super) audit_pages: RwSignal<Pages<AuditEntry>>,
}

impl ChatState {
    pub fn new() -> Self {
        ChatState {
            status: RwSignal::new(Status::Connecting),
            polling: RwSignal::new(false),
            back_online: RwSignal::new(false),
            my_name: RwSignal::new(None),
            my_id: RwSignal::new(None),
            rooms: RwSignal::new(vec![DEFAULT_ROOM.to_owned()]),
            followed: RwSignal::new(vec![DEFAULT_ROOM.to_owned()]),
            active: RwSignal::new(DEFAULT_ROOM.to_owned()),
            room_peers: RwSignal::new(HashMap::new()),
            room_totals: RwSignal::new(HashMap::new()),
            unread: RwSignal::new(HashMap::new()),
            dm_names: RwSignal::new(HashMap::new()),
            messages: RwSignal::new(Vec::new()),
            outgoing: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            notices: RwSignal::new(Vec::new()),
            typists: RwSignal::new(Typists::default()),
            unseen: RwSignal::new(0),
            unseen_mentions: RwSignal::new(0),
            mentioned: RwSignal::new(HashMap::new()),
            names: RwSignal::new(HashMap::new()),
            rename: RwSignal::new(None),
            opened: RwSignal::new(None),
            cursors: StoredValue::new(HashMap::new()),
            changes: StoredValue::new(HashMap::new()),
            older: RwSignal::new(HashMap::new()),
            standing: RwSignal::new(Standing::default()),
            reports: RwSignal::new(Vec::new()),
            ban: RwSignal::new(None),
            removed: RwSignal::new(Vec::new()),
            report_pages: RwSignal::new(Pages::default()),
            audit_pages: RwSignal::new(Pages::default()),
            done: RwSignal::new(None),
        }
    }

    // What the page does.

    /// Puts `room` on screen and clears its unread count; true when it is newly followed
    /// (then it must be joined).
    pub fn focus(&self, room: &str) -> bool {
        if self.active.with_untracked(|a| a != room) {
            self.active.set(room.to_owned());
            // The conversation that went off screen may have been scrolled far back.
            if self
                .messages
                .with_untracked(|l| l.len() > MAX_SHOWN_MESSAGES)
            {
                self.messages.update(|list| messages::evict(list, room));
            }
        }
        if self.unread.with_untracked(|u| u.contains_key(room)) {
            self.unread.update(|u| {
                u.remove(room);
            });
        }
        if self.mentioned.with_untracked(|m| m.contains_key(room)) {
            self.mentioned.update(|m| {
                m.remove(room);
            });
        }
        self.follow(room)
    }

    /// Stops following `room`; false for `general`, which everyone stays in.
    pub fn unfollow(&self, room: &str) -> bool {
        if room == DEFAULT_ROOM {
            return false;
        }
        self.followed.update(|f| f.retain(|r| r != room));
        true
    }

    /// Queues one of my messages (already checked) behind the others.
    pub fn queue(&self, item: Outgoing) {
        self.error.set(None);
        self.done.set(None);
        self.outgoing.update(|list| list.push(item));
    }

    /// A refused message is to go again.
    pub fn retry(&self, client_id: &str) {
        self.outgoing.update(|list| {
            if let Some(item) = list.iter_mut().find(|o| o.client_id == client_id) {
                item.failed = None;
            }
        });
    }

    /// Gives up on a refused message.
    pub fn discard(&self, client_id: &str) {
        self.outgoing
            .update(|list| list.retain(|o| o.client_id != client_id));
    }

    /// Shows a problem next to the composer.
    pub fn show_error(&self, message: String) {
        self.done.set(None);
        self.error.set(Some(message));
    }

    /// Says that a request was done (in the place of the last problem).
    pub fn show_done(&self, message: String) {
        self.error.set(None);
        self.done.set(Some(message));
    }

    /// The tab is in view again: nothing is unseen any more.
    pub fn seen(&self) {
        self.unseen.set(0);
        self.unseen_mentions.set(0);
    }

    /// Adds the conversations this browser followed on its last visit.
    pub fn restore(&self, remembered: Remembered) {
        self.followed.update(|followed| {
            for room in remembered.followed {
                if !followed.contains(&room) {
                    followed.push(room);
                }
            }
        });
        self.dm_names.update(|n| n.extend(remembered.dm_names));
    }

    pub fn remembered(&self) -> Remembered {
        Remembered {
            followed: self.followed.get_untracked(),
            dm_names: self.dm_names.get_untracked(),
        }
    }

    // Reads that the UI and the connection share.

    /// The person a direct conversation is with (their public id).
    pub fn partner(&self, room: &str) -> Option<String> {
        let me = self.my_id.get_untracked()?;
        Conversation::parse(room)?.partner(&me).map(str::to_owned)
    }

    fn is_me(&self, public_id: &str) -> bool {
        self.my_id
            .with_untracked(|me| me.as_deref() == Some(public_id))
    }

    /// Moves this page's cursor in `room`; returns where to resync from if ids jumped.
    fn with_cursor(
        &self,
        room: &str,
        step: impl FnOnce(&mut Cursor) -> Option<u64>,
    ) -> Option<u64> {
        self.cursors
            .try_update_value(|c| step(c.entry(room.to_owned()).or_default()))
            .flatten()
    }

    /// Follows `room` if it is not yet; true if it was not.
    fn follow(&self, room: &str) -> bool {
        if self
            .followed
            .with_untracked(|f| f.iter().any(|r| r == room))
        {
            return false;
        }
        self.followed.update(|f| f.push(room.to_owned()));
        true
    }
}

impl Default for ChatState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_brings_back_the_conversations_and_their_names() {
        Owner::new().with(|| {
            let state = ChatState::new();
            state.focus("rust");
            let dm = Conversation::direct("0123456789abcdef", "aaaaaaaaaaaaaaaa")
                .unwrap()
                .key();
            let kept = Remembered {
                followed: vec!["general".into(), "rust".into(), dm.clone()],
                dm_names: HashMap::from([(dm.clone(), "blue-ann".into())]),
            };
            state.restore(kept.clone());
            assert_eq!(state.followed.get_untracked(), ["general", "rust", &dm]);
            assert_eq!(state.remembered(), kept);
        });
    }
}

/// What the tests of the state's parts share: me, someone else, and their messages.
#[cfg(test)]
mod fixtures {
    pub use super::*;
    pub use crate::protocol::{History, NewMessage, ServerEvent, Welcome};

    pub const ME: &str = "0123456789abcdef";
    pub const ANN: &str = "aaaaaaaaaaaaaaaa";
    pub const AT: Env = Env {
        now_ms: 1_000_000.0,
        tab_hidden: false,
    };
    pub const NOTHING: [Effect; 0] = [];

    /// A state that knows who I am (`red-fox`), with `general` on screen.
    pub fn welcomed() -> ChatState {
        let state = ChatState::new();
        let welcome = Welcome {
            id: ME.into(),
            name: "red-fox".into(),
        };
        assert_eq!(state.apply(ServerEvent::Welcome(welcome), AT), NOTHING);
        state
    }

    /// Message `id` in `room` from `from` (me, or `blue-ann`).
    pub fn message(room: &str, id: u64, from: &str) -> NewMessage {
        NewMessage {
            sender: if from == ME { "red-fox" } else { "blue-ann" }.into(),
            message: format!("m{id}"),
            room: room.into(),
            id,
            ts: id,
            client_id: None,
            from: from.into(),
            ..Default::default()
        }
    }

    pub fn history(room: &str, after: u64, messages: Vec<NewMessage>) -> ServerEvent {
        let latest = messages.last().map_or(after, |m| m.id);
        ServerEvent::History(History {
            room: room.into(),
            messages,
            after,
            latest,
            more: false,
        })
    }

    pub fn new_message(state: &ChatState, m: NewMessage, env: Env) -> Vec<Effect> {
        state.apply(ServerEvent::NewMessage(m), env)
    }
}
