//! Requests about posted messages that wait for an answer on one connection: older pages
//! (the answer carries the page) and changes (edit, delete, react: the answer only says yes
//! or why not; the new state comes to everyone as `messageUpdated`). My new messages are the
//! [`Outbox`](super::outbox::Outbox)'s.

use std::collections::HashMap;

use serde_json::Value;

use super::session::Session;
use super::state::ChatState;
use crate::protocol::{ChatError, ClientEvent, Done, ErrorCode, Page, Request};

/// How long to wait before asking for a page again after the server said "too fast".
pub const OLDER_RETRY_MS: u32 = 500;

/// What a request on its way was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Older { room: String, before: u64 },
    Change,
}

/// The requests on their way on one connection, by ack id. A lost connection loses them
/// with it: the state frees the pages on their way when the next one joins.
#[derive(Debug, Default)]
pub struct Requests(HashMap<u64, Pending>);

impl Requests {
    /// The frame asking for the page before the oldest message held in `room`, when one
    /// may be asked (see [`ChatState::older_request`]).
    pub fn older(
        &mut self,
        session: &mut Session,
        state: &ChatState,
        room: &str,
    ) -> Option<String> {
        let request = state.older_request(room)?;
        let before = request.before;
        match session.request(request) {
            Ok((ack, frame)) => {
                let room = room.to_owned();
                self.0.insert(ack, Pending::Older { room, before });
                Some(frame)
            }
            Err(e) => {
                state.older_failed(room);
                state.show_error(e.to_string());
                None
            }
        }
    }

    /// The frame of a change to a message.
    pub fn change<R>(
        &mut self,
        session: &mut Session,
        state: &ChatState,
        change: R,
    ) -> Option<String>
    where
        R: Request<Accepted = Done> + Into<ClientEvent>,
    {
        match session.request(change) {
            Ok((ack, frame)) => {
                self.0.insert(ack, Pending::Change);
                Some(frame)
            }
            Err(e) => {
                state.show_error(e.to_string());
                None
            }
        }
    }

    /// The server answered request `ack`, if it was one of these. Returns the room whose
    /// page is to be asked again after [`OLDER_RETRY_MS`] (the server said "too fast").
    pub fn on_ack(
        &mut self,
        ack: u64,
        result: Result<Value, ChatError>,
        state: &ChatState,
    ) -> Option<String> {
        match (self.0.remove(&ack)?, result) {
            (Pending::Older { room, before }, Ok(fields)) => {
                match serde_json::from_value::<Page>(fields) {
                    Ok(page) => state.on_older(&room, before, page),
                    Err(e) => {
                        leptos::logging::warn!("a page of older messages of the wrong shape: {e}");
                        state.older_failed(&room);
                    }
                }
            }
            (Pending::Older { room, .. }, Err(e)) if e.code == ErrorCode::RateLimited => {
                return Some(room);
            }
            (Pending::Older { room, .. }, Err(e)) => {
                state.older_failed(&room);
                state.show_error(e.message);
            }
            (Pending::Change, Ok(_)) => {}
            (Pending::Change, Err(e)) => state.show_error(e.message),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::client::session::joined_for_tests;
    use crate::protocol::{Delete, Frame, History, NewMessage, ServerEvent};

    fn holding(room: &str, ids: std::ops::RangeInclusive<u64>) -> ChatState {
        let state = ChatState::new();
        let messages: Vec<NewMessage> = ids
            .map(|id| NewMessage {
                room: room.into(),
                id,
                ts: id,
                ..Default::default()
            })
            .collect();
        let history = History {
            room: room.into(),
            after: 0,
            latest: messages.last().map_or(0, |m| m.id),
            messages,
            more: false,
        };
        state.apply(
            ServerEvent::History(history),
            crate::client::Env {
                now_ms: 0.0,
                tab_hidden: false,
            },
        );
        state
    }

    fn ack_of(frame: &str) -> u64 {
        match Frame::decode(frame) {
            Ok(Frame::Event { id: Some(id), .. }) => id,
            other => panic!("{frame}: {other:?}"),
        }
    }

    #[test]
    fn a_page_comes_back_into_the_stream_and_the_next_one_may_be_asked() {
        Owner::new().with(|| {
            let state = holding("general", 60..=70);
            let (mut session, mut requests) = (joined_for_tests(), Requests::default());
            let frame = requests.older(&mut session, &state, "general").unwrap();
            assert!(requests.older(&mut session, &state, "general").is_none(), "one at a time");
            let page = json!({"messages": [{"sender": "a", "message": "m", "room": "general", "id": 59, "ts": 59}], "more": true});
            assert_eq!(requests.on_ack(ack_of(&frame), Ok(page), &state), None);
            assert_eq!(state.messages.get_untracked()[0].id, 59);
            assert!(requests.older(&mut session, &state, "general").is_some());
        });
    }

    #[test]
    fn too_fast_asks_again_later_and_other_refusals_are_shown() {
        Owner::new().with(|| {
            let state = holding("general", 60..=70);
            let (mut session, mut requests) = (joined_for_tests(), Requests::default());
            let frame = requests.older(&mut session, &state, "general").unwrap();
            let slow = ChatError::new(ErrorCode::RateLimited, "slow down");
            assert_eq!(
                requests
                    .on_ack(ack_of(&frame), Err(slow), &state)
                    .as_deref(),
                Some("general")
            );
            assert_eq!(
                state.error.get_untracked(),
                None,
                "not the reader's problem"
            );

            let delete = Delete {
                room: "general".into(),
                id: 60,
            };
            let frame = requests.change(&mut session, &state, delete).unwrap();
            let no = ChatError::new(ErrorCode::NotAllowed, "Only its author can.");
            assert_eq!(requests.on_ack(ack_of(&frame), Err(no), &state), None);
            assert_eq!(
                state.error.get_untracked().as_deref(),
                Some("Only its author can.")
            );
            assert_eq!(
                requests.on_ack(999, Ok(json!({})), &state),
                None,
                "not mine"
            );
        });
    }
}
