//! The typed events, one enum per direction, shared by the server and the WASM client.
//!
//! Each event's wire name is written once, in the [`events!`] invocations below: it becomes the
//! enum variant's name, the payload type's [`WireEvent::NAME`] and the match arm that decodes
//! it. Renaming an event therefore changes both sides at once, or fails to compile.
//!
//! The tutorial's events keep their names and payload shapes: `message` carries a string,
//! `name-generated` a string, `update-peers` an array of names, `newMessage` an object with
//! `sender` and `message` (we add fields, never remove or retype them).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::codec::Frame;

/// A payload type that travels as exactly one Socket.IO event.
pub trait WireEvent: Serialize + DeserializeOwned {
    /// The event name on the wire.
    const NAME: &'static str;
}

/// Why an event could not be turned into (or out of) its typed form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("unknown event {0:?}")]
    Unknown(String),
    #[error("invalid payload for {event:?}: {reason}")]
    Payload { event: &'static str, reason: String },
}

macro_rules! events {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $enum {
            $( $(#[$vmeta])* $variant($payload), )*
        }

        $(
            impl WireEvent for $payload {
                const NAME: &'static str = $wire;
            }

            impl From<$payload> for $enum {
                fn from(payload: $payload) -> Self {
                    Self::$variant(payload)
                }
            }
        )*

        impl $enum {
            /// Every event name of this direction.
            pub const NAMES: &'static [&'static str] = &[$($wire),*];

            /// The event name on the wire.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $wire, )*
                }
            }

            /// Decodes an event from its name and its first argument (`Null` when absent).
            pub fn decode(name: &str, arg: Value) -> Result<Self, EventError> {
                match name {
                    $( $wire => serde_json::from_value::<$payload>(arg)
                        .map(Self::$variant)
                        .map_err(|e| EventError::Payload { event: $wire, reason: e.to_string() }), )*
                    other => Err(EventError::Unknown(other.to_owned())),
                }
            }

            /// Encodes the event as a frame, asking for an ack when `ack` is set.
            pub fn to_frame(&self, ack: Option<u64>) -> Result<Frame, EventError> {
                let arg = match self {
                    $( Self::$variant(payload) => serde_json::to_value(payload)
                        .map_err(|e| EventError::Payload { event: $wire, reason: e.to_string() })?, )*
                };
                Ok(Frame::event(self.name(), vec![arg], ack))
            }
        }
    };
}

events! {
    /// Events a client sends to the server.
    pub enum ClientEvent {
        /// Post a message to the conversation: the tutorial's plain string, or a [`Draft`]
        /// with a client id that makes retries safe. Sent with an ack id, the server answers
        /// with a [`MessageAck`] once the message is stored.
        Message(SendMessage) = "message",
        /// Ask for the messages of a room after a given id (answered with `history`).
        Resync(Resync) = "resync",
        /// Join (creating it if new) a public room, or open a direct-message conversation
        /// one is part of; answered with an ack, then `history`.
        Join(JoinRoom) = "join",
        /// Leave a room (never `general`).
        Leave(LeaveRoom) = "leave",
        /// I am typing in this conversation (throttled by the client; not stored).
        Typing(TypingIn) = "typing",
    }
}

events! {
    /// Events the server sends to a client.
    pub enum ServerEvent {
        /// Your display name, sent once after connecting.
        NameGenerated(NameGenerated) = "name-generated",
        /// Everyone online in the room, as display names.
        UpdatePeers(UpdatePeers) = "update-peers",
        /// A message someone (maybe you) posted.
        NewMessage(NewMessage) = "newMessage",
        /// Something you sent was refused; sent when the event carried no ack id to answer.
        ChatError(ChatError) = "chat-error",
        /// Recent messages of a room, oldest first, sent after connecting.
        History(History) = "history",
        /// Who you are: your public id (for direct messages) and name; sent after connecting.
        Welcome(Welcome) = "welcome",
        /// The public rooms; sent after connecting and whenever one is created.
        Rooms(RoomList) = "rooms",
        /// Who is in a room, with ids; the richer twin of `update-peers`, for every room.
        RoomPeers(RoomPeers) = "room-peers",
        /// Someone is typing in a conversation I follow (never sent about myself).
        Typing(Typing) = "typing",
        /// Someone joined or left a room.
        Notice(Notice) = "notice",
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tutorial_shapes_stay_on_the_wire() {
        let frame = ClientEvent::from(SendMessage::Text("hi".into()))
            .to_frame(None)
            .unwrap();
        assert_eq!(frame.encode(), r#"42["message","hi"]"#);

        let peers = ServerEvent::from(UpdatePeers(vec!["red-fox".into(), "blue-owl".into()]));
        assert_eq!(
            peers.to_frame(None).unwrap().encode(),
            r#"42["update-peers",["red-fox","blue-owl"]]"#
        );
        let name = ServerEvent::from(NameGenerated("red-fox".into()));
        assert_eq!(
            name.to_frame(None).unwrap().encode(),
            r#"42["name-generated","red-fox"]"#
        );
    }

    #[test]
    fn new_message_keeps_sender_and_message_fields() {
        let msg = NewMessage {
            sender: "red-fox".into(),
            message: "hello".into(),
            room: "general".into(),
            id: 3,
            ts: 1_700_000_000_000,
            client_id: None,
            from: String::new(),
        };
        let value = serde_json::to_value(&msg).unwrap();
        assert_eq!(value["sender"], "red-fox");
        assert_eq!(value["message"], "hello");
        assert_eq!(
            ServerEvent::decode(NewMessage::NAME, value),
            Ok(ServerEvent::NewMessage(msg))
        );
    }

    #[test]
    fn every_event_decodes_by_its_own_name() {
        assert_eq!(
            ServerEvent::decode("update-peers", json!(["a"])),
            Ok(ServerEvent::UpdatePeers(UpdatePeers(vec!["a".into()])))
        );
        assert_eq!(
            ClientEvent::decode("message", json!("x")),
            Ok(ClientEvent::Message(SendMessage::Text("x".into())))
        );
        assert_eq!(
            ClientEvent::NAMES,
            &["message", "resync", "join", "leave", "typing"]
        );
        assert_eq!(
            ServerEvent::NAMES,
            &[
                "name-generated",
                "update-peers",
                "newMessage",
                "chat-error",
                "history",
                "welcome",
                "rooms",
                "room-peers",
                "typing",
                "notice"
            ]
        );
    }

    #[test]
    fn wrong_types_and_unknown_names_are_errors() {
        assert!(matches!(
            ClientEvent::decode("message", json!(42)),
            Err(EventError::Payload {
                event: "message",
                ..
            })
        ));
        assert!(matches!(
            ClientEvent::decode("message", Value::Null),
            Err(EventError::Payload { .. })
        ));
        assert_eq!(
            ClientEvent::decode("nope", json!("x")),
            Err(EventError::Unknown("nope".into()))
        );
    }

    #[test]
    fn a_message_is_a_bare_string_or_a_draft_with_a_client_id() {
        let draft = ClientEvent::decode("message", json!({"text": "hi", "clientId": "c1"}));
        let Ok(ClientEvent::Message(draft)) = draft else {
            panic!("{draft:?}")
        };
        assert_eq!((draft.text(), draft.client_id()), ("hi", Some("c1")));
        let plain = SendMessage::Text("hi".into());
        assert_eq!((plain.text(), plain.client_id()), ("hi", None));
        for bad in [
            json!({"text": 1}),
            json!({"txt": "hi"}),
            json!(["hi"]),
            json!(null),
        ] {
            assert!(
                ClientEvent::decode("message", bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn auth_is_optional_field_by_field() {
        let none: Auth = serde_json::from_value(json!({})).unwrap();
        assert_eq!(none, Auth::default());
        let full: Auth =
            serde_json::from_value(json!({"token": "t", "lastSeen": {"general": 4}})).unwrap();
        assert_eq!(full.token.as_deref(), Some("t"));
        assert_eq!(full.last_seen["general"], 4);
        assert!(serde_json::from_value::<Auth>(json!({"lastSeen": {"general": -1}})).is_err());
    }
}
