//! Answers to requests. A client that sends an event with an ack id gets exactly one answer:
//! `{"ok":true, ...fields}` when it was done, or `{"ok":false,"error":{"code","message"}}`
//! when it was refused. Each request names what its acceptance carries ([`Request::Accepted`]),
//! so the server cannot answer a `join` with a message's fields, and a client reads the answer
//! as the type it asked for.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::events::{
    Audit, Ban, ChatError, Delete, Edit, ErrorCode, JoinRoom, LeaveRoom, ListAudit, ListReports,
    Mute, NewMessage, Older, Page, React, RemoveRoom, Rename, Renamed, ReportMessage, Reports,
    Resync, SendMessage, Unban, Unmute, WireEvent,
};

/// A client event that may be sent with an ack id, and what its acceptance carries.
pub trait Request: WireEvent {
    type Accepted: Serialize + DeserializeOwned;
}

/// A `message` was stored (or had been: a retry with the same client id gets the same answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub id: u64,
    pub ts: u64,
}

impl From<&NewMessage> for Stored {
    fn from(message: &NewMessage) -> Self {
        Stored {
            id: message.id,
            ts: message.ts,
        }
    }
}

/// A `join` or `leave` was done; `room` is the conversation's key as the server spells it
/// (a joined room's normalised name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDone {
    pub room: String,
}

/// A request done that has nothing to report (`resync`: the messages follow as `history`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}

impl Request for SendMessage {
    type Accepted = Stored;
}
impl Request for JoinRoom {
    type Accepted = RoomDone;
}
impl Request for LeaveRoom {
    type Accepted = RoomDone;
}
impl Request for Resync {
    type Accepted = Done;
}
impl Request for Older {
    type Accepted = Page;
}
impl Request for Edit {
    type Accepted = Done;
}
impl Request for Delete {
    type Accepted = Done;
}
impl Request for React {
    type Accepted = Done;
}
impl Request for ReportMessage {
    type Accepted = Done;
}
impl Request for Mute {
    type Accepted = Done;
}
impl Request for Unmute {
    type Accepted = Done;
}
impl Request for Ban {
    type Accepted = Done;
}
impl Request for Unban {
    type Accepted = Done;
}
impl Request for RemoveRoom {
    type Accepted = Done;
}
impl Request for ListReports {
    type Accepted = Reports;
}
impl Request for ListAudit {
    type Accepted = Audit;
}
impl Request for Rename {
    type Accepted = Renamed;
}

/// The answer to a request, on the wire `{"ok":true, ...T}` or `{"ok":false, "error":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack<T> {
    Accepted(T),
    Refused(ChatError),
}

/// The answer to a `message`: `{"ok":true,"id":..,"ts":..}` or a refusal.
pub type MessageAck = Ack<Stored>;

impl<T> Ack<T> {
    pub fn into_result(self) -> Result<T, ChatError> {
        match self {
            Ack::Accepted(body) => Ok(body),
            Ack::Refused(error) => Err(error),
        }
    }
}

impl<T: Serialize> Serialize for Ack<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a, T> {
            ok: bool,
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            body: Option<&'a T>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a ChatError>,
        }
        let wire = match self {
            Ack::Accepted(body) => Wire {
                ok: true,
                body: Some(body),
                error: None,
            },
            Ack::Refused(error) => Wire {
                ok: false,
                body: None,
                error: Some(error),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Ack<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let ok = fields
            .remove("ok")
            .and_then(|ok| ok.as_bool())
            .ok_or_else(|| D::Error::custom("an ack has a boolean `ok`"))?;
        if ok {
            return T::deserialize(Value::Object(fields))
                .map(Ack::Accepted)
                .map_err(D::Error::custom);
        }
        match fields.remove("error") {
            Some(error) => ChatError::deserialize(error)
                .map(Ack::Refused)
                .map_err(D::Error::custom),
            None => Ok(Ack::Refused(ChatError::new(
                ErrorCode::BadPayload,
                "refused without a reason",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acceptances_carry_their_request_s_fields_beside_ok() {
        let stored = Ack::Accepted(Stored { id: 9, ts: 1 });
        assert_eq!(
            serde_json::to_value(&stored).unwrap(),
            json!({"ok": true, "id": 9, "ts": 1})
        );
        let joined = Ack::Accepted(RoomDone {
            room: "rust".into(),
        });
        assert_eq!(
            serde_json::to_value(&joined).unwrap(),
            json!({"ok": true, "room": "rust"})
        );
        assert_eq!(
            serde_json::to_value(Ack::Accepted(Done {})).unwrap(),
            json!({"ok": true})
        );
    }

    #[test]
    fn refusals_read_back_as_errors_with_their_code() {
        let error = ChatError::new(ErrorCode::TooLong, "too long");
        let wire = serde_json::to_value(MessageAck::Refused(error.clone())).unwrap();
        assert_eq!(
            wire,
            json!({"ok": false, "error": {"code": "too-long", "message": "too long"}})
        );
        let back: MessageAck = serde_json::from_value(wire).unwrap();
        assert_eq!(back.into_result(), Err(error));
        let bare: Ack<Done> = serde_json::from_value(json!({"ok": false})).unwrap();
        assert!(bare.into_result().is_err());
    }

    #[test]
    fn an_answer_of_the_wrong_shape_is_an_error_not_a_guess() {
        assert!(serde_json::from_value::<MessageAck>(json!({"ok": true, "room": "x"})).is_err());
        assert!(serde_json::from_value::<MessageAck>(json!({"id": 1})).is_err());
        assert!(serde_json::from_value::<MessageAck>(json!([true])).is_err());
        let any: Ack<Value> = serde_json::from_value(json!({"ok": true, "room": "x"})).unwrap();
        assert_eq!(any.into_result(), Ok(json!({"room": "x"})));
    }
}
