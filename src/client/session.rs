//! One Engine.IO/Socket.IO session as a state machine: text frames in, actions out.
//!
//! No transport and no clock: the browser drives it over gloo-net, native tests and the load
//! generator over tokio-tungstenite. The caller owns timers and asks [`Session::liveness`] how
//! long silence may last before the connection counts as dead.

use std::time::Duration;

use crate::protocol::{
    Ack, Auth, ChatError, ClientEvent, Draft, ErrorCode, EventError, Frame, JoinRoom, LeaveRoom,
    Request, Resync, SendMessage, ServerEvent, TypingIn, check_client_id, clean_message,
};

/// How long to wait for the server's open packet before giving up on a connection.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the caller should do after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write this text frame to the server.
    Send(String),
    /// The namespace accepted us: chatting can start.
    Joined,
    /// The server refused the namespace connection, with its reason.
    Refused(String),
    /// A typed event from the server.
    Event(ServerEvent),
    /// The answer to a request we sent with ack id `ack`: the acceptance's fields (read them
    /// as that request's [`Request::Accepted`](crate::protocol::Request)), or the refusal.
    Acked {
        ack: u64,
        result: Result<serde_json::Value, ChatError>,
    },
    /// The server closed the session; reconnect.
    Closed,
    /// Nothing to do (or a frame this client does not use, such as an unknown event).
    Nothing,
}

/// The state of one connection attempt.
#[derive(Debug, Default)]
pub struct Session {
    auth: Auth,
    liveness: Option<Duration>,
    joined: bool,
    next_ack: u64,
}

/// A frame that made no sense here; the caller logs it and goes on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Decode(#[from] crate::protocol::DecodeError),
    #[error(transparent)]
    Event(#[from] EventError),
}

impl Session {
    /// A session that presents `auth` (identity token, last seen ids) when it joins.
    pub fn new(auth: Auth) -> Self {
        Self {
            auth,
            ..Self::default()
        }
    }

    /// The server's handshake arrived: the transport works.
    pub fn is_open(&self) -> bool {
        self.liveness.is_some()
    }

    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// How long the connection may stay silent before it is dead: the server pings every
    /// `pingInterval` and allows `pingTimeout` for the answer, so silence beyond their sum
    /// means the link is gone. Before the handshake, [`HANDSHAKE_TIMEOUT`].
    pub fn liveness(&self) -> Duration {
        self.liveness.unwrap_or(HANDSHAKE_TIMEOUT)
    }

    /// Handles one text frame from the server.
    pub fn on_frame(&mut self, text: &str) -> Result<Action, SessionError> {
        Ok(match Frame::decode(text)? {
            Frame::Open(handshake) => {
                self.liveness = Some(Duration::from_millis(
                    handshake.ping_interval + handshake.ping_timeout,
                ));
                let auth = serde_json::to_value(&self.auth)
                    .ok()
                    .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()));
                Action::Send(Frame::Connect(auth).encode())
            }
            Frame::Ping => Action::Send(Frame::Pong.encode()),
            Frame::PingProbe => Action::Send(Frame::PongProbe.encode()),
            Frame::Connect(_) => {
                self.joined = true;
                Action::Joined
            }
            Frame::ConnectError(reason) => Action::Refused(
                reason
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("connection refused")
                    .to_owned(),
            ),
            Frame::Event { name, mut args, .. } => {
                let arg = if args.is_empty() {
                    serde_json::Value::Null
                } else {
                    args.swap_remove(0)
                };
                match ServerEvent::decode(&name, arg) {
                    Ok(event) => Action::Event(event),
                    // A newer server may send events this client does not know yet.
                    Err(EventError::Unknown(_)) => Action::Nothing,
                    Err(e) => return Err(e.into()),
                }
            }
            Frame::Ack { id, mut args } => {
                let bad = |reason: String| EventError::Payload {
                    event: "ack",
                    reason,
                };
                if args.is_empty() {
                    return Err(bad("empty ack".into()).into());
                }
                let answer = serde_json::from_value::<Ack<serde_json::Value>>(args.swap_remove(0))
                    .map_err(|e| bad(e.to_string()))?;
                Action::Acked {
                    ack: id,
                    result: answer.into_result(),
                }
            }
            Frame::Close | Frame::Disconnect => {
                self.joined = false;
                Action::Closed
            }
            Frame::Pong | Frame::PongProbe | Frame::Upgrade | Frame::Noop => Action::Nothing,
        })
    }

    /// Checks and encodes a message to `general` with its client id, asking for an ack;
    /// returns the ack id and the frame. Sending the same client id again is a safe retry.
    pub fn send_message(
        &mut self,
        text: &str,
        client_id: &str,
    ) -> Result<(u64, String), ChatError> {
        let to = Address {
            room: None,
            to: None,
            reply_to: None,
        };
        self.send_to(text, client_id, to)
    }

    /// Like [`Session::send_message`], to a room, or to a person (a direct message), maybe
    /// as an answer to another message.
    pub fn send_to(
        &mut self,
        text: &str,
        client_id: &str,
        address: Address<'_>,
    ) -> Result<(u64, String), ChatError> {
        let text = clean_message(text)?;
        check_client_id(client_id)?;
        let draft = SendMessage::Draft(Draft {
            text,
            client_id: Some(client_id.to_owned()),
            room: address.room.map(str::to_owned),
            to: address.to.map(str::to_owned),
            reply_to: address.reply_to,
        });
        self.request(draft)
            .map_err(|e| ChatError::new(ErrorCode::BadPayload, e.to_string()))
    }

    /// Encodes a request with the next ack id: the ack id and the frame. The answer comes
    /// back as [`Action::Acked`] with that id.
    pub fn request<R: Request + Into<ClientEvent>>(
        &mut self,
        request: R,
    ) -> Result<(u64, String), EventError> {
        self.next_ack += 1;
        let ack = self.next_ack;
        let frame = request.into().to_frame(Some(ack))?;
        Ok((ack, frame.encode()))
    }

    /// Asks for the messages of `room` after `after` (they come as `history` events).
    pub fn resync(&self, room: &str, after: u64) -> Result<String, EventError> {
        self.resync_since(room, after, None)
    }

    /// Like [`Session::resync`], and for the messages up to `after` changed after change
    /// number `changes` (they come as `messageUpdated`).
    pub fn resync_since(
        &self,
        room: &str,
        after: u64,
        changes: Option<u64>,
    ) -> Result<String, EventError> {
        plain(Resync {
            room: room.to_owned(),
            after,
            changes,
        })
    }

    /// Joins a room (or opens a direct conversation); its history follows, after `after`,
    /// then the messages up to `after` changed after change number `changes`.
    pub fn join(
        &self,
        room: &str,
        after: Option<u64>,
        changes: Option<u64>,
    ) -> Result<String, EventError> {
        plain(JoinRoom {
            room: room.to_owned(),
            after,
            changes: after.and(changes),
        })
    }

    /// Tells the others in `room` that I am typing.
    pub fn typing(&self, room: &str) -> Result<String, EventError> {
        plain(TypingIn {
            room: room.to_owned(),
        })
    }

    pub fn leave(&self, room: &str) -> Result<String, EventError> {
        plain(LeaveRoom {
            room: room.to_owned(),
        })
    }
}

/// Where a message goes: a room, a person (a direct message), and the message it answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Address<'a> {
    pub room: Option<&'a str>,
    pub to: Option<&'a str>,
    pub reply_to: Option<u64>,
}

/// Encodes an event that needs no ack. Our request structs (strings and numbers) serialise,
/// but if one ever did not, the caller hears of it rather than sending an empty frame.
fn plain(event: impl Into<ClientEvent>) -> Result<String, EventError> {
    Ok(event.into().to_frame(None)?.encode())
}

/// Where a client stands in a room's message ids, and whether it has a gap to fill.
///
/// Ids increase by one per room, so a message whose id is more than one past what the client
/// holds without holes means something was missed (a dropped packet, a server restart):
/// [`Cursor::on_message`] then says from where to ask for a resync.
#[derive(Debug, Default, Clone)]
pub struct Cursor {
    contiguous: Option<u64>,
    ahead: std::collections::BTreeSet<u64>,
    requested: Option<u64>,
}

impl Cursor {
    /// The id up to which every message is held (`None` before the first `history`).
    pub fn position(&self) -> Option<u64> {
        self.contiguous
    }

    /// A `history` batch of messages following `after`.
    pub fn on_history(&mut self, after: u64, ids: impl IntoIterator<Item = u64>) -> Option<u64> {
        let start = *self.contiguous.get_or_insert(after);
        self.ahead.extend(ids.into_iter().filter(|id| *id > start));
        self.advance()
    }

    /// A live message; returns `Some(after)` when a resync from `after` should be asked for.
    pub fn on_message(&mut self, id: u64) -> Option<u64> {
        if self.contiguous.is_none_or(|c| id > c) {
            self.ahead.insert(id);
        }
        self.advance()
    }

    fn advance(&mut self) -> Option<u64> {
        let mut at = self.contiguous?;
        while self.ahead.remove(&(at + 1)) {
            at += 1;
        }
        self.contiguous = Some(at);
        if self.ahead.is_empty() || self.requested == Some(at) {
            return None;
        }
        self.requested = Some(at);
        Some(at)
    }
}

/// Reconnection delay before attempt `attempt` (1-based), like socket.io-client's defaults:
/// 1 s doubling up to 5 s, each randomised by ±50 % (`random` in `0.0..1.0`) so that clients
/// dropped together do not all come back in the same instant.
pub fn backoff(attempt: u32, random: f64) -> Duration {
    let base = 1000f64 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let base = base.min(5000.0);
    let jitter = (random.clamp(0.0, 1.0) * 2.0 - 1.0) * 0.5 * base;
    Duration::from_millis((base + jitter).max(0.0) as u64)
}

/// A session past its handshake and joined to the namespace, for the tests of the parts
/// built on one (the outbox, requests).
#[cfg(test)]
pub(crate) fn joined_for_tests() -> Session {
    let mut s = Session::new(Auth::default());
    s.on_frame(r#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}"#)
        .unwrap();
    s.on_frame("40").unwrap();
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::NameGenerated;

    const OPEN: &str =
        r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":16384}"#;

    #[test]
    fn handshake_joins_the_namespace_and_sets_liveness() {
        let mut s = Session::default();
        assert_eq!(s.liveness(), HANDSHAKE_TIMEOUT);
        assert_eq!(s.on_frame(OPEN).unwrap(), Action::Send("40".into()));
        assert_eq!(s.liveness(), Duration::from_millis(500));
        assert!(!s.is_joined());
        assert_eq!(s.on_frame(r#"40{"sid":"x"}"#).unwrap(), Action::Joined);
        assert!(s.is_joined());
    }

    #[test]
    fn the_connect_packet_carries_identity_and_position() {
        let mut auth = Auth {
            token: Some("t".repeat(20)),
            ..Auth::default()
        };
        auth.last_seen.insert("general".into(), 7);
        let mut s = Session::new(auth);
        let Action::Send(connect) = s.on_frame(OPEN).unwrap() else {
            panic!("no connect")
        };
        let Ok(Frame::Connect(Some(sent))) = Frame::decode(&connect) else {
            panic!("{connect}")
        };
        assert_eq!(sent["token"], "t".repeat(20));
        assert_eq!(sent["lastSeen"]["general"], 7);
    }

    #[test]
    fn a_join_from_where_i_was_asks_for_the_changes_since_and_a_fresh_one_does_not() {
        let s = Session::default();
        assert_eq!(
            s.join("rust", Some(5), Some(12)).unwrap(),
            r#"42["join",{"after":5,"changes":12,"room":"rust"}]"#
        );
        assert_eq!(
            s.join("rust", None, Some(12)).unwrap(),
            r#"42["join",{"room":"rust"}]"#,
            "nothing held: nothing to bring up to date"
        );
    }

    #[test]
    fn requests_take_the_next_ack_id_and_a_reply_names_its_original() {
        let mut s = Session::default();
        let older = crate::protocol::Older {
            room: "rust".into(),
            before: 40,
            limit: Some(100),
        };
        let (first, frame) = s.request(older).unwrap();
        assert_eq!(
            frame,
            format!(r#"42{first}["older",{{"before":40,"limit":100,"room":"rust"}}]"#)
        );
        let to = Address {
            room: Some("rust"),
            reply_to: Some(3),
            ..Address::default()
        };
        let (second, frame) = s.send_to("yes", "c1", to).unwrap();
        assert!(second > first);
        let Ok(Frame::Event { args, .. }) = Frame::decode(&frame) else {
            panic!("{frame}")
        };
        assert_eq!(args[0]["replyTo"], 3);
    }

    #[test]
    fn pings_are_answered_at_once() {
        let mut s = Session::default();
        assert_eq!(s.on_frame("2").unwrap(), Action::Send("3".into()));
    }

    #[test]
    fn events_arrive_typed_and_unknown_ones_are_skipped() {
        let mut s = Session::default();
        assert_eq!(
            s.on_frame(r#"42["name-generated","red-fox"]"#).unwrap(),
            Action::Event(ServerEvent::NameGenerated(NameGenerated("red-fox".into())))
        );
        assert_eq!(
            s.on_frame(r#"42["from-the-future",{}]"#).unwrap(),
            Action::Nothing
        );
        assert!(s.on_frame(r#"42["update-peers","not a list"]"#).is_err());
    }

    #[test]
    fn messages_are_checked_then_acked_by_id() {
        let mut s = Session::default();
        assert_eq!(
            s.send_message("   ", "c1").unwrap_err().code,
            ErrorCode::Empty
        );
        assert_eq!(
            s.send_message("hi", "no spaces").unwrap_err().code,
            ErrorCode::BadPayload
        );
        let (ack, frame) = s.send_message(" hello ", "c1").unwrap();
        let Ok(Frame::Event { id, name, args }) = Frame::decode(&frame) else {
            panic!("{frame}")
        };
        assert_eq!((id, name.as_str()), (Some(ack), "message"));
        assert_eq!(
            args,
            [serde_json::json!({"text": "hello", "clientId": "c1"})]
        );
        assert_eq!(
            s.on_frame(&format!(r#"43{ack}[{{"ok":true,"id":5,"ts":1}}]"#))
                .unwrap(),
            Action::Acked {
                ack,
                result: Ok(serde_json::json!({"id": 5, "ts": 1}))
            }
        );
        assert_eq!(
            s.resync("general", 4).unwrap(),
            r#"42["resync",{"after":4,"room":"general"}]"#
        );
        assert_eq!(
            s.resync_since("general", 4, Some(9)).unwrap(),
            r#"42["resync",{"after":4,"changes":9,"room":"general"}]"#
        );
        let (next, _) = s.send_message("again", "c2").unwrap();
        assert!(next > ack, "ack ids are never reused");
        assert!(s.on_frame(&format!("43{next}[]")).is_err());
    }

    #[test]
    fn refusals_and_closes_are_reported() {
        let mut s = Session::default();
        assert_eq!(
            s.on_frame(r#"44{"message":"go away"}"#).unwrap(),
            Action::Refused("go away".into())
        );
        assert_eq!(s.on_frame("1").unwrap(), Action::Closed);
        assert_eq!(s.on_frame("41").unwrap(), Action::Closed);
    }

    #[test]
    fn the_cursor_follows_contiguous_ids_and_asks_once_per_gap() {
        let mut c = Cursor::default();
        assert_eq!(
            c.on_message(3),
            None,
            "nothing to compare with before history"
        );
        assert_eq!(c.on_history(0, [1, 2]), None);
        assert_eq!(c.position(), Some(3));
        assert_eq!(c.on_message(4), None);
        assert_eq!(c.on_message(7), Some(4), "5 and 6 are missing");
        assert_eq!(c.on_message(8), None, "already asked from 4");
        assert_eq!(c.on_history(4, [5, 6, 7]), None);
        assert_eq!(c.position(), Some(8));
        assert_eq!(c.on_message(8), None, "a duplicate changes nothing");
    }

    #[test]
    fn a_first_history_of_recent_messages_sets_the_starting_point() {
        let mut c = Cursor::default();
        assert_eq!(c.on_history(40, [41, 42]), None);
        assert_eq!(c.position(), Some(42));
        let mut empty = Cursor::default();
        empty.on_history(0, []);
        assert_eq!(empty.position(), Some(0));
    }

    #[test]
    fn backoff_grows_to_five_seconds_with_jitter() {
        assert_eq!(backoff(1, 0.5), Duration::from_millis(1000));
        assert_eq!(backoff(2, 0.5), Duration::from_millis(2000));
        assert_eq!(backoff(3, 0.5), Duration::from_millis(4000));
        assert_eq!(backoff(9, 0.5), Duration::from_millis(5000));
        assert_eq!(backoff(9, 0.0), Duration::from_millis(2500));
        assert_eq!(backoff(9, 1.0), Duration::from_millis(7500));
        assert_eq!(backoff(u32::MAX, 0.5), Duration::from_millis(5000));
    }
}
