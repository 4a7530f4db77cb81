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
}

/// A message with the sender's own id for it: sending the same id twice stores and
/// broadcasts the message once, so a client may retry whenever it is unsure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoom {
    pub room: String,
    /// The last id the client holds in that room: history after it is sent (else recent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPeers {
    pub room: String,
    pub peers: Vec<Peer>,
}

/// "Send me what I missed in `room` after message `after`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resync {
    pub room: String,
    pub after: u64,
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
    /// This client reads `room-peers` (ids and names, every room) and has no use for the
    /// tutorial's `update-peers`; the server then sends it `room-peers` only, and clients
    /// without it `update-peers` only. Member lists are the biggest thing a busy server sends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub room_peers: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NameGenerated(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UpdatePeers(pub Vec<String>);

/// A message as everyone receives it. `sender` and `message` are the tutorial's fields; the
/// rest are ours, and clients that do not know them ignore them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}
