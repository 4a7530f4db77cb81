//! Engine.IO v4 / Socket.IO v5 text frames, as one WebSocket message each.
//!
//! This is the part of the wire the WASM client (and the native test and load clients) speak.
//! Only the main namespace `/` and text frames are supported: binary events and attachments
//! are refused with an error value, as is every malformed frame. Nothing here panics on input.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Engine.IO open packet (`0{...}`) the server sends first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// Milliseconds between the server's pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong (and the client may wait beyond the interval).
    pub ping_timeout: u64,
    /// Largest payload in bytes the server accepts.
    #[serde(default)]
    pub max_payload: u64,
}

/// One text frame: an Engine.IO packet, with the Socket.IO packet inside when it is a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `0{...}`: the Engine.IO handshake.
    Open(Handshake),
    /// `1`: the transport is closing.
    Close,
    /// `2`: heartbeat from the server; answer with [`Frame::Pong`] at once.
    Ping,
    /// `3`: heartbeat answer.
    Pong,
    /// `2probe`: transport upgrade probe.
    PingProbe,
    /// `3probe`: transport upgrade probe answer.
    PongProbe,
    /// `5`: transport upgrade.
    Upgrade,
    /// `6`: no-op (used to cut a long-poll short).
    Noop,
    /// `40` or `40{...}`: join the main namespace (client, with optional auth) or the server's
    /// acceptance (with `{"sid": ...}`).
    Connect(Option<Value>),
    /// `41`: leave the namespace.
    Disconnect,
    /// `42[name, args...]` or `42<id>[name, args...]` when the sender wants an ack.
    Event {
        id: Option<u64>,
        name: String,
        args: Vec<Value>,
    },
    /// `43<id>[args...]`: the answer to an event sent with an ack id.
    Ack { id: u64, args: Vec<Value> },
    /// `44{"message": ...}`: the server refused the namespace connection.
    ConnectError(Value),
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty frame")]
    Empty,
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownEnginePacket(char),
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownSocketPacket(char),
    #[error("binary packets and attachments are not supported")]
    Binary,
    #[error("namespace {0:?} is not served")]
    Namespace(String),
    #[error("invalid ack id")]
    AckId,
    #[error("an event needs a name as its first element")]
    EventName,
    #[error("an ack needs an id")]
    MissingAckId,
    #[error("connect payloads must be JSON objects")]
    NotAnObject,
    #[error("invalid JSON: {0}")]
    Json(String),
}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        DecodeError::Json(e.to_string())
    }
}

impl Frame {
    /// Builds an event frame from a name and its arguments.
    pub fn event(name: impl Into<String>, args: Vec<Value>, id: Option<u64>) -> Frame {
        Frame::Event {
            id,
            name: name.into(),
            args,
        }
    }

    /// The text to put in one WebSocket message (or one polling record).
    pub fn encode(&self) -> String {
        match self {
            Frame::Open(h) => format!("0{}", json(h)),
            Frame::Close => "1".into(),
            Frame::Ping => "2".into(),
            Frame::Pong => "3".into(),
            Frame::PingProbe => "2probe".into(),
            Frame::PongProbe => "3probe".into(),
            Frame::Upgrade => "5".into(),
            Frame::Noop => "6".into(),
            Frame::Connect(None) => "40".into(),
            Frame::Connect(Some(data)) => format!("40{}", json(data)),
            Frame::Disconnect => "41".into(),
            Frame::Event { id, name, args } => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(Value::String(name.clone()));
                all.extend(args.iter().cloned());
                format!("42{}{}", id_str(*id), json(&all))
            }
            Frame::Ack { id, args } => format!("43{id}{}", json(args)),
            Frame::ConnectError(data) => format!("44{}", json(data)),
        }
    }

    /// Parses one text frame. Never panics; every malformed input is an error value.
    pub fn decode(text: &str) -> Result<Frame, DecodeError> {
        let (kind, rest) = split_first(text).ok_or(DecodeError::Empty)?;
        match kind {
            '0' => Ok(Frame::Open(serde_json::from_str(rest)?)),
            '1' => Ok(Frame::Close),
            '2' if rest == "probe" => Ok(Frame::PingProbe),
            '3' if rest == "probe" => Ok(Frame::PongProbe),
            '2' => Ok(Frame::Ping),
            '3' => Ok(Frame::Pong),
            '4' => decode_socket(rest),
            '5' => Ok(Frame::Upgrade),
            '6' => Ok(Frame::Noop),
            'b' => Err(DecodeError::Binary),
            other => Err(DecodeError::UnknownEnginePacket(other)),
        }
    }
}

fn decode_socket(text: &str) -> Result<Frame, DecodeError> {
    let (kind, rest) = split_first(text).ok_or(DecodeError::Empty)?;
    if matches!(kind, '5' | '6') {
        return Err(DecodeError::Binary);
    }
    if !matches!(kind, '0'..='4') {
        return Err(DecodeError::UnknownSocketPacket(kind));
    }
    let rest = strip_namespace(rest)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, body) = rest.split_at(digits);
    let id = if id.is_empty() {
        None
    } else {
        Some(id.parse::<u64>().map_err(|_| DecodeError::AckId)?)
    };
    match kind {
        '0' => Ok(Frame::Connect(optional_object(body)?)),
        '1' => Ok(Frame::Disconnect),
        '2' => {
            let mut args: Vec<Value> = serde_json::from_str(body)?;
            if args.is_empty() {
                return Err(DecodeError::EventName);
            }
            match args.remove(0) {
                Value::String(name) => Ok(Frame::Event { id, name, args }),
                _ => Err(DecodeError::EventName),
            }
        }
        '3' => Ok(Frame::Ack {
            id: id.ok_or(DecodeError::MissingAckId)?,
            args: serde_json::from_str(body)?,
        }),
        _ => Ok(Frame::ConnectError(
            optional_object(body)?.ok_or(DecodeError::NotAnObject)?,
        )),
    }
}

/// Accepts the main namespace, written or omitted; refuses any other.
fn strip_namespace(text: &str) -> Result<&str, DecodeError> {
    if !text.starts_with('/') {
        return Ok(text);
    }
    let (nsp, rest) = text.split_once(',').unwrap_or((text, ""));
    if nsp == "/" {
        Ok(rest)
    } else {
        Err(DecodeError::Namespace(nsp.to_owned()))
    }
}

/// Connect payloads are objects (or absent); anything else would not survive re-encoding
/// (`40 6` would come back as `406`, an ack id).
fn optional_object(body: &str) -> Result<Option<Value>, DecodeError> {
    if body.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str(body)? {
        value @ Value::Object(_) => Ok(Some(value)),
        _ => Err(DecodeError::NotAnObject),
    }
}

fn split_first(text: &str) -> Option<(char, &str)> {
    let first = text.chars().next()?;
    Some((first, &text[first.len_utf8()..]))
}

fn id_str(id: Option<u64>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own plain data (strings, numbers, maps with string keys) cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(frame: Frame, text: &str) {
        assert_eq!(frame.encode(), text, "encode {frame:?}");
        assert_eq!(Frame::decode(text), Ok(frame), "decode {text}");
    }

    #[test]
    fn engine_packets_round_trip() {
        round_trip(Frame::Close, "1");
        round_trip(Frame::Ping, "2");
        round_trip(Frame::Pong, "3");
        round_trip(Frame::PingProbe, "2probe");
        round_trip(Frame::PongProbe, "3probe");
        round_trip(Frame::Upgrade, "5");
        round_trip(Frame::Noop, "6");
    }

    #[test]
    fn open_handshake_is_read_with_its_timers() {
        let text = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}"#;
        let Ok(Frame::Open(h)) = Frame::decode(text) else {
            panic!("not an open packet")
        };
        assert_eq!(h.sid, "abc");
        assert_eq!(h.ping_interval, 25_000);
        assert_eq!(h.ping_timeout, 20_000);
        assert_eq!(h.max_payload, 100_000);
        assert_eq!(
            Frame::decode(&Frame::Open(h.clone()).encode()),
            Ok(Frame::Open(h))
        );
    }

    #[test]
    fn socket_packets_round_trip() {
        round_trip(Frame::Connect(None), "40");
        round_trip(
            Frame::Connect(Some(json!({"sid": "x"}))),
            r#"40{"sid":"x"}"#,
        );
        round_trip(Frame::Disconnect, "41");
        round_trip(
            Frame::event("message", vec![json!("hi")], None),
            r#"42["message","hi"]"#,
        );
        round_trip(
            Frame::event("message", vec![json!({"text": "hi"})], Some(12)),
            r#"4212["message",{"text":"hi"}]"#,
        );
        round_trip(
            Frame::Ack {
                id: 7,
                args: vec![json!({"ok": true})],
            },
            r#"437[{"ok":true}]"#,
        );
        round_trip(
            Frame::ConnectError(json!({"message": "no"})),
            r#"44{"message":"no"}"#,
        );
    }

    #[test]
    fn explicit_main_namespace_is_accepted() {
        assert_eq!(
            Frame::decode(r#"42/,["a"]"#),
            Ok(Frame::event("a", vec![], None))
        );
        assert_eq!(Frame::decode("40/,"), Ok(Frame::Connect(None)));
    }

    #[test]
    fn event_text_is_unicode_safe() {
        let frame = Frame::event("message", vec![json!("héllo 🦊 \"quoted\" <b>")], None);
        assert_eq!(Frame::decode(&frame.encode()), Ok(frame));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let cases: &[(&str, DecodeError)] = &[
            ("", DecodeError::Empty),
            ("4", DecodeError::Empty),
            ("9", DecodeError::UnknownEnginePacket('9')),
            ("é", DecodeError::UnknownEnginePacket('é')),
            ("4é", DecodeError::UnknownSocketPacket('é')),
            ("47[]", DecodeError::UnknownSocketPacket('7')),
            (
                "451-[\"a\",{\"_placeholder\":true,\"num\":0}]",
                DecodeError::Binary,
            ),
            ("bAAAA", DecodeError::Binary),
            ("40/admin,", DecodeError::Namespace("/admin".into())),
            ("42[]", DecodeError::EventName),
            ("42[1,2]", DecodeError::EventName),
            ("42{\"a\":1}", DecodeError::Json(String::new())),
            ("42[\"a\"", DecodeError::Json(String::new())),
            ("4299999999999999999999[\"a\"]", DecodeError::AckId),
            ("43[1]", DecodeError::MissingAckId),
            ("0{}", DecodeError::Json(String::new())),
            // Found by cargo-fuzz: a number would re-encode as an ack id.
            ("40 6", DecodeError::NotAnObject),
            ("40\"x\"", DecodeError::NotAnObject),
            ("44[1]", DecodeError::NotAnObject),
            ("44", DecodeError::NotAnObject),
        ];
        for (text, expected) in cases {
            let got = Frame::decode(text);
            match (&got, expected) {
                (Err(DecodeError::Json(_)), DecodeError::Json(_)) => {}
                _ => assert_eq!(got.as_ref(), Err(expected), "decode {text:?}"),
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json_leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                ".{0,40}".prop_map(Value::from),
            ]
        }

        fn json() -> impl Strategy<Value = Value> {
            json_leaf().prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn frame() -> impl Strategy<Value = Frame> {
            prop_oneof![
                Just(Frame::Close),
                Just(Frame::Ping),
                Just(Frame::Pong),
                Just(Frame::PingProbe),
                Just(Frame::PongProbe),
                Just(Frame::Upgrade),
                Just(Frame::Noop),
                Just(Frame::Disconnect),
                Just(Frame::Connect(None)),
                prop::collection::btree_map("[a-z]{1,6}", json(), 0..3)
                    .prop_map(|m| { Frame::Connect(Some(Value::Object(m.into_iter().collect()))) }),
                (
                    ".{0,20}",
                    prop::collection::vec(json(), 0..3),
                    prop::option::of(any::<u64>())
                )
                    .prop_map(|(name, args, id)| Frame::Event { id, name, args }),
                (any::<u64>(), prop::collection::vec(json(), 0..3))
                    .prop_map(|(id, args)| Frame::Ack { id, args }),
                ".{0,20}".prop_map(|m| Frame::ConnectError(serde_json::json!({ "message": m }))),
            ]
        }

        proptest! {
            #[test]
            fn every_frame_survives_encode_then_decode(frame in frame()) {
                prop_assert_eq!(Frame::decode(&frame.encode()), Ok(frame));
            }

            #[test]
            fn arbitrary_text_never_panics(text in ".{0,200}") {
                let _ = Frame::decode(&text);
            }

            #[test]
            fn arbitrary_text_after_a_valid_prefix_never_panics(
                prefix in prop_oneof![Just("0"), Just("4"), Just("40"), Just("42"), Just("43"), Just("44"), Just("42/")],
                text in ".{0,200}",
            ) {
                let _ = Frame::decode(&format!("{prefix}{text}"));
            }

            #[test]
            fn arbitrary_payloads_never_panic_the_event_parsers(name in ".{0,12}", arg in json()) {
                let _ = crate::protocol::ClientEvent::decode(&name, arg.clone());
                let _ = crate::protocol::ServerEvent::decode(&name, arg.clone());
                for known in crate::protocol::ClientEvent::NAMES {
                    let _ = crate::protocol::ClientEvent::decode(known, arg.clone());
                }
            }
        }
    }
}
