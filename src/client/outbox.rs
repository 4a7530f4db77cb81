//! My messages on their way: they wait in [`ChatState`] in the order typed and go out one at
//! a time, each waiting for its ack, so they reach the conversation in that order. One still
//! unconfirmed when the link drops goes again with the same client id after reconnecting,
//! which the server stores only once; "too fast" pauses sending, then the same one goes again.

use serde_json::Value;

use super::session::{Address, Session};
use super::state::ChatState;
use crate::protocol::{ChatError, ErrorCode, Stored};

/// How long to wait before sending again after the server said "too fast".
pub const RATE_LIMIT_PAUSE_MS: u32 = 400;

/// A message I sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Sent with the message; a resend with the same id is stored once.
    pub client_id: String,
    /// The conversation's key: a room name, or a direct conversation's.
    pub room: String,
    pub text: String,
    /// The message it answers, in the same conversation.
    pub reply_to: Option<u64>,
    /// Why the server refused it, if it did; it then waits for a retry.
    pub failed: Option<String>,
}

/// What an ack meant to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The message in flight is settled (stored, or refused and marked so).
    Settled,
    /// Too fast: wait [`RATE_LIMIT_PAUSE_MS`], call [`Outbox::resume`], and it goes again.
    Pause,
    /// Not the answer to the message in flight.
    Other,
}

/// The message in flight on one connection, and whether sending is paused.
#[derive(Debug, Default)]
pub struct Outbox {
    in_flight: Option<(u64, String)>,
    paused: bool,
}

impl Outbox {
    /// The frame of the next message, when one may go now: joined, nothing in flight, not
    /// paused. A message that cannot be encoded is marked refused and the next one tried.
    pub fn next(&mut self, session: &mut Session, state: &ChatState) -> Option<String> {
        if !session.is_joined() || self.in_flight.is_some() || self.paused {
            return None;
        }
        while let Some(item) = state.next_outgoing() {
            // A direct message goes to the person; before I know my id, to the key.
            let partner = state.partner(&item.room);
            let address = Address {
                room: partner.is_none().then_some(item.room.as_str()),
                to: partner.as_deref(),
                reply_to: item.reply_to,
            };
            let sent = session.send_to(&item.text, &item.client_id, address);
            match sent {
                Ok((ack, frame)) => {
                    self.in_flight = Some((ack, item.client_id));
                    return Some(frame);
                }
                Err(e) => state.settle(&item.client_id, Err(e)),
            }
        }
        None
    }

    /// The server answered the request with ack id `ack`.
    pub fn on_ack(
        &mut self,
        ack: u64,
        result: Result<Value, ChatError>,
        state: &ChatState,
    ) -> Answer {
        let Some((_, client_id)) = self.in_flight.take_if(|(id, _)| *id == ack) else {
            return Answer::Other;
        };
        match result {
            // Not refused, only early: the same message goes again shortly.
            Err(e) if e.code == ErrorCode::RateLimited => {
                self.paused = true;
                return Answer::Pause;
            }
            Ok(fields) => {
                if let Err(e) = serde_json::from_value::<Stored>(fields) {
                    // Stored all the same; the server and this page disagree on the shape.
                    leptos::logging::warn!("a message ack without id and ts: {e}");
                }
                state.settle(&client_id, Ok(()));
            }
            Err(e) => state.settle(&client_id, Err(e)),
        }
        Answer::Settled
    }

    /// The pause after "too fast" is over.
    pub fn resume(&mut self) {
        self.paused = false;
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;

    use super::*;
    use crate::client::session::joined_for_tests;
    use crate::protocol::{Auth, Conversation, Frame};

    fn queue(state: &ChatState, client_id: &str, room: &str, text: &str) {
        state.queue(Outgoing {
            client_id: client_id.into(),
            room: room.into(),
            text: text.into(),
            reply_to: None,
            failed: None,
        });
    }

    /// The ack id and the draft of a sent frame.
    fn sent(frame: &str) -> (u64, serde_json::Value) {
        match Frame::decode(frame) {
            Ok(Frame::Event {
                id: Some(id),
                mut args,
                ..
            }) => (id, args.remove(0)),
            other => panic!("{frame}: {other:?}"),
        }
    }

    fn pending(state: &ChatState) -> Vec<(String, Option<String>)> {
        state
            .outgoing
            .get_untracked()
            .into_iter()
            .map(|o| (o.text, o.failed))
            .collect()
    }

    #[test]
    fn messages_go_one_at_a_time_in_order_each_after_its_ack() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let (mut session, mut outbox) = (joined_for_tests(), Outbox::default());
            queue(&state, "c1", "general", "first");
            queue(&state, "c2", "rust", "second");
            let (ack, draft) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_eq!(draft["text"], "first");
            assert_eq!(outbox.next(&mut session, &state), None, "one in flight");
            let stored = serde_json::json!({"id": 1, "ts": 2});
            assert_eq!(
                outbox.on_ack(ack + 99, Ok(stored.clone()), &state),
                Answer::Other
            );
            assert_eq!(outbox.on_ack(ack, Ok(stored), &state), Answer::Settled);
            let (_, draft) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_eq!(
                (draft["text"].as_str(), draft["room"].as_str()),
                (Some("second"), Some("rust"))
            );
            assert_eq!(pending(&state), [("second".to_owned(), None)]);
        });
    }

    #[test]
    fn nothing_goes_out_before_the_server_accepted_the_connection() {
        Owner::new().with(|| {
            let state = ChatState::new();
            queue(&state, "c1", "general", "hi");
            let mut fresh = Session::new(Auth::default());
            assert_eq!(Outbox::default().next(&mut fresh, &state), None);
            assert_eq!(pending(&state).len(), 1, "it waits");
        });
    }

    #[test]
    fn too_fast_pauses_then_the_same_message_goes_again_with_the_same_id() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let (mut session, mut outbox) = (joined_for_tests(), Outbox::default());
            queue(&state, "c1", "general", "hello");
            let (ack, first) = sent(&outbox.next(&mut session, &state).unwrap());
            let too_fast = ChatError::new(ErrorCode::RateLimited, "slow down");
            assert_eq!(outbox.on_ack(ack, Err(too_fast), &state), Answer::Pause);
            assert_eq!(outbox.next(&mut session, &state), None, "paused");
            outbox.resume();
            let (again, second) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_ne!(again, ack);
            assert_eq!(first["clientId"], second["clientId"]);
            assert_eq!(state.error.get_untracked(), None, "not shown as a refusal");
        });
    }

    #[test]
    fn a_refused_message_waits_for_a_retry_and_the_next_one_goes() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let (mut session, mut outbox) = (joined_for_tests(), Outbox::default());
            queue(&state, "c1", "general", "one");
            queue(&state, "c2", "general", "two");
            let (ack, _) = sent(&outbox.next(&mut session, &state).unwrap());
            let down = ChatError::new(ErrorCode::Unavailable, "Storage is down");
            assert_eq!(outbox.on_ack(ack, Err(down), &state), Answer::Settled);
            let reason = "Storage is down (not sent)".to_owned();
            assert_eq!(state.error.get_untracked(), Some(reason.clone()));
            let (ack, draft) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_eq!(draft["text"], "two");
            outbox.on_ack(ack, Ok(serde_json::json!({"id": 2, "ts": 3})), &state);
            assert_eq!(pending(&state), [("one".to_owned(), Some(reason))]);
            state.retry("c1");
            let (_, draft) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_eq!(draft["text"], "one");
        });
    }

    #[test]
    fn a_direct_message_goes_to_the_person() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let (me, them) = ("0123456789abcdef", "fedcba9876543210");
            state.my_id.set(Some(me.into()));
            let (mut session, mut outbox) = (joined_for_tests(), Outbox::default());
            let key = Conversation::direct(me, them).unwrap().key();
            queue(&state, "c1", &key, "psst");
            let (_, draft) = sent(&outbox.next(&mut session, &state).unwrap());
            assert_eq!(draft["to"], them);
            assert_eq!(draft.get("room"), None);
        });
    }

    #[test]
    fn a_message_the_protocol_refuses_is_marked_not_sent() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let (mut session, mut outbox) = (joined_for_tests(), Outbox::default());
            queue(&state, "bad id", "general", "hello");
            assert_eq!(outbox.next(&mut session, &state), None);
            assert!(pending(&state)[0].1.is_some());
        });
    }
}
