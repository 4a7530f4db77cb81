//! The message stream in [`ChatState`]: live messages and history merged in order, each
//! conversation's cursor (a jump in ids asks for a resync), unread counts, my pending
//! messages confirmed, and direct conversations followed and named. What is kept when there
//! are too many is [`evict`]'s.

use leptos::prelude::*;

use super::{ChatState, Effect, Env, MAX_SHOWN_MESSAGES};
use crate::protocol::{History, NewMessage, is_direct_key};

impl ChatState {
    pub(super) fn on_message(&self, message: NewMessage, env: Env) -> Vec<Effect> {
        let room = message.room.clone();
        let mut effects = Vec::new();
        let gap = self.with_cursor(&room, |c| c.on_message(message.id));
        self.note_change(&room, message.rev);
        let mine = self.is_me(&message.from);
        if let Some(client_id) = message.client_id.as_ref().filter(|_| mine) {
            // My own message came back: it is no longer pending. Only mine: client ids are
            // broadcast, so anyone could send one that matches a message I am still sending.
            self.discard(client_id);
        }
        if is_direct_key(&room) && self.note_direct(&room, (!mine).then_some(&message.sender)) {
            effects.push(Effect::SaveConversations);
        }
        if !mine && self.active.with_untracked(|a| a != &room) {
            self.unread
                .update(|u| *u.entry(room.clone()).or_default() += 1);
        }
        if !mine && env.tab_hidden {
            self.unseen.update(|n| *n += 1);
        }
        if !mine && let Some(alert) = self.on_for_me(&message, env) {
            effects.push(alert);
        }
        // Whoever just sent a message has stopped typing it.
        self.typists.update(|t| t.stopped(&room, &message.from));
        self.merge([message]);
        if let Some(after) = gap {
            effects.push(Effect::Resync { room, after });
        }
        effects
    }

    pub(super) fn on_history(&self, history: History) -> Vec<Effect> {
        let room = history.room.clone();
        let mut effects = Vec::new();
        let ids = history.messages.iter().map(|m| m.id);
        let gap = self.with_cursor(&room, |c| c.on_history(history.after, ids));
        let newest_change = history.messages.iter().map(|m| m.rev).max();
        self.note_change(&room, newest_change.unwrap_or(0));
        if is_direct_key(&room) {
            let me = self.my_id.get_untracked().unwrap_or_default();
            let theirs = history.messages.iter().rev().find(|m| m.from != me);
            if self.note_direct(&room, theirs.map(|m| &m.sender)) {
                effects.push(Effect::SaveConversations);
            }
        }
        self.merge(history.messages);
        if let Some(after) = gap {
            effects.push(Effect::Resync { room, after });
        } else if history.more {
            // The catch-up stopped at its size limit: ask for the rest.
            effects.push(Effect::Resync {
                room,
                after: history.latest,
            });
        }
        effects
    }

    /// Adds messages to the stream, then keeps it within [`MAX_SHOWN_MESSAGES`].
    pub(super) fn merge(&self, incoming: impl IntoIterator<Item = NewMessage>) {
        let on_screen = self.active.get_untracked();
        self.messages.update(|list| {
            merge_messages(list, incoming);
            evict(list, &on_screen);
        });
    }

    /// Follows a direct conversation (someone wrote to me) and learns their display name;
    /// true when anything changed.
    fn note_direct(&self, room: &str, their_name: Option<&String>) -> bool {
        let mut changed = self.follow(room);
        if let Some(name) = their_name
            && self.dm_names.with_untracked(|n| n.get(room) != Some(name))
        {
            self.dm_names.update(|n| {
                n.insert(room.to_owned(), name.clone());
            });
            changed = true;
        }
        changed
    }
}

/// Adds messages to the list, keeping each conversation ordered by id, without duplicates
/// (history and live broadcasts can overlap: of two copies the one changed last stays).
pub(super) fn merge_messages(
    list: &mut Vec<NewMessage>,
    incoming: impl IntoIterator<Item = NewMessage>,
) {
    for message in incoming {
        match find(list, &message.room, message.id) {
            Ok(at) => {
                if message.rev > list[at].rev {
                    list[at] = message;
                }
            }
            Err(at) => list.insert(at, message),
        }
    }
}

/// Where message `id` of `room` is in the list, or where it would go.
pub(super) fn find(list: &[NewMessage], room: &str, id: u64) -> Result<usize, usize> {
    list.binary_search_by(|m| (m.room.as_str(), m.id).cmp(&(room, id)))
}

/// Keeps the list at most [`MAX_SHOWN_MESSAGES`] long by dropping the oldest messages of the
/// conversations not on screen. The one on screen is left alone, however long: its reader may
/// have scrolled back to load every one of them, and taking the oldest away under their eyes
/// would undo that. It is trimmed once it goes off screen (see [`ChatState::focus`]), and
/// scrolling back loads the pages again. Dropping the oldest keeps every conversation one run
/// of ids, so its cursor and its older pages still line up.
pub(super) fn evict(list: &mut Vec<NewMessage>, on_screen: &str) {
    while list.len() > MAX_SHOWN_MESSAGES {
        let oldest = list
            .iter()
            .enumerate()
            .filter(|(_, m)| m.room != on_screen)
            .min_by_key(|(_, m)| m.ts)
            .map(|(i, _)| i);
        match oldest {
            Some(at) => {
                list.remove(at);
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::protocol::{Conversation, Typing};

    fn shown(state: &ChatState, room: &str) -> Vec<u64> {
        state.messages.with_untracked(|list| {
            list.iter()
                .filter(|m| m.room == room)
                .map(|m| m.id)
                .collect()
        })
    }

    fn unread(state: &ChatState, room: &str) -> u32 {
        state
            .unread
            .with_untracked(|u| u.get(room).copied().unwrap_or(0))
    }

    fn dm_with_ann() -> String {
        Conversation::direct(ME, ANN).unwrap().key()
    }

    #[test]
    fn welcome_says_who_i_am_so_my_own_messages_are_never_unread() {
        Owner::new().with(|| {
            let state = welcomed();
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("red-fox"));
            state.focus("rust");
            new_message(&state, message("general", 1, ME), AT);
            assert_eq!(unread(&state, "general"), 0);
            new_message(&state, message("general", 2, ANN), AT);
            assert_eq!(unread(&state, "general"), 1);
        });
    }

    #[test]
    fn a_new_message_elsewhere_counts_as_unread_and_hidden_tabs_count_it_in_the_title() {
        Owner::new().with(|| {
            let state = welcomed();
            state.focus("rust");
            new_message(&state, message("general", 1, ANN), AT);
            new_message(&state, message("rust", 1, ANN), AT);
            assert_eq!((unread(&state, "general"), unread(&state, "rust")), (1, 0));
            assert_eq!(state.unseen.get_untracked(), 0, "the tab is in view");
            let hidden = Env {
                tab_hidden: true,
                ..AT
            };
            new_message(&state, message("rust", 2, ANN), hidden);
            new_message(&state, message("rust", 3, ME), hidden);
            assert_eq!(state.unseen.get_untracked(), 1, "mine do not count");
            state.seen();
            assert_eq!(state.unseen.get_untracked(), 0);
            state.focus("general");
            assert_eq!(unread(&state, "general"), 0);
        });
    }

    #[test]
    fn my_pending_message_is_confirmed_by_its_broadcast() {
        Owner::new().with(|| {
            let state = welcomed();
            state.queue(Outgoing {
                client_id: "page-1".into(),
                room: "general".into(),
                text: "m1".into(),
                reply_to: None,
                failed: None,
            });
            let mut echo = message("general", 1, ME);
            echo.client_id = Some("page-1".into());
            new_message(&state, echo, AT);
            assert!(state.outgoing.get_untracked().is_empty());
            assert_eq!(shown(&state, "general"), [1]);
        });
    }

    #[test]
    fn someone_else_s_message_with_my_pending_client_id_does_not_cancel_mine() {
        Owner::new().with(|| {
            let state = welcomed();
            state.queue(Outgoing {
                client_id: "page-1".into(),
                room: "general".into(),
                text: "m1".into(),
                reply_to: None,
                failed: None,
            });
            let mut forged = message("general", 1, ANN);
            forged.client_id = Some("page-1".into());
            new_message(&state, forged, AT);
            assert_eq!(
                state.outgoing.get_untracked().len(),
                1,
                "mine still goes out"
            );
        });
    }

    #[test]
    fn a_direct_message_to_me_follows_the_conversation_named_after_the_sender() {
        Owner::new().with(|| {
            let state = welcomed();
            let key = dm_with_ann();
            let effects = new_message(&state, message(&key, 1, ANN), AT);
            assert_eq!(effects, [Effect::SaveConversations]);
            assert!(state.followed.get_untracked().contains(&key));
            assert_eq!(state.dm_names.get_untracked()[&key], "blue-ann");
            assert_eq!(unread(&state, &key), 1);
            assert_eq!(
                new_message(&state, message(&key, 2, ANN), AT),
                [],
                "nothing new to keep"
            );
            new_message(&state, message(&key, 3, ME), AT);
            assert_eq!(
                state.dm_names.get_untracked()[&key],
                "blue-ann",
                "not named after me"
            );
        });
    }

    #[test]
    fn a_catch_up_cut_at_its_size_limit_asks_for_the_rest() {
        Owner::new().with(|| {
            let state = welcomed();
            let ServerEvent::History(mut cut) = history(
                "general",
                0,
                vec![message("general", 1, ANN), message("general", 2, ANN)],
            ) else {
                unreachable!()
            };
            cut.more = true;
            let rest = Effect::Resync {
                room: "general".into(),
                after: 2,
            };
            assert_eq!(state.apply(ServerEvent::History(cut), AT), [rest]);
            let whole = history("general", 2, vec![message("general", 3, ANN)]);
            assert_eq!(
                state.apply(whole, AT),
                NOTHING,
                "the end: nothing more to ask"
            );
        });
    }

    #[test]
    fn a_jump_in_ids_asks_once_for_the_gap() {
        Owner::new().with(|| {
            let state = welcomed();
            state.apply(history("general", 0, vec![message("general", 1, ANN)]), AT);
            assert_eq!(new_message(&state, message("general", 2, ANN), AT), NOTHING);
            let resync = Effect::Resync {
                room: "general".into(),
                after: 2,
            };
            assert_eq!(
                new_message(&state, message("general", 5, ANN), AT),
                [resync]
            );
            assert_eq!(
                new_message(&state, message("general", 6, ANN), AT),
                [],
                "asked already"
            );
            let filled = vec![message("general", 3, ANN), message("general", 4, ANN)];
            assert_eq!(state.apply(history("general", 2, filled), AT), NOTHING);
            assert_eq!(shown(&state, "general"), [1, 2, 3, 4, 5, 6]);
            assert_eq!(state.position("general"), Some(6));
        });
    }

    #[test]
    fn history_and_live_messages_merge_without_duplicates() {
        Owner::new().with(|| {
            let state = welcomed();
            new_message(&state, message("general", 3, ANN), AT);
            let recent = vec![message("general", 2, ANN), message("general", 3, ANN)];
            assert_eq!(state.apply(history("general", 1, recent), AT), NOTHING);
            assert_eq!(shown(&state, "general"), [2, 3]);
            assert_eq!(state.position("general"), Some(3));
        });
    }

    #[test]
    fn a_direct_conversation_s_history_names_the_other_person() {
        Owner::new().with(|| {
            let state = welcomed();
            let key = dm_with_ann();
            let talk = vec![message(&key, 1, ANN), message(&key, 2, ME)];
            assert_eq!(
                state.apply(history(&key, 0, talk), AT),
                [Effect::SaveConversations]
            );
            assert_eq!(state.dm_names.get_untracked()[&key], "blue-ann");
            assert!(state.followed.get_untracked().contains(&key));
            assert_eq!(unread(&state, &key), 0, "history is not news");
        });
    }

    #[test]
    fn a_typist_who_sends_stops_typing() {
        Owner::new().with(|| {
            let state = welcomed();
            let typing = Typing {
                room: "general".into(),
                id: ANN.into(),
                name: "blue-ann".into(),
            };
            state.apply(ServerEvent::Typing(typing), AT);
            new_message(&state, message("general", 1, ANN), AT);
            assert_eq!(state.typists.with_untracked(|t| t.line("general")), None);
        });
    }

    fn keys(list: &[NewMessage]) -> Vec<(&str, u64)> {
        list.iter().map(|m| (m.room.as_str(), m.id)).collect()
    }

    #[test]
    fn history_and_live_messages_merge_in_order_without_duplicates_and_rooms_apart() {
        let mut list = vec![message("general", 5, ANN)];
        merge_messages(
            &mut list,
            [2, 3, 5, 4].map(|id| message("general", id, ANN)),
        );
        merge_messages(&mut list, [3, 6].map(|id| message("general", id, ANN)));
        merge_messages(
            &mut list,
            [message("rust", 1, ANN), message("general", 1, ANN)],
        );
        let general: Vec<_> = (1..=6).map(|id| ("general", id)).collect();
        assert_eq!(keys(&list)[..6], general[..]);
        assert_eq!(keys(&list)[6..], [("rust", 1)]);
    }

    #[test]
    fn only_the_newest_messages_are_kept() {
        let mut list = Vec::new();
        let many = (1..=MAX_SHOWN_MESSAGES as u64 + 10).map(|id| message("general", id, ANN));
        merge_messages(&mut list, many);
        evict(&mut list, "rust");
        assert_eq!((list.len(), list[0].id), (MAX_SHOWN_MESSAGES, 11));
    }

    #[test]
    fn eviction_spares_the_conversation_on_screen_and_trims_it_once_it_leaves() {
        Owner::new().with(|| {
            let state = welcomed();
            state.focus("rust");
            // A page of general, then the reader scrolls back far in rust.
            let general = (1..=10).map(|id| message("general", id, ANN));
            state.apply(history("general", 0, general.collect()), AT);
            let cap = MAX_SHOWN_MESSAGES as u64;
            let rust: Vec<_> = (1..=cap + 5).map(|id| message("rust", id, ANN)).collect();
            state.apply(history("rust", 0, rust), AT);
            assert_eq!(
                shown(&state, "general"),
                [] as [u64; 0],
                "general went first"
            );
            assert_eq!(shown(&state, "rust").len(), MAX_SHOWN_MESSAGES + 5);
            assert_eq!(shown(&state, "rust")[0], 1, "what I scrolled back to stays");
            state.focus("general");
            let rust = shown(&state, "rust");
            assert_eq!((rust.len(), rust[0]), (MAX_SHOWN_MESSAGES, 6));
        });
    }
}
