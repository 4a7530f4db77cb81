//! More of [`ChatClient`]: what a person does to messages already posted (load the page
//! before them, edit or delete mine, react to any), and the reads that go with it. Each is
//! checked here with the server's own rules first, so a refusal shows at once; the connection
//! sends it, and the new state comes back to everyone as `messageUpdated`.

use leptos::prelude::*;

use super::handle::{ChatClient, Command};
use crate::protocol::{ChatError, Delete, Edit, NewMessage, React, check_emoji, clean_message};

impl ChatClient {
    /// Loads the page before the oldest message held in `room` (nothing while one is on its
    /// way, or once the beginning is held).
    pub fn load_older(&self, room: &str) {
        if !untrack(|| self.state.at_beginning(room) || self.state.loading_older(room)) {
            self.command(Command::Older(room.to_owned()));
        }
    }

    /// Whether `room`'s first message is held: its timeline starts there.
    pub fn at_beginning(&self, room: &str) -> bool {
        self.state.at_beginning(room)
    }

    /// Whether a page of older messages of `room` is on its way.
    pub fn loading_older(&self, room: &str) -> bool {
        self.state.loading_older(room)
    }

    /// Message `id` of `room`, when held.
    pub fn message(&self, room: &str, id: u64) -> Option<NewMessage> {
        self.state.messages.with(|list| {
            list.binary_search_by(|m| (m.room.as_str(), m.id).cmp(&(room, id)))
                .ok()
                .map(|at| list[at].clone())
        })
    }

    /// My last message in `room` that can still be edited (Up-arrow in an empty composer).
    pub fn my_last(&self, room: &str) -> Option<NewMessage> {
        let me = self.state.my_id.get_untracked()?;
        self.state.messages.with_untracked(|list| {
            list.iter()
                .rev()
                .find(|m| m.room == room && m.from == me && !m.deleted)
                .cloned()
        })
    }

    /// Replaces the text of my message `id` of `room` (cleaned and checked like a new one).
    pub fn edit(&self, room: &str, id: u64, text: &str) -> Result<(), ChatError> {
        let text = clean_message(text).inspect_err(|e| self.show_error(e.message.clone()))?;
        self.state.error.set(None);
        self.command(Command::Edit(Edit {
            room: room.to_owned(),
            id,
            text,
        }));
        Ok(())
    }

    /// Takes back my message `id` of `room`.
    pub fn delete(&self, room: &str, id: u64) {
        self.command(Command::Delete(Delete {
            room: room.to_owned(),
            id,
        }));
    }

    /// Puts my `emoji` on message `id` of `room`, or takes it off.
    pub fn react(&self, room: &str, id: u64, emoji: &str) -> Result<(), ChatError> {
        let emoji = emoji.trim();
        check_emoji(emoji).inspect_err(|e| self.show_error(e.message.clone()))?;
        self.command(Command::React(React {
            room: room.to_owned(),
            id,
            emoji: emoji.to_owned(),
        }));
        Ok(())
    }

    /// The display name of the person with public id `id`, as far as `room` tells: me, its
    /// members, the other person of a direct conversation, or someone who wrote in it.
    pub fn name_of(&self, room: &str, id: &str) -> Option<String> {
        if self.state.my_id.with(|me| me.as_deref() == Some(id)) {
            return self.state.my_name.get();
        }
        let member = self.state.room_peers.with(|p| {
            p.get(room)?
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.name.clone())
        });
        if member.is_some() {
            return member;
        }
        if self.partner(room).as_deref() == Some(id) {
            return self.state.dm_names.with(|n| n.get(room).cloned());
        }
        self.state.messages.with(|list| {
            list.iter()
                .rev()
                .find(|m| m.room == room && m.from == id)
                .map(|m| m.sender.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::handle::tests::{connected, drain};
    use super::*;
    use crate::protocol::{History, Peer, RoomPeers, ServerEvent, Welcome};

    const AT: crate::client::Env = crate::client::Env {
        now_ms: 0.0,
        tab_hidden: false,
    };
    const ME: &str = "0123456789abcdef";

    fn with_messages(chat: &ChatClient) {
        let welcome = Welcome {
            id: ME.into(),
            name: "red-fox".into(),
        };
        chat.state.apply(ServerEvent::Welcome(welcome), AT);
        let m = |id, from: &str, sender: &str, deleted| NewMessage {
            sender: sender.into(),
            message: "hi".into(),
            room: "general".into(),
            id,
            ts: id,
            from: from.into(),
            deleted,
            ..Default::default()
        };
        let messages = vec![
            m(1, ME, "red-fox", false),
            m(2, "ann-id", "blue-ann", false),
            m(3, ME, "red-fox", true),
        ];
        let history = History {
            room: "general".into(),
            messages,
            after: 0,
            latest: 3,
            more: false,
        };
        chat.state.apply(ServerEvent::History(history), AT);
    }

    #[test]
    fn edits_and_reactions_are_checked_before_they_go() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            assert!(chat.edit("general", 1, "   ").is_err());
            assert!(chat.error().get_untracked().is_some());
            assert!(chat.react("general", 1, "ok").is_err());
            assert_eq!(drain(&mut commands), []);
            chat.edit("general", 1, " better ").unwrap();
            chat.react("general", 1, "👍").unwrap();
            chat.delete("general", 1);
            assert_eq!(
                drain(&mut commands),
                [
                    Command::Edit(Edit {
                        room: "general".into(),
                        id: 1,
                        text: "better".into()
                    }),
                    Command::React(React {
                        room: "general".into(),
                        id: 1,
                        emoji: "👍".into()
                    }),
                    Command::Delete(Delete {
                        room: "general".into(),
                        id: 1
                    }),
                ]
            );
        });
    }

    #[test]
    fn up_arrow_edits_my_last_message_that_is_not_deleted() {
        Owner::new().with(|| {
            let (chat, _commands) = connected();
            assert_eq!(chat.my_last("general"), None, "not before I know who I am");
            with_messages(&chat);
            assert_eq!(chat.my_last("general").map(|m| m.id), Some(1));
            assert_eq!(chat.my_last("rust"), None);
            assert_eq!(
                chat.message("general", 2).map(|m| m.sender).as_deref(),
                Some("blue-ann")
            );
            assert_eq!(chat.message("general", 9), None);
        });
    }

    #[test]
    fn reactors_are_named_from_me_the_members_or_the_messages() {
        Owner::new().with(|| {
            let (chat, _commands) = connected();
            with_messages(&chat);
            let peers = RoomPeers {
                room: "general".into(),
                peers: vec![Peer {
                    id: "cat-id".into(),
                    name: "green-cat".into(),
                }],
                total: 1,
            };
            chat.state.apply(ServerEvent::RoomPeers(peers), AT);
            assert_eq!(chat.name_of("general", ME).as_deref(), Some("red-fox"));
            assert_eq!(
                chat.name_of("general", "cat-id").as_deref(),
                Some("green-cat")
            );
            assert_eq!(
                chat.name_of("general", "ann-id").as_deref(),
                Some("blue-ann")
            );
            assert_eq!(chat.name_of("general", "nobody"), None);
        });
    }

    #[test]
    fn older_pages_are_not_asked_for_once_the_beginning_is_held() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            with_messages(&chat);
            chat.load_older("general");
            assert_eq!(drain(&mut commands), [], "message 1 is held");
            chat.load_older("rust");
            assert_eq!(drain(&mut commands), [Command::Older("rust".into())]);
        });
    }
}
