//! The typed events, one enum per direction, shared by the server and the WASM client.
//!
//! Each event's wire name is written once, in the [`events!`] invocations below: it becomes the
//! enum variant's name, the payload type's [`WireEvent::NAME`] and the match arm that decodes
//! it. Renaming an event therefore changes both sides at once, or fails to compile.
//!
//! The tutorial's events keep their names and payload shapes: `message` carries a string,
//! `name-generated` a string, `update-peers` an array of names, `newMessage` an object with
//! `sender` and `message` (we add fields, never remove or retype them).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::codec::Frame;
pub use super::moderation::*;
pub use super::names::{PersonRenamed, Rename, Renamed};
pub use super::payloads::*;
pub use super::search::*;

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
        /// The page of messages before an id; answered in the ack ([`Page`]).
        Older(Older) = "older",
        /// Replace the text of one of my messages.
        Edit(Edit) = "edit",
        /// Take back one of my messages.
        Delete(Delete) = "delete",
        /// Toggle my reaction on a message.
        React(React) = "react",
        /// Tell the moderators about a message.
        Report(ReportMessage) = "report",
        /// Moderators: mute a person for a time.
        Mute(Mute) = "mute",
        /// Moderators: lift a mute.
        Unmute(Unmute) = "unmute",
        /// Moderators: ban a person (and optionally their addresses).
        Ban(Ban) = "ban",
        /// Moderators: lift a ban.
        Unban(Unban) = "unban",
        /// Moderators: remove a public room.
        RemoveRoom(RemoveRoom) = "remove-room",
        /// Moderators: a page of reports, newest first.
        Reports(ListReports) = "reports",
        /// Moderators: a page of the audit log, newest first.
        Audit(ListAudit) = "audit",
        /// Choose my display name.
        Rename(Rename) = "rename",
        /// Find messages by words, prefixes and phrases; answered in the ack
        /// ([`SearchResults`]).
        Search(Search) = "search",
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
        /// The public rooms; sent once after connecting (then `rooms-changed`).
        Rooms(RoomList) = "rooms",
        /// Who is in a room, with ids; the richer twin of `update-peers`, for every room.
        RoomPeers(RoomPeers) = "room-peers",
        /// Someone is typing in a conversation I follow (never sent about myself).
        Typing(Typing) = "typing",
        /// Someone joined or left a room.
        Notice(Notice) = "notice",
        /// A message was edited, deleted or reacted to: its whole current state.
        MessageUpdated(MessageUpdated) = "messageUpdated",
        /// Public rooms that appeared or went (the full list comes once, as `rooms`).
        RoomsChanged(RoomsChanged) = "rooms-changed",
        /// Your standing: moderator or not, muted until when.
        Standing(Standing) = "standing",
        /// To moderators: someone reported a message.
        Reported(Report) = "reported",
        /// Someone chose a new display name.
        Renamed(PersonRenamed) = "renamed",
        /// How a room's member list changed (to clients that keep the list themselves).
        PeersChanged(PeersChanged) = "peers-changed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::check_emoji;
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
            ..NewMessage::default()
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
            &[
                "message",
                "resync",
                "join",
                "leave",
                "typing",
                "older",
                "edit",
                "delete",
                "react",
                "report",
                "mute",
                "unmute",
                "ban",
                "unban",
                "remove-room",
                "reports",
                "audit",
                "rename",
                "search"
            ]
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
                "notice",
                "messageUpdated",
                "rooms-changed",
                "standing",
                "reported",
                "renamed",
                "peers-changed"
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
    fn message_updated_is_new_message_s_shape_and_always_has_reactions() {
        let mut msg = NewMessage {
            sender: "ann".into(),
            message: "hi".into(),
            room: "general".into(),
            id: 4,
            ts: 9,
            rev: 7,
            ..NewMessage::default()
        };
        let plain = serde_json::to_value(MessageUpdated(msg.clone())).unwrap();
        assert_eq!(plain["reactions"], json!([]));
        assert_eq!(
            (plain["id"].clone(), plain["rev"].clone()),
            (json!(4), json!(7))
        );
        assert!(plain.get("deleted").is_none() && plain.get("edited").is_none());
        assert!(msg.toggle_reaction("👍", "p1"));
        msg.edited = Some(10);
        let changed = serde_json::to_value(MessageUpdated(msg.clone())).unwrap();
        assert_eq!(
            changed["reactions"],
            json!([{"emoji": "👍", "ids": ["p1"]}])
        );
        assert_eq!(changed["edited"], 10);
        msg.erase();
        let deleted = serde_json::to_value(MessageUpdated(msg.clone())).unwrap();
        assert_eq!(
            (deleted["deleted"].clone(), deleted["message"].clone()),
            (json!(true), json!(""))
        );
        assert_eq!(
            ServerEvent::decode("messageUpdated", deleted),
            Ok(ServerEvent::MessageUpdated(MessageUpdated(msg)))
        );
        // newMessage stays as small as before for a message nobody changed.
        let fresh = NewMessage {
            sender: "ann".into(),
            message: "hi".into(),
            room: "general".into(),
            id: 1,
            ts: 1,
            ..NewMessage::default()
        };
        let fresh = serde_json::to_value(fresh).unwrap();
        assert!(fresh.get("reactions").is_none() && fresh.get("rev").is_none());
    }

    #[test]
    fn a_reaction_toggles_and_is_one_emoji() {
        let mut msg = NewMessage::default();
        assert!(msg.toggle_reaction("🎉", "a") && msg.toggle_reaction("🎉", "b"));
        assert!(msg.toggle_reaction("🎉", "a"));
        assert_eq!(msg.reactions[0].ids, ["b"]);
        assert!(msg.toggle_reaction("🎉", "b"));
        assert!(msg.reactions.is_empty(), "nobody left: the emoji goes");
        for good in ["👍", "❤️", "🇫🇷", "👩🏽‍💻", "1️⃣", "🏳️‍🌈", "©️", "☕"]
        {
            assert!(check_emoji(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "👍👍", "👍 ", "<img>", "ok", "🇫", "‍", "1", "👍a"] {
            assert_eq!(
                check_emoji(bad).map_err(|e| e.code),
                Err(ErrorCode::NotEmoji),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn new_requests_decode_and_refuse_unknown_fields() {
        assert_eq!(
            ClientEvent::decode("older", json!({"room": "general", "before": 10})),
            Ok(ClientEvent::Older(Older {
                room: "general".into(),
                before: 10,
                limit: None
            }))
        );
        assert!(ClientEvent::decode("edit", json!({"room": "g", "id": 1})).is_err());
        assert!(ClientEvent::decode("delete", json!({"room": "g", "id": -1})).is_err());
        assert!(
            ClientEvent::decode(
                "react",
                json!({"room": "g", "id": 1, "emoji": "👍", "x": 1})
            )
            .is_err()
        );
        let reply = ClientEvent::decode("message", json!({"text": "yes", "replyTo": 3}));
        let Ok(ClientEvent::Message(reply)) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(reply.reply_to(), Some(3));
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
