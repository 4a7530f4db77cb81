//! Posted messages changing, in [`ChatState`]: their later states (`messageUpdated`), each
//! conversation's change cursor, and how far back its history is loaded (older pages).
//!
//! The change cursor is the highest change number (`rev`) seen live or in history; the page
//! sends it back when it joins again, and the server answers with every message it holds
//! that changed since. Older pages do not move it: they are read from the store as they are
//! now, and say nothing about what happened to the messages after them.

use leptos::prelude::*;

use super::ChatState;
use super::messages::{find, merge_messages};
use crate::protocol::{MAX_PAGE, NewMessage, Older, Page};

/// How far back a conversation's history is loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// A page is on its way: ask for no other until it is in.
    pub loading: bool,
    /// The id of the conversation's first message, once a page reached it. Only true while
    /// that message is still held: eviction of the oldest makes the beginning unknown again.
    first: Option<u64>,
}

impl ChatState {
    /// A message I may hold changed: its newer state replaces mine (an older or repeated
    /// one, as a resync can bring after a live update, is ignored). One I do not hold is not
    /// added: it would stand alone, away from the messages around it.
    pub(super) fn on_updated(&self, message: NewMessage) {
        self.note_change(&message.room, message.rev);
        let newer = self.messages.with_untracked(|list| {
            find(list, &message.room, message.id).is_ok_and(|at| list[at].rev < message.rev)
        });
        if newer {
            self.messages.update(|list| merge_messages(list, [message]));
        }
    }

    /// Moves `room`'s change cursor up to `rev`.
    pub(super) fn note_change(&self, room: &str, rev: u64) {
        if rev == 0 || self.changes(room).is_some_and(|seen| seen >= rev) {
            return;
        }
        self.changes.update_value(|c| {
            c.insert(room.to_owned(), rev);
        });
    }

    /// The highest change number seen in `room`, to send back when joining it again.
    pub fn changes(&self, room: &str) -> Option<u64> {
        self.changes.with_value(|c| c.get(room).copied())
    }

    /// The request for the page before the oldest message held in `room`, unless one is on
    /// its way, the beginning is held, or nothing is held yet (the history comes first).
    /// Counts it as on its way.
    pub fn older_request(&self, room: &str) -> Option<Older> {
        if self.at_beginning_untracked(room) || self.backlog(room).loading {
            return None;
        }
        let before = self.oldest_held(room)?;
        self.older
            .update(|o| o.entry(room.to_owned()).or_default().loading = true);
        Some(Older {
            room: room.to_owned(),
            before,
            limit: Some(MAX_PAGE),
        })
    }

    /// The page before message `before` of `room` arrived.
    pub fn on_older(&self, room: &str, before: u64, page: Page) {
        // The first message itself, or (an empty page) the one the page was asked before.
        let first = (!page.more).then(|| page.messages.first().map_or(before, |m| m.id));
        // Merged as they are: neither the id cursor nor the change cursor moves.
        self.merge(page.messages);
        self.older.update(|o| {
            let backlog = o.entry(room.to_owned()).or_default();
            backlog.loading = false;
            if first.is_some() {
                backlog.first = first;
            }
        });
    }

    /// The page could not be had (refused, or the connection went): another may be asked.
    pub fn older_failed(&self, room: &str) {
        if self.backlog(room).loading {
            self.older.update(|o| {
                if let Some(backlog) = o.get_mut(room) {
                    backlog.loading = false;
                }
            });
        }
    }

    /// No page is on its way any more (the connection that would answer is gone).
    pub(super) fn older_all_failed(&self) {
        if self.older.with_untracked(|o| o.values().any(|b| b.loading)) {
            self.older
                .update(|o| o.values_mut().for_each(|b| b.loading = false));
        }
    }

    /// Whether `room`'s first message is held (tracked). Ids start at 1 in every
    /// conversation, so a conversation whose oldest held message is 1 is whole too.
    pub fn at_beginning(&self, room: &str) -> bool {
        let first = self.older.with(|o| o.get(room).and_then(|b| b.first));
        let oldest = self
            .messages
            .with(|list| list.iter().find(|m| m.room == room).map(|m| m.id));
        oldest.is_some_and(|oldest| oldest == 1 || Some(oldest) == first)
    }

    /// Whether a page of `room` is on its way (tracked).
    pub fn loading_older(&self, room: &str) -> bool {
        self.older.with(|o| o.get(room).is_some_and(|b| b.loading))
    }

    fn at_beginning_untracked(&self, room: &str) -> bool {
        untrack(|| self.at_beginning(room))
    }

    fn backlog(&self, room: &str) -> Backlog {
        self.older
            .with_untracked(|o| o.get(room).copied().unwrap_or_default())
    }

    fn oldest_held(&self, room: &str) -> Option<u64> {
        self.messages.with_untracked(|list| {
            let at = find(list, room, 0).unwrap_or_else(|at| at);
            list.get(at).filter(|m| m.room == room).map(|m| m.id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::protocol::{MessageUpdated, Reaction};

    fn at(room: &str, id: u64, rev: u64) -> NewMessage {
        NewMessage {
            rev,
            ..message(room, id, ANN)
        }
    }

    fn updated(state: &ChatState, m: NewMessage) {
        assert_eq!(
            state.apply(ServerEvent::MessageUpdated(MessageUpdated(m)), AT),
            NOTHING
        );
    }

    fn held(state: &ChatState, room: &str, id: u64) -> Option<NewMessage> {
        state
            .messages
            .with_untracked(|list| find(list, room, id).ok().map(|i| list[i].clone()))
    }

    fn page(room: &str, ids: std::ops::RangeInclusive<u64>, more: bool) -> Page {
        Page {
            messages: ids.map(|id| at(room, id, id)).collect(),
            more,
        }
    }

    #[test]
    fn the_change_cursor_follows_live_messages_updates_and_history_but_not_older_pages() {
        Owner::new().with(|| {
            let state = welcomed();
            assert_eq!(state.changes("general"), None, "nothing seen yet");
            state.apply(history("general", 100, vec![at("general", 101, 7)]), AT);
            assert_eq!(state.changes("general"), Some(7));
            new_message(&state, at("general", 102, 9), AT);
            updated(&state, at("general", 101, 12));
            assert_eq!(state.changes("general"), Some(12));
            updated(&state, at("general", 101, 10));
            assert_eq!(state.changes("general"), Some(12), "never back");
            let request = state.older_request("general").unwrap();
            let old = Page {
                messages: vec![at("general", 100, 40)],
                more: true,
            };
            state.on_older("general", request.before, old);
            assert_eq!(
                state.changes("general"),
                Some(12),
                "an older page says nothing of what I missed"
            );
            assert_eq!(state.changes("rust"), None, "rooms apart");
        });
    }

    #[test]
    fn a_newer_state_replaces_mine_an_older_or_repeated_one_does_not() {
        Owner::new().with(|| {
            let state = welcomed();
            state.apply(history("general", 0, vec![at("general", 1, 1)]), AT);
            let edited = NewMessage {
                message: "fixed".into(),
                edited: Some(5),
                ..at("general", 1, 3)
            };
            updated(&state, edited.clone());
            let reacted = NewMessage {
                reactions: vec![Reaction {
                    emoji: "👍".into(),
                    ids: vec![ME.into()],
                }],
                ..at("general", 1, 4)
            };
            updated(&state, reacted.clone());
            // The resync after a reconnect brings the edit again, behind the reaction.
            updated(&state, edited);
            assert_eq!(held(&state, "general", 1), Some(reacted));
            let deleted = NewMessage {
                message: String::new(),
                deleted: true,
                ..at("general", 1, 6)
            };
            updated(&state, deleted.clone());
            assert_eq!(held(&state, "general", 1), Some(deleted));
        });
    }

    #[test]
    fn an_update_to_a_message_i_do_not_hold_is_not_added_but_counts_as_seen() {
        Owner::new().with(|| {
            let state = welcomed();
            state.apply(history("general", 40, vec![at("general", 41, 41)]), AT);
            updated(&state, at("general", 3, 50));
            assert_eq!(held(&state, "general", 3), None);
            assert_eq!(state.changes("general"), Some(50));
        });
    }

    #[test]
    fn older_pages_go_back_one_at_a_time_to_the_beginning() {
        Owner::new().with(|| {
            let state = welcomed();
            state.focus("rust");
            assert_eq!(state.older_request("rust"), None, "history first");
            let recent = (201..=250).map(|id| at("rust", id, id)).collect();
            state.apply(history("rust", 200, recent), AT);
            let first = state.older_request("rust").unwrap();
            assert_eq!((first.before, first.limit), (201, Some(MAX_PAGE)));
            assert!(state.loading_older("rust"));
            assert_eq!(state.older_request("rust"), None, "one at a time");
            state.on_older("rust", 201, page("rust", 101..=200, true));
            assert!(!state.loading_older("rust") && !state.at_beginning("rust"));
            let second = state.older_request("rust").unwrap();
            assert_eq!(second.before, 101);
            state.older_failed("rust");
            let again = state.older_request("rust").unwrap();
            assert_eq!(again.before, 101, "a refused page can be asked again");
            state.on_older("rust", 101, page("rust", 51..=100, false));
            assert!(
                state.at_beginning("rust"),
                "the page reached the first message"
            );
            assert_eq!(state.older_request("rust"), None);
            let ids: Vec<u64> = state
                .messages
                .with_untracked(|l| l.iter().map(|m| m.id).collect());
            assert_eq!(ids, (51..=250).collect::<Vec<_>>(), "in order, no gaps");
            assert_eq!(state.position("rust"), Some(250), "the id cursor stays");
        });
    }

    #[test]
    fn an_empty_last_page_and_a_first_id_of_one_both_mean_the_beginning() {
        Owner::new().with(|| {
            let state = welcomed();
            state.apply(history("general", 0, vec![at("general", 1, 1)]), AT);
            assert!(state.at_beginning("general"));
            assert_eq!(state.older_request("general"), None);
            state.apply(history("rust", 0, vec![at("rust", 9, 9)]), AT);
            let request = state.older_request("rust").unwrap();
            let empty = Page {
                messages: vec![],
                more: false,
            };
            state.on_older("rust", request.before, empty);
            assert!(state.at_beginning("rust"), "nothing before 9 any more");
        });
    }

    #[test]
    fn a_lost_connection_frees_the_pages_on_their_way() {
        Owner::new().with(|| {
            let state = welcomed();
            state.apply(history("general", 0, vec![at("general", 5, 5)]), AT);
            assert!(state.older_request("general").is_some());
            state.on_joined(true);
            assert!(!state.loading_older("general"));
            assert!(state.older_request("general").is_some());
        });
    }
}
