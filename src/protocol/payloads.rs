//! What the events carry: one type per event payload, shared by the server and the client.
//! The tutorial's shapes (`message` a string, `name-generated` a string, `update-peers` an
//! array of names, `newMessage` with `sender` and `message`) are kept; we add fields, never
//! remove or retype them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A message to post: the tutorial's bare string, or a [`Draft`] object (nothing else: an
/// array or number is refused, not guessed at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SendMessage {
    Text(String),
    Draft(Draft),
}

impl<'de> Deserialize<'de> for SendMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Object(serde_json::Map<String, Value>),
        }
        match Raw::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom("expected a string or an object {text, clientId}")
        })? {
            Raw::Text(text) => Ok(SendMessage::Text(text)),
            Raw::Object(object) => serde_json::from_value(Value::Object(object))
                .map(SendMessage::Draft)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl SendMessage {
    /// The room it is for, when it names one.
    pub fn room(&self) -> Option<&str> {
        match self {
            SendMessage::Text(_) => None,
            SendMessage::Draft(draft) => draft.room.as_deref(),
        }
    }

    /// The person it is for, when it is a direct message.
    pub fn to(&self) -> Option<&str> {
        match self {
            SendMessage::Text(_) => None,
            SendMessage::Draft(draft) => draft.to.as_deref(),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            SendMessage::Text(text) => text,
            SendMessage::Draft(draft) => &draft.text,
        }
    }

    pub fn client_id(&self) -> Option<&str> {
        match self {
            SendMessage::Text(_) => None,
            SendMessage::Draft(draft) => draft.client_id.as_deref(),
        }
    }

    /// The message it answers, when it is a reply.
    pub fn reply_to(&self) -> Option<u64> {
        match self {
            SendMessage::Text(_) => None,
            SendMessage::Draft(draft) => draft.reply_to,
        }
    }
}

/// A message with the sender's own id for it: sending the same id twice stores and
/// broadcasts the message once, so a client may retry whenever it is unsure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub text: String,
    #[serde(default, rename = "clientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The room to post in (default `general`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A person's public id: makes this a direct message to them (then `room` is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The id of the message this one answers, in the same conversation.
    #[serde(default, rename = "replyTo", skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoom {
    pub room: String,
    /// The last id the client holds in that room: history after it is sent (else recent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// The last change number the client has seen in that room: messages up to `after` that
    /// changed since are sent as `messageUpdated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<u64>,
}

/// "Give me the page of `room` before message `before`", answered in the ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Older {
    pub room: String,
    pub before: u64,
    /// At most [`crate::protocol::MAX_PAGE`]; [`crate::protocol::DEFAULT_PAGE`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Replace the text of one of my messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub room: String,
    pub id: u64,
    pub text: String,
}

/// Take back one of my messages: its text is erased, its place says "message deleted".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delete {
    pub room: String,
    pub id: u64,
}

/// Toggle my reaction `emoji` on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct React {
    pub room: String,
    pub id: u64,
    pub emoji: String,
}

/// One emoji on a message and who put it there (public ids, first first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveRoom {
    pub room: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingIn {
    pub room: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub room: String,
    /// The typist's public id and name.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    Joined,
    Left,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub room: String,
    pub kind: NoticeKind,
    pub id: String,
    pub name: String,
    /// Server time, in milliseconds since the Unix epoch.
    pub ts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub id: String,
    pub name: String,
}

/// Who is in a room: its whole member list, in the order people arrived, at most
/// `chat.peer-list-limit` of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPeers {
    pub room: String,
    pub peers: Vec<Peer>,
    /// Everyone in the room, also those beyond the list's limit.
    #[serde(default)]
    pub total: usize,
}

/// How a room's member list changed since the last `room-peers` or `peers-changed` this
/// client received for it (only to clients that said `peerChanges`). Applied to that list it
/// gives the new one: remove `left`, rename `renamed`, append `joined`. Applying one twice
/// changes nothing more, and a client without a list for the room ignores it (its list comes
/// as `room-peers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeersChanged {
    pub room: String,
    /// Newly listed people, in the order they arrived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<Peer>,
    /// Public ids of people no longer listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<String>,
    /// Listed people whose name changed: their id and new name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<Peer>,
    /// Everyone in the room, also those beyond the list's limit.
    pub total: usize,
}

impl PeersChanged {
    /// What turns member list `before` into `after` (both in arrival order).
    pub fn between(room: &str, before: &[Peer], after: &[Peer], total: usize) -> Self {
        let old: std::collections::HashMap<&str, &str> = before
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str()))
            .collect();
        let new: std::collections::HashSet<&str> = after.iter().map(|p| p.id.as_str()).collect();
        let mut change = PeersChanged {
            room: room.to_owned(),
            total,
            ..Self::default()
        };
        change.left = before
            .iter()
            .filter(|p| !new.contains(p.id.as_str()))
            .map(|p| p.id.clone())
            .collect();
        for peer in after {
            match old.get(peer.id.as_str()) {
                None => change.joined.push(peer.clone()),
                Some(name) if *name != peer.name => change.renamed.push(peer.clone()),
                Some(_) => {}
            }
        }
        change
    }

    /// Whether the list itself changed (not only the total).
    pub fn lists_anything(&self) -> bool {
        !(self.joined.is_empty() && self.left.is_empty() && self.renamed.is_empty())
    }

    /// Applies the change to a room's list (see the type's documentation).
    pub fn apply_to(&self, peers: &mut Vec<Peer>) {
        peers.retain(|p| !self.left.contains(&p.id));
        for renamed in &self.renamed {
            if let Some(peer) = peers.iter_mut().find(|p| p.id == renamed.id) {
                peer.name.clone_from(&renamed.name);
            }
        }
        for joined in &self.joined {
            match peers.iter_mut().find(|p| p.id == joined.id) {
                Some(peer) => peer.name.clone_from(&joined.name),
                None => peers.push(joined.clone()),
            }
        }
    }
}

/// "Send me what I missed in `room` after message `after`."
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resync {
    pub room: String,
    pub after: u64,
    /// The last change number seen in the room (see [`JoinRoom::changes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<u64>,
}

/// What a client sends in the Socket.IO connect packet (`40{...}`); every field optional, so
/// the tutorial's client (which sends nothing) is a valid, anonymous client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auth {
    /// A random secret the browser keeps; the same token keeps the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Per room, the last message id this client has: the server sends what came after.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub last_seen: std::collections::BTreeMap<String, u64>,
    /// Per room, the last change number this client has seen: messages it holds that were
    /// edited, deleted or reacted to since are sent again as `messageUpdated`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub changes: std::collections::BTreeMap<String, u64>,
    /// This client reads `room-peers` (ids and names, every room) and has no use for the
    /// tutorial's `update-peers`; the server then sends it `room-peers` only, and clients
    /// without it `update-peers` only. Member lists are the biggest thing a busy server sends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub room_peers: bool,
    /// With `room_peers`: this client keeps each room's list itself, from one `room-peers` when
    /// it joins and `peers-changed` afterwards, instead of a whole list per change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peer_changes: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NameGenerated(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UpdatePeers(pub Vec<String>);

/// A message as everyone receives it. `sender` and `message` are the tutorial's fields; the
/// rest are ours, and clients that do not know them ignore them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// The sender's display name, as the server knows it.
    pub sender: String,
    /// The text, cleaned and length-checked by the server.
    pub message: String,
    /// The room it was posted in.
    pub room: String,
    /// Increasing per room, assigned by the server.
    pub id: u64,
    /// When the server accepted it, in milliseconds since the Unix epoch.
    pub ts: u64,
    /// The sender's own id for it, when the sender gave one.
    #[serde(default, rename = "clientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The sender's public id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// The message this one answers (same conversation).
    #[serde(default, rename = "replyTo", skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// The room's change number when this message was posted or last changed: every post,
    /// edit, deletion and reaction takes the room's next one. A client that remembers the
    /// highest it saw asks for the changes after it when it comes back.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rev: u64,
    /// When the text was last edited, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<u64>,
    /// The author took it back: `message` is empty and stays so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Emoji on it, in the order they were first put there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The public ids of the people its text mentions (`@name`), as the server resolved them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl NewMessage {
    /// Erases the text and reactions: what is left of a deleted message.
    pub fn erase(&mut self) {
        self.message.clear();
        self.reactions.clear();
        self.mentions.clear();
        self.edited = None;
        self.deleted = true;
    }

    /// Puts `who`'s `emoji` on the message or takes it off; false when adding would pass
    /// [`crate::protocol::MAX_REACTIONS`] kinds.
    pub fn toggle_reaction(&mut self, emoji: &str, who: &str) -> bool {
        if let Some(at) = self.reactions.iter().position(|r| r.emoji == emoji) {
            let ids = &mut self.reactions[at].ids;
            match ids.iter().position(|id| id == who) {
                Some(mine) => {
                    ids.remove(mine);
                    if ids.is_empty() {
                        self.reactions.remove(at);
                    }
                }
                None => ids.push(who.to_owned()),
            }
            return true;
        }
        if self.reactions.len() >= crate::protocol::MAX_REACTIONS {
            return false;
        }
        self.reactions.push(Reaction {
            emoji: emoji.to_owned(),
            ids: vec![who.to_owned()],
        });
        true
    }
}

/// A message's whole current state after an edit, a deletion or a reaction: `newMessage`'s
/// shape, always with `reactions` (possibly empty), `edited` when edited, `deleted: true` and
/// an empty `message` when deleted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct MessageUpdated(pub NewMessage);

impl Serialize for MessageUpdated {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(flatten)]
            message: &'a NewMessage,
            /// Present even when empty, for clients that read it unconditionally.
            #[serde(rename = "reactions", skip_serializing_if = "Option::is_none")]
            no_reactions: Option<[(); 0]>,
        }
        Wire {
            message: &self.0,
            no_reactions: self.0.reactions.is_empty().then_some([]),
        }
        .serialize(serializer)
    }
}

/// A page of older messages, oldest first; `more` when there are older ones still.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub messages: Vec<NewMessage>,
    pub more: bool,
}

/// A batch of past messages of one room, oldest first. `after` is the id they follow (0 for
/// "the most recent ones"); `latest` is the room's newest id when the batch was read, so the
/// client knows where it stands even when the batch is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub room: String,
    pub messages: Vec<NewMessage>,
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub latest: u64,
    /// The catch-up stopped at its size limit: there is more after `latest` (ask with
    /// `resync {room, after: latest}`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

/// What went wrong, in a form both a program and a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatError {
    pub code: ErrorCode,
    pub message: String,
}

impl ChatError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The message was empty after trimming.
    Empty,
    /// The message was longer than the limit.
    TooLong,
    /// The payload had the wrong type or shape.
    BadPayload,
    /// The event is not one the server knows.
    UnknownEvent,
    /// The message could not be handled right now (not connected, storage down); retry.
    Unavailable,
    /// Too many events too fast; slow down.
    RateLimited,
    /// No message with that id in that conversation (or it is not one you may read).
    NotFound,
    /// Only the author (or, for some acts, a moderator) may do that.
    NotAllowed,
    /// The message was deleted: it cannot be edited, answered or reacted to.
    Deleted,
    /// A reaction must be exactly one emoji.
    NotEmoji,
    /// The message carries as many kinds of reaction as it may.
    TooManyReactions,
    /// A moderator muted you for a while: you can read, not post.
    Muted,
    /// A moderator banned you: the connection closes.
    Banned,
    /// Someone else has that name (or one that looks the same).
    NameTaken,
    /// A name breaks the rules (length, characters).
    BadName,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn peer(id: &str, name: &str) -> Peer {
        Peer {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_change_says_who_joined_left_and_was_renamed() {
        let before = [peer("a", "ann"), peer("b", "bob"), peer("c", "cat")];
        let after = [peer("a", "Ann Lee"), peer("c", "cat"), peer("d", "dan")];
        let change = PeersChanged::between("general", &before, &after, 7);
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            serde_json::json!({
                "room": "general",
                "joined": [{"id": "d", "name": "dan"}],
                "left": ["b"],
                "renamed": [{"id": "a", "name": "Ann Lee"}],
                "total": 7,
            })
        );
        let same = PeersChanged::between("general", &after, &after, 8);
        assert!(!same.lists_anything());
        assert_eq!(
            serde_json::to_value(&same).unwrap(),
            serde_json::json!({"room": "general", "total": 8})
        );
    }

    /// Lists of distinct ids (in arrival order) with names from a small set, so renames happen.
    fn lists() -> impl Strategy<Value = Vec<Peer>> {
        proptest::sample::subsequence((0..12).collect::<Vec<u8>>(), 0..12).prop_flat_map(|ids| {
            let n = ids.len();
            (Just(ids), proptest::collection::vec(0..3u8, n)).prop_map(|(ids, names)| {
                ids.iter()
                    .zip(names)
                    .map(|(id, name)| peer(&format!("p{id}"), &format!("n{name}")))
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn applying_a_change_turns_the_old_list_into_the_new_one(before in lists(), after in lists()) {
            let change = PeersChanged::between("r", &before, &after, after.len());
            let mut held = before.clone();
            change.apply_to(&mut held);
            let by_id = |l: &[Peer]| {
                let mut l = l.to_vec();
                l.sort_by(|a, b| a.id.cmp(&b.id));
                l
            };
            prop_assert_eq!(by_id(&held), by_id(&after));
            // Applied twice (a resend to a slow reader), it changes nothing more.
            change.apply_to(&mut held);
            prop_assert_eq!(by_id(&held), by_id(&after));
        }
    }
}
