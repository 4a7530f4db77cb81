//! Requests that wait for an answer on one connection: older pages and the moderators'
//! record pages (the answer carries the page), and acts (edit, delete, react, report, mute,
//! …: the answer only says yes or why not; the new state comes to everyone as
//! `messageUpdated`, `standing`, `rooms-changed`). My new messages are the
//! [`Outbox`](super::outbox::Outbox)'s.

use std::collections::HashMap;

use serde_json::Value;

use super::search::Ask;
use super::session::Session;
use super::state::{ChatState, Log};
use crate::protocol::{
    Audit, ChatError, ClientEvent, Done, ErrorCode, ListAudit, ListReports, Page, RecordsPage,
    Rename, Renamed, Reports, Request,
};

/// How long to wait before asking for a page again after the server said "too fast".
pub const OLDER_RETRY_MS: u32 = 500;

/// What a request on its way was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Older {
        room: String,
        before: u64,
    },
    /// An act; `done` is what to say once it is done, if anything.
    Change {
        done: Option<String>,
    },
    Records {
        log: Log,
        before: Option<u64>,
    },
    /// My rename: the answer carries the name kept.
    Rename,
    /// A page of search results, and where it goes.
    Search(Ask),
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

    /// The frame of an act (a change to a message, a report, a mute, …); once it is done,
    /// `done` is shown if given.
    pub fn change<R>(
        &mut self,
        session: &mut Session,
        state: &ChatState,
        change: R,
        done: Option<String>,
    ) -> Option<String>
    where
        R: Request<Accepted = Done> + Into<ClientEvent>,
    {
        match session.request(change) {
            Ok((ack, frame)) => {
                self.0.insert(ack, Pending::Change { done });
                Some(frame)
            }
            Err(e) => {
                state.show_error(e.to_string());
                None
            }
        }
    }

    /// The frame of my rename (already marked on its way in the state).
    pub fn rename(
        &mut self,
        session: &mut Session,
        state: &ChatState,
        rename: Rename,
    ) -> Option<String> {
        match session.request(rename) {
            Ok((ack, frame)) => {
                self.0.insert(ack, Pending::Rename);
                Some(frame)
            }
            Err(e) => {
                state.on_rename(Err(ChatError::new(ErrorCode::BadName, e.to_string())));
                None
            }
        }
    }

    /// The frame asking for a page of search results (a failure goes to the search).
    pub fn search(&mut self, session: &mut Session, ask: Ask) -> Option<String> {
        match session.request(ask.search.clone()) {
            Ok((ack, frame)) => {
                self.0.insert(ack, Pending::Search(ask));
                Some(frame)
            }
            Err(e) => {
                ask.failed(e.to_string());
                None
            }
        }
    }

    /// The frame asking for `page` of `log` (already marked on its way in the state).
    pub fn records(
        &mut self,
        session: &mut Session,
        state: &ChatState,
        log: Log,
        page: RecordsPage,
    ) -> Option<String> {
        let before = page.before;
        let frame = match log {
            Log::Reports => session.request(ListReports(Some(page))),
            Log::Audit => session.request(ListAudit(Some(page))),
        };
        match frame {
            Ok((ack, frame)) => {
                self.0.insert(ack, Pending::Records { log, before });
                Some(frame)
            }
            Err(e) => {
                state.records_failed(log);
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
            (Pending::Change { done }, Ok(_)) => {
                if let Some(done) = done {
                    state.show_done(done);
                }
            }
            (Pending::Change { .. }, Err(e)) => state.show_error(e.message),
            (Pending::Records { log, before }, Ok(fields)) => {
                on_records(state, log, before, fields)
            }
            (Pending::Rename, Ok(fields)) => match serde_json::from_value::<Renamed>(fields) {
                Ok(renamed) => state.on_rename(Ok(renamed.name)),
                Err(e) => leptos::logging::warn!("a rename answer of the wrong shape: {e}"),
            },
            (Pending::Rename, Err(e)) => state.on_rename(Err(e)),
            (Pending::Search(ask), result) => ask.on_answer(result),
            (Pending::Records { log, .. }, Err(e)) => {
                state.records_failed(log);
                state.show_error(e.message);
            }
        }
        None
    }
}

/// A page of reports or of the audit log came.
fn on_records(state: &ChatState, log: Log, before: Option<u64>, fields: Value) {
    let read = match log {
        Log::Reports => {
            serde_json::from_value::<Reports>(fields).map(|p| state.on_reports(before, p))
        }
        Log::Audit => serde_json::from_value::<Audit>(fields).map(|p| state.on_audit(before, p)),
    };
    if let Err(e) = read {
        leptos::logging::warn!("a page of {log:?} of the wrong shape: {e}");
        state.records_failed(log);
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
            let frame = requests.change(&mut session, &state, delete, None).unwrap();
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

    #[test]
    fn a_rename_answer_names_me_and_a_refusal_says_why() {
        Owner::new().with(|| {
            let state = holding("general", 1..=1);
            let (mut session, mut requests) = (joined_for_tests(), Requests::default());
            let rename = Rename { name: "Ann".into() };
            let frame = requests.rename(&mut session, &state, rename).unwrap();
            assert!(frame.contains(r#"["rename",{"name":"Ann"}]"#), "{frame}");
            requests.on_ack(ack_of(&frame), Ok(json!({"name": "Ann"})), &state);
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("Ann"));
            let rename = Rename { name: "Bob".into() };
            let frame = requests.rename(&mut session, &state, rename).unwrap();
            let no = ChatError::new(ErrorCode::RateLimited, "One new name per 5 s.");
            requests.on_ack(ack_of(&frame), Err(no), &state);
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("Ann"));
            assert_eq!(
                state.rename.get_untracked(),
                Some(crate::client::RenameNote::Refused(
                    "One new name per 5 s.".into()
                ))
            );
        });
    }

    #[test]
    fn a_report_says_when_it_is_done_and_a_record_page_comes_into_the_panel() {
        Owner::new().with(|| {
            let state = holding("general", 1..=3);
            let (mut session, mut requests) = (joined_for_tests(), Requests::default());
            let report = crate::protocol::ReportMessage {
                room: "general".into(),
                id: 2,
                reason: None,
            };
            let done = Some("Reported — the moderators will look at it.".to_owned());
            let frame = requests.change(&mut session, &state, report, done.clone()).unwrap();
            assert!(frame.contains(r#""report""#), "{frame}");
            assert_eq!(state.done.get_untracked(), None, "not before the answer");
            requests.on_ack(ack_of(&frame), Ok(json!({})), &state);
            assert_eq!(state.done.get_untracked(), done);

            let page = state.records_request(Log::Audit, false).unwrap();
            let frame = requests.records(&mut session, &state, Log::Audit, page).unwrap();
            assert!(frame.contains(r#""audit""#), "{frame}");
            let entries = json!({"entries": [{"id": 4, "ts": 1, "by": "b", "byName": "x",
                "action": "delete", "target": "t", "room": "general", "message": 2}], "more": false});
            requests.on_ack(ack_of(&frame), Ok(entries), &state);
            let held = state.audit_pages.get_untracked();
            assert_eq!((held.items.len(), held.loading), (1, false));

            let page = state.records_request(Log::Reports, false).unwrap();
            let frame = requests.records(&mut session, &state, Log::Reports, page).unwrap();
            let no = ChatError::new(ErrorCode::NotAllowed, "Only moderators can do that.");
            requests.on_ack(ack_of(&frame), Err(no), &state);
            assert!(!state.report_pages.get_untracked().loading);
            assert_eq!(
                state.error.get_untracked().as_deref(),
                Some("Only moderators can do that.")
            );
        });
    }
}
